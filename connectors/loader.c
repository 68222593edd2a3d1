/* Built-in and dlopen'ed connectors. */
#include "connectors/loader.h"

#include "connectors/providers.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bl_connector_lib {
    void *dl; /* NULL for a built-in */
    const bl_connector_table *table;
};

int bl_connector_table_check(const bl_connector_table *t, const char *expected_name, const char *where,
                             bl_err *err)
{
    if (!t)
        return bl_err_set(err, BL_EINVAL, "connector %s (%s): entry returned no table", expected_name, where);
    if (t->abi_version != BL_CONNECTOR_ABI_VERSION)
        return bl_err_set(err, BL_EINVAL,
                          "connector %s (%s): ABI version mismatch: expected %d, found %u; rebuild it "
                          "against this busline's include/busline/connector.h",
                          expected_name, where, BL_CONNECTOR_ABI_VERSION, (unsigned)t->abi_version);
    if (t->struct_size < sizeof(bl_connector_table))
        return bl_err_set(err, BL_EINVAL, "connector %s (%s): table size mismatch: expected %zu, found %u",
                          expected_name, where, sizeof(bl_connector_table), (unsigned)t->struct_size);
    if (!t->name || strcmp(t->name, expected_name) != 0)
        return bl_err_set(err, BL_EINVAL, "connector %s (%s): table names itself \"%s\"", expected_name,
                          where, t->name ? t->name : "(null)");
    if (!t->init || !t->handle || !t->shutdown || !t->actions)
        return bl_err_set(err, BL_EINVAL, "connector %s (%s): init, handle, shutdown and actions are required",
                          expected_name, where);
    return 0;
}

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= BL_CONNECTOR_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

const char *bl_connector_builtin_name(size_t i)
{
    const bl_saas_provider *p = bl_saas_provider_at(i);
    return p ? p->oauth.name : NULL;
}

bl_connector_lib *bl_connector_open(const char *name, const char *dir, bl_err *err)
{
    if (!name_ok(name)) {
        bl_err_set(err, BL_EINVAL, "connector name \"%s\": use 1-63 of [a-z0-9_-]", name);
        return NULL;
    }
    bl_connector_lib *lib = calloc(1, sizeof *lib);
    if (!lib) {
        bl_err_set(err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    const bl_saas_provider *builtin = bl_saas_provider_find(name);
    if (builtin) {
        lib->table = builtin->connector();
        if (bl_connector_table_check(lib->table, name, "built-in", err) != 0)
            goto fail;
        return lib;
    }
    if (!dir || !*dir) {
        bl_err_set(err, BL_ENOTFOUND, "connector %s: not built in, and BUSLINE_CONNECTOR_DIR is not set", name);
        goto fail;
    }
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s.so", dir, name) >= (int)sizeof path) {
        bl_err_set(err, BL_EINVAL, "connector %s: path too long", name);
        goto fail;
    }
    lib->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib->dl) {
        const char *why = dlerror();
        bl_err_set(err, BL_ENOTFOUND, "connector %s: dlopen %s: %s", name, path, why ? why : "failed");
        goto fail;
    }
    dlerror();
    void *sym = dlsym(lib->dl, BL_CONNECTOR_ENTRY_SYMBOL);
    if (!sym) {
        const char *why = dlerror();
        bl_err_set(err, BL_EINVAL, "connector %s: %s has no symbol %s: %s", name, path, BL_CONNECTOR_ENTRY_SYMBOL,
                   why ? why : "missing");
        goto fail;
    }
    bl_connector_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* object pointer to function pointer, as POSIX allows */
    lib->table = entry();
    if (bl_connector_table_check(lib->table, name, path, err) != 0)
        goto fail;
    return lib;
fail:
    bl_connector_lib_close(lib);
    return NULL;
}

const bl_connector_table *bl_connector_lib_table(const bl_connector_lib *lib)
{
    return lib->table;
}

int bl_connector_lib_external(const bl_connector_lib *lib)
{
    return lib->dl != NULL;
}

void bl_connector_lib_close(bl_connector_lib *lib)
{
    if (!lib)
        return;
    if (lib->dl)
        dlclose(lib->dl);
    free(lib);
}
