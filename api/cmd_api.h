/* busline api: serve the HTTP API, or an operator action:
 *   busline api [--port N --host H]
 *   busline api create-org --name N --plan demo|pro|enterprise
 *   busline api create-admin-key --org ID [--name N]
 *   busline api create-user --org ID --email E --password-file F [--permission P] */
#ifndef BUSLINE_API_CMD_API_H
#define BUSLINE_API_CMD_API_H

int bl_cmd_api(int argc, char **argv);

#endif
