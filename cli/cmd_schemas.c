/* busline schemas register | check FILE | list: the catalog's topic schemas
 * against the schema registry at BUSLINE_REGISTRY_URL. */
#include "cli/commands.h"
#include "core/role.h"
#include "schemas/catalog.h"
#include "schemas/registry_client.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bl_setting schemas_settings[] = {
    {.name = "registry_url", .env = "BUSLINE_REGISTRY_URL", .flag = "registry-url",
     .type = BL_SETTING_STRING, .def = "http://127.0.0.1:8081", .help = "schema registry base URL"},
    {.name = "schemas_dir", .flag = "schemas-dir", .type = BL_SETTING_STRING,
     .help = "folder of .avsc files (default: $BUSLINE_SCHEMAS_DIR, else the source tree's schemas/)"},
    {.name = "subject", .flag = "subject", .type = BL_SETTING_STRING,
     .help = "check: the subject to check a file outside the catalog against"},
    {0},
};

static const char *usage =
    "usage: busline schemas register | check FILE | list [options]\n"
    "  register    registers every topic schema of the catalog (idempotent)\n"
    "  check FILE  checks FILE against the registry: an .avsc of the catalog folder\n"
    "              (its topic's schema is re-assembled with the file as it is now), or\n"
    "              any schema JSON with --subject; exits 1 when incompatible\n"
    "  list        subjects with their versions and ids\n";

static bl_catalog *load_catalog(const bl_config *cfg, bl_err *err)
{
    const char *dir = bl_config_str(cfg, "schemas_dir");
    return bl_catalog_load(dir ? dir : bl_catalog_default_dir(), err);
}

static int cmd_register(const bl_config *cfg, bl_registry_client *rc)
{
    bl_err err = {0};
    bl_catalog *cat = load_catalog(cfg, &err);
    if (!cat) {
        fprintf(stderr, "busline schemas register: %s\n", err.msg);
        return 1;
    }
    int code = 0;
    for (size_t i = 0; i < bl_catalog_topic_count(cat); i++) {
        const bl_catalog_topic *t = bl_catalog_topic_at(cat, i);
        int id = 0;
        bl_registry_version latest = {0};
        if (bl_registry_client_register(rc, t->subject, t->schema_json, &id, &err) != 0 ||
            bl_registry_client_get(rc, t->subject, BL_REG_LATEST, &latest, &err) != 0) {
            fprintf(stderr, "%s: %s\n", t->subject, err.msg);
            code = 1;
            continue;
        }
        printf("%s -> id %d, version %d\n", t->subject, id, latest.id == id ? latest.version : 0);
        bl_registry_version_clear(&latest);
    }
    bl_catalog_free(cat);
    return code;
}

/* Reads the whole of path into a new string, or NULL with err. */
static char *read_text(const char *path, bl_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        bl_err_set(err, BL_EIO, "%s: cannot open", path);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len - 1, f);
        if (len < cap - 1 || cap >= (64u << 20))
            break;
        char *grown = realloc(buf, cap * 2);
        if (!grown) {
            free(buf);
            buf = NULL;
        } else {
            buf = grown;
            cap *= 2;
        }
    }
    int failed = ferror(f) || !buf || len >= cap - 1;
    fclose(f);
    if (failed) {
        free(buf);
        bl_err_set(err, BL_EIO, "%s: cannot read (or larger than 64 MiB)", path);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

/* The catalog topic whose message file is path, or NULL. */
static const bl_catalog_topic *topic_of_file(const bl_catalog *cat, const char *path)
{
    char want[PATH_MAX], have[PATH_MAX];
    if (!realpath(path, want))
        return NULL;
    for (size_t i = 0; i < bl_catalog_msg_count(cat); i++) {
        const bl_catalog_msg *m = bl_catalog_msg_at(cat, i);
        if (realpath(m->path, have) && strcmp(have, want) == 0)
            return bl_catalog_topic_find(cat, m->topic, NULL);
    }
    return NULL;
}

static int cmd_check(const bl_config *cfg, bl_registry_client *rc, const char *file)
{
    bl_err err = {0};
    bl_catalog *cat = NULL;
    char *text = NULL;
    const char *subject = bl_config_str(cfg, "subject"), *schema = NULL;
    size_t flen = strlen(file);
    int code = 2;
    if (!subject && flen > 5 && strcmp(file + flen - 5, ".avsc") == 0) {
        /* The catalog is loaded from disk, so it assembles the file as edited. */
        if (!(cat = load_catalog(cfg, &err)))
            goto fail;
        const bl_catalog_topic *t = topic_of_file(cat, file);
        if (!t) {
            bl_err_set(&err, BL_EINVAL, "%s is not a message file of the catalog; pass --subject", file);
            goto fail;
        }
        subject = t->subject;
        schema = t->schema_json;
    } else if (!subject) {
        bl_err_set(&err, BL_EINVAL, "%s: a schema outside the catalog needs --subject", file);
        goto fail;
    } else {
        if (!(text = read_text(file, &err)))
            goto fail;
        schema = text;
    }
    bool compatible = false;
    bl_registry_strings why = {0};
    if (bl_registry_client_check(rc, subject, BL_REG_LATEST, schema, &compatible, &why, &err) != 0) {
        if (err.code != BL_REG_SUBJECT_NOT_FOUND)
            goto fail;
        printf("%s: not registered yet; compatible\n", subject);
        code = 0;
        goto done;
    }
    printf("%s: %s\n", subject, compatible ? "compatible" : "INCOMPATIBLE");
    for (size_t i = 0; i < why.count; i++)
        printf("  - %s\n", why.items[i]);
    bl_registry_strings_clear(&why);
    code = compatible ? 0 : 1;
    goto done;
fail:
    fprintf(stderr, "busline schemas check: %s\n", err.msg);
done:
    free(text);
    bl_catalog_free(cat);
    return code;
}

static int cmd_list(bl_registry_client *rc)
{
    bl_err err = {0};
    bl_registry_strings subjects = {0};
    if (bl_registry_client_subjects(rc, &subjects, &err) != 0) {
        fprintf(stderr, "busline schemas list: %s\n", err.msg);
        return 1;
    }
    int code = 0;
    for (size_t i = 0; i < subjects.count; i++) {
        bl_registry_versions versions = {0};
        if (bl_registry_client_versions(rc, subjects.items[i], &versions, &err) != 0) {
            fprintf(stderr, "%s: %s\n", subjects.items[i], err.msg);
            code = 1;
            continue;
        }
        for (size_t j = 0; j < versions.count; j++) {
            bl_registry_version v = {0};
            if (bl_registry_client_get(rc, subjects.items[i], versions.versions[j], &v, &err) != 0) {
                fprintf(stderr, "%s: %s\n", subjects.items[i], err.msg);
                code = 1;
                continue;
            }
            printf("%s\tversion %d\tid %d\n", v.subject, v.version, v.id);
            bl_registry_version_clear(&v);
        }
        bl_registry_versions_clear(&versions);
    }
    bl_registry_strings_clear(&subjects);
    return code;
}

int bl_cmd_schemas(int argc, char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start("schemas", schemas_settings, argc, argv, &code);
    if (!cfg)
        return code;
    int nargs = 0;
    char *const *args = bl_config_args(cfg, &nargs);
    bl_err err = {0};
    bl_registry_client *rc = bl_registry_client_new(bl_config_str(cfg, "registry_url"), 0, &err);
    if (!rc) {
        fprintf(stderr, "busline schemas: %s\n", err.msg);
        code = 2;
    } else if (nargs == 1 && strcmp(args[0], "register") == 0) {
        code = cmd_register(cfg, rc);
    } else if (nargs == 2 && strcmp(args[0], "check") == 0) {
        code = cmd_check(cfg, rc, args[1]);
    } else if (nargs == 1 && strcmp(args[0], "list") == 0) {
        code = cmd_list(rc);
    } else {
        fputs(usage, stderr);
        code = 2;
    }
    bl_registry_client_free(rc);
    bl_config_free(cfg);
    return code;
}
