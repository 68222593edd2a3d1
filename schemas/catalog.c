#include "schemas/catalog.h"

#include "schemas/catalog_assemble.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Schemas are small; anything bigger is a mistake, not a schema. */
#define CATALOG_FILE_MAX (1024 * 1024)
#define CATALOG_NAME_MAX 256

static const char *const kind_dirs[] = {"events", "commands"};
static const char *const envelope_files[] = {"envelope.event.avsc", "envelope.command.avsc"};

struct bl_catalog {
    bl_catalog_topic *topics;
    size_t n_topics;
    bl_catalog_msg *msgs;
    json_t **records; /* parsed data record of msgs[i], dropped after assembly */
    size_t n_msgs, cap_msgs;
    json_t *envelopes[2];
};

const char *bl_catalog_default_dir(void)
{
    const char *dir = getenv("BUSLINE_SCHEMAS_DIR");
    return dir && dir[0] ? dir : BUSLINE_SOURCE_DIR "/schemas";
}

/* Joins "<a><sep><b>" into a new string, or NULL when out of memory. */
static char *join(const char *a, const char *sep, const char *b)
{
    char *s = NULL;
    return asprintf(&s, "%s%s%s", a, sep, b) < 0 ? NULL : s;
}

static int read_text_file(const char *path, char **out, size_t *out_len, bl_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return bl_err_set(err, BL_EIO, "catalog: %s: %s", path, strerror(errno));
    char *buf = malloc(CATALOG_FILE_MAX + 1);
    size_t len = buf ? fread(buf, 1, CATALOG_FILE_MAX + 1, fp) : 0;
    int rc = -1;
    if (!buf)
        bl_err_set(err, BL_ENOMEM, "catalog: out of memory");
    else if (ferror(fp))
        bl_err_set(err, BL_EIO, "catalog: %s: read failed", path);
    else if (len > CATALOG_FILE_MAX)
        bl_err_set(err, BL_EINVAL, "catalog: %s: larger than %d bytes", path, CATALOG_FILE_MAX);
    else
        rc = 0;
    fclose(fp);
    if (rc != 0) {
        free(buf);
        return -1;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

/* Parses one .avsc: avro-c must accept it on its own, and it must be a record. */
static json_t *load_record_file(const char *path, bl_err *err)
{
    char *text = NULL;
    size_t len = 0;
    if (read_text_file(path, &text, &len, err) != 0)
        return NULL;
    json_t *doc = NULL;
    avro_schema_t schema = NULL;
    if (avro_schema_from_json_length(text, len, &schema) != 0) {
        bl_err_set(err, BL_EINVAL, "catalog: %s: %s", path, avro_strerror());
        goto done;
    }
    json_error_t jerr;
    doc = json_loadb(text, len, 0, &jerr);
    if (!doc) {
        bl_err_set(err, BL_EINVAL, "catalog: %s:%d: %s", path, jerr.line, jerr.text);
        goto done;
    }
    const char *type = json_string_value(json_object_get(doc, "type"));
    if (!type || strcmp(type, "record") != 0) {
        bl_err_set(err, BL_EINVAL, "catalog: %s: top-level type must be a record", path);
        json_decref(doc);
        doc = NULL;
    }
done:
    if (schema)
        avro_schema_decref(schema);
    free(text);
    return doc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Lists dir's entries that are directories (want_dirs) or regular files ending
 * in ".avsc", skipping hidden ones, sorted by strcmp so order never depends on
 * the locale or the file system. */
static int list_dir(const char *dir, int want_dirs, char ***out, size_t *out_n, bl_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return bl_err_set(err, BL_EIO, "catalog: %s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        const char *name = ent->d_name;
        size_t len = strlen(name);
        if (name[0] == '.')
            continue;
        char path[4096];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
            bl_err_set(err, BL_EINVAL, "catalog: %s/%s: path too long", dir, name);
            goto done;
        }
        if (stat(path, &st) != 0) {
            bl_err_set(err, BL_EIO, "catalog: %s: %s", path, strerror(errno));
            goto done;
        }
        int is_avsc = S_ISREG(st.st_mode) && len > 5 && strcmp(name + len - 5, ".avsc") == 0;
        if (want_dirs ? !S_ISDIR(st.st_mode) : !is_avsc)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **grown = realloc(names, ncap * sizeof *names);
            if (!grown) {
                bl_err_set(err, BL_ENOMEM, "catalog: out of memory");
                goto done;
            }
            names = grown;
            cap = ncap;
        }
        if (!(names[n] = strdup(name))) {
            bl_err_set(err, BL_ENOMEM, "catalog: out of memory");
            goto done;
        }
        n++;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_names);
    *out = names;
    *out_n = n;
    names = NULL;
    n = 0;
    rc = 0;
done:
    closedir(d);
    free_names(names, n);
    return rc;
}

/* Domains and types become topic names and Avro names: keep them plain. */
static int is_plain_name(const char *s, int dots_allowed)
{
    if (!s[0] || s[0] == '.' || strlen(s) >= CATALOG_NAME_MAX)
        return 0;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_' ||
              (dots_allowed && *s == '.')))
            return 0;
    return 1;
}

/* "intervention" -> "Intervention", "field_service" -> "FieldService". */
static void camel_case(const char *in, size_t in_len, char *out, size_t out_len)
{
    size_t o = 0;
    int upper = 1;
    for (size_t i = 0; i < in_len && in[i] && o + 1 < out_len; i++) {
        if (in[i] == '_') {
            upper = 1;
            continue;
        }
        out[o++] = upper ? (char)toupper((unsigned char)in[i]) : in[i];
        upper = 0;
    }
    out[o] = '\0';
}

static bl_catalog_topic *topic_for(bl_catalog *cat, bl_msg_kind kind, const char *domain,
                                   const char *type)
{
    char name[2 * CATALOG_NAME_MAX + 16];
    if (kind == BL_MSG_EVENT)
        snprintf(name, sizeof name, "events.%s.%.*s", domain, (int)strcspn(type, "."), type);
    else
        snprintf(name, sizeof name, "commands.%s", domain);
    for (size_t i = 0; i < cat->n_topics; i++)
        if (strcmp(cat->topics[i].name, name) == 0)
            return &cat->topics[i];
    bl_catalog_topic *grown = realloc(cat->topics, (cat->n_topics + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    cat->topics = grown;
    bl_catalog_topic *t = &cat->topics[cat->n_topics];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->name = strdup(name);
    t->subject = join(name, "-", "value");
    t->domain = strdup(domain);
    cat->n_topics++;
    return t->name && t->subject && t->domain ? t : NULL;
}

/* Reads one message file and records it with its topic and branch. */
static int add_message(bl_catalog *cat, bl_msg_kind kind, const char *domain, const char *dir,
                       const char *file, bl_err *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
        return bl_err_set(err, BL_EINVAL, "catalog: %s/%s: path too long", dir, file);
    char type[CATALOG_NAME_MAX];
    int type_len = (int)(strlen(file) - strlen(".avsc"));
    snprintf(type, sizeof type, "%.*s", type_len, file);
    if (type_len >= CATALOG_NAME_MAX || !is_plain_name(type, 1) || !strchr(type, '.'))
        return bl_err_set(err, BL_EINVAL,
                          "catalog: %s: file name must be <entity>.<what>.avsc in [a-z0-9_]", path);

    json_t *record = load_record_file(path, err);
    if (!record)
        return -1;
    char want_ns[CATALOG_NAME_MAX + 32];
    snprintf(want_ns, sizeof want_ns, "busline.%s.%s", kind_dirs[kind], domain);
    const char *ns = json_string_value(json_object_get(record, "namespace"));
    const char *name = json_string_value(json_object_get(record, "name"));
    if (!ns || strcmp(ns, want_ns) != 0 || !name || strchr(name, '.')) {
        json_decref(record);
        return bl_err_set(err, BL_EINVAL, "catalog: %s: record must have a plain name and namespace %s",
                          path, want_ns);
    }

    if (cat->n_msgs == cat->cap_msgs) {
        size_t ncap = cat->cap_msgs ? cat->cap_msgs * 2 : 64;
        bl_catalog_msg *msgs = realloc(cat->msgs, ncap * sizeof *msgs);
        if (msgs)
            cat->msgs = msgs;
        json_t **records = realloc(cat->records, ncap * sizeof *records);
        if (records)
            cat->records = records;
        if (!msgs || !records) {
            json_decref(record);
            return bl_err_set(err, BL_ENOMEM, "catalog: out of memory");
        }
        cat->cap_msgs = ncap;
    }
    bl_catalog_topic *topic = topic_for(cat, kind, domain, type);
    bl_catalog_msg *m = &cat->msgs[cat->n_msgs];
    cat->records[cat->n_msgs] = record;
    memset(m, 0, sizeof *m);
    cat->n_msgs++;
    m->kind = kind;
    m->domain = strdup(domain);
    m->type = strdup(type);
    m->record_name = join(ns, ".", name);
    m->path = strdup(path);
    if (!topic || !m->domain || !m->type || !m->record_name || !m->path)
        return bl_err_set(err, BL_ENOMEM, "catalog: out of memory");
    m->topic = strdup(topic->name);
    if (!m->topic)
        return bl_err_set(err, BL_ENOMEM, "catalog: out of memory");
    m->branch = (int)topic->msg_count++;
    return 0;
}

static int load_kind(bl_catalog *cat, const char *root, bl_msg_kind kind, bl_err *err)
{
    char kind_dir[4096];
    if (snprintf(kind_dir, sizeof kind_dir, "%s/%s", root, kind_dirs[kind]) >= (int)sizeof kind_dir)
        return bl_err_set(err, BL_EINVAL, "catalog: %s: path too long", root);
    char **domains = NULL;
    size_t n_domains = 0;
    if (list_dir(kind_dir, 1, &domains, &n_domains, err) != 0)
        return -1;
    int rc = 0;
    for (size_t d = 0; d < n_domains && rc == 0; d++) {
        if (!is_plain_name(domains[d], 0)) {
            rc = bl_err_set(err, BL_EINVAL, "catalog: %s/%s: domain folder must be named [a-z0-9_]",
                            kind_dir, domains[d]);
            break;
        }
        char domain_dir[4096 + CATALOG_NAME_MAX];
        snprintf(domain_dir, sizeof domain_dir, "%s/%s", kind_dir, domains[d]);
        char **files = NULL;
        size_t n_files = 0;
        rc = list_dir(domain_dir, 0, &files, &n_files, err);
        for (size_t f = 0; f < n_files && rc == 0; f++)
            rc = add_message(cat, kind, domains[d], domain_dir, files[f], err);
        free_names(files, n_files);
    }
    free_names(domains, n_domains);
    return rc;
}

/* Assembles, prints and re-parses one topic's schema. */
static int build_topic(bl_catalog *cat, bl_catalog_topic *t, bl_err *err)
{
    json_t **records = malloc(t->msg_count * sizeof *records);
    const char **files = malloc(t->msg_count * sizeof *files);
    json_t *assembled = NULL;
    int rc = -1;
    if (!records || !files) {
        bl_err_set(err, BL_ENOMEM, "catalog: out of memory");
        goto done;
    }
    size_t n = 0;
    for (size_t i = 0; i < cat->n_msgs; i++)
        if (strcmp(cat->msgs[i].topic, t->name) == 0) {
            records[n] = cat->records[i];
            files[n++] = cat->msgs[i].path;
        }

    char ns[CATALOG_NAME_MAX + 32], name[2 * CATALOG_NAME_MAX];
    snprintf(ns, sizeof ns, "busline.%s.%s", kind_dirs[t->kind], t->domain);
    if (t->kind == BL_MSG_EVENT) {
        const char *entity = t->name + strlen("events.") + strlen(t->domain) + 1;
        camel_case(entity, strlen(entity), name, sizeof name - 8);
        strcat(name, "Event");
    } else {
        camel_case(t->domain, strlen(t->domain), name, sizeof name - 8);
        strcat(name, "Command");
    }
    assembled = bl_catalog_assemble(cat->envelopes[t->kind], ns, name, records, files, n, err);
    if (!assembled)
        goto done;
    char *text = json_dumps(assembled, JSON_COMPACT);
    if (!text) {
        bl_err_set(err, BL_ENOMEM, "catalog: out of memory");
        goto done;
    }
    t->schema_json = text;
    if (avro_schema_from_json_length(text, strlen(text), &t->schema) != 0) {
        t->schema = NULL;
        bl_err_set(err, BL_EINVAL, "catalog: assembled schema of topic %s: %s", t->name,
                   avro_strerror());
        goto done;
    }
    rc = 0;
done:
    json_decref(assembled);
    free(records);
    free(files);
    return rc;
}

static int cmp_topics(const void *a, const void *b)
{
    return strcmp(((const bl_catalog_topic *)a)->name, ((const bl_catalog_topic *)b)->name);
}

/* Parsed records are only needed to assemble; drop them once done. */
static void drop_load_state(bl_catalog *cat)
{
    for (size_t i = 0; cat->records && i < cat->n_msgs; i++)
        json_decref(cat->records[i]);
    free(cat->records);
    cat->records = NULL;
    for (size_t k = 0; k < 2; k++) {
        json_decref(cat->envelopes[k]);
        cat->envelopes[k] = NULL;
    }
}

bl_catalog *bl_catalog_load(const char *dir, bl_err *err)
{
    bl_catalog *cat = calloc(1, sizeof *cat);
    if (!cat)
        return bl_err_set(err, BL_ENOMEM, "catalog: out of memory"), NULL;
    for (size_t k = 0; k < 2; k++) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, envelope_files[k]) >= (int)sizeof path) {
            bl_err_set(err, BL_EINVAL, "catalog: %s: path too long", dir);
            goto fail;
        }
        if (!(cat->envelopes[k] = load_record_file(path, err)))
            goto fail;
    }
    if (load_kind(cat, dir, BL_MSG_EVENT, err) != 0 || load_kind(cat, dir, BL_MSG_COMMAND, err) != 0)
        goto fail;
    for (size_t i = 0; i < cat->n_topics; i++)
        if (build_topic(cat, &cat->topics[i], err) != 0)
            goto fail;
    if (cat->n_topics > 1)
        qsort(cat->topics, cat->n_topics, sizeof *cat->topics, cmp_topics);
    drop_load_state(cat);
    return cat;
fail:
    bl_catalog_free(cat);
    return NULL;
}

void bl_catalog_free(bl_catalog *cat)
{
    if (!cat)
        return;
    drop_load_state(cat);
    for (size_t i = 0; i < cat->n_topics; i++) {
        bl_catalog_topic *t = &cat->topics[i];
        free((char *)t->name);
        free((char *)t->subject);
        free((char *)t->schema_json);
        free((char *)t->domain);
        if (t->schema)
            avro_schema_decref(t->schema);
    }
    free(cat->topics);
    for (size_t i = 0; i < cat->n_msgs; i++) {
        bl_catalog_msg *m = &cat->msgs[i];
        free((char *)m->domain);
        free((char *)m->type);
        free((char *)m->topic);
        free((char *)m->record_name);
        free((char *)m->path);
    }
    free(cat->msgs);
    free(cat);
}

size_t bl_catalog_topic_count(const bl_catalog *cat)
{
    return cat->n_topics;
}

const bl_catalog_topic *bl_catalog_topic_at(const bl_catalog *cat, size_t i)
{
    return i < cat->n_topics ? &cat->topics[i] : NULL;
}

const bl_catalog_topic *bl_catalog_topic_find(const bl_catalog *cat, const char *name, bl_err *err)
{
    for (size_t i = 0; i < cat->n_topics; i++)
        if (strcmp(cat->topics[i].name, name) == 0)
            return &cat->topics[i];
    bl_err_set(err, BL_ENOTFOUND, "catalog: no topic %s", name);
    return NULL;
}

size_t bl_catalog_msg_count(const bl_catalog *cat)
{
    return cat->n_msgs;
}

const bl_catalog_msg *bl_catalog_msg_at(const bl_catalog *cat, size_t i)
{
    return i < cat->n_msgs ? &cat->msgs[i] : NULL;
}

size_t bl_catalog_msg_count_kind(const bl_catalog *cat, bl_msg_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < cat->n_msgs; i++)
        n += cat->msgs[i].kind == kind;
    return n;
}

const bl_catalog_msg *bl_catalog_find(const bl_catalog *cat, bl_msg_kind kind,
                                      const char *domain, const char *type, bl_err *err)
{
    const bl_catalog_msg *found = NULL;
    const char *what = kind == BL_MSG_EVENT ? "event" : "command";
    for (size_t i = 0; i < cat->n_msgs; i++) {
        const bl_catalog_msg *m = &cat->msgs[i];
        if (m->kind != kind || strcmp(m->type, type) != 0 || (domain && strcmp(m->domain, domain) != 0))
            continue;
        if (found) {
            bl_err_set(err, BL_EINVAL, "catalog: %s type %s exists in domains %s and %s; name the domain",
                       what, type, found->domain, m->domain);
            return NULL;
        }
        found = m;
    }
    if (!found)
        bl_err_set(err, BL_ENOTFOUND, "catalog: no %s type %s%s%s", what, type,
                   domain ? " in domain " : "", domain ? domain : "");
    return found;
}
