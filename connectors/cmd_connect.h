/* busline connect <connector>: runs one connector (built in: jira, slack;
 * or BUSLINE_CONNECTOR_DIR/<name>.so) over the consumer runtime. */
#ifndef BUSLINE_CONNECTORS_CMD_CONNECT_H
#define BUSLINE_CONNECTORS_CMD_CONNECT_H

int bl_cmd_connect(int argc, char **argv);

#endif
