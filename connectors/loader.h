/* Finding a connector by name: a built-in one (jira, slack), or a shared
 * object <dir>/<name>.so exporting busline_connector_entry (dir:
 * BUSLINE_CONNECTOR_DIR). A table whose ABI version or size does not fit
 * this host is refused with the name, the version expected and the one
 * found. */
#ifndef BUSLINE_CONNECTORS_LOADER_H
#define BUSLINE_CONNECTORS_LOADER_H

#include "busline/connector.h"
#include "core/err.h"

#define BL_CONNECTOR_NAME_MAX 64

typedef struct bl_connector_lib bl_connector_lib;

/* Opens connector name: built-in first, else <dir>/<name>.so (dir may be
 * NULL: built-ins only). Names are [a-z0-9_-], 1..63 bytes. Returns the
 * library (close with bl_connector_lib_close after every instance is shut
 * down), or NULL with err: BL_ENOTFOUND, or BL_EINVAL for dlopen/dlsym
 * failures and ABI mismatches. */
bl_connector_lib *bl_connector_open(const char *name, const char *dir, bl_err *err);

/* The name of built-in connector i (0, 1, ...), or NULL past the last. */
const char *bl_connector_builtin_name(size_t i);

/* The connector's table (borrowed from lib). */
const bl_connector_table *bl_connector_lib_table(const bl_connector_lib *lib);

/* 1 when lib came from a shared object. */
int bl_connector_lib_external(const bl_connector_lib *lib);

/* dlcloses a shared object; accepts NULL. */
void bl_connector_lib_close(bl_connector_lib *lib);

/* Checks a table against this host: ABI version, struct size, name equal
 * to expected_name, required functions present. where names its origin in
 * errors. Returns 0, or -1 with err (BL_EINVAL). */
int bl_connector_table_check(const bl_connector_table *t, const char *expected_name, const char *where,
                             bl_err *err);

#endif
