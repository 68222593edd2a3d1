/* Atlassian Document Format for plain text: what Jira Cloud REST v3 wants
 * in an issue's description and a comment's body. */
#ifndef BUSLINE_CONNECTORS_JIRA_ADF_H
#define BUSLINE_CONNECTORS_JIRA_ADF_H

#include <jansson.h>

/* Builds {"type":"doc","version":1,"content":[paragraphs]} from text: a
 * blank line starts a new paragraph, a single newline is a hardBreak, and
 * text nodes are never empty (an empty text gives an empty paragraph).
 * Returns a new reference, or NULL when out of memory. */
json_t *bl_adf_from_text(const char *text);

#endif
