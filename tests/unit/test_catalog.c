#include "schemas/catalog.h"
#include "tests/support/test.h"

#include <ftw.h>
#include <jansson.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* What the schemas folder holds; a file added or deleted must change these. */
#define EVENT_TYPES 43 /* attendance: event.created|updated|cancelled; ops: alert.opened|resolved; webhook: endpoint.*, message.attempt.* */
#define COMMAND_TYPES 31 /* attendance: event.create|update|cancel, event.record_attendance */
#define EVENT_TOPICS 18
#define COMMAND_TOPICS 3

static const char *schemas_dir(void)
{
    return BUSLINE_SOURCE_DIR "/schemas";
}

static bl_catalog *load_source_catalog(void)
{
    bl_err err = {0};
    bl_catalog *cat = bl_catalog_load(schemas_dir(), &err);
    if (!cat)
        fprintf(stderr, "  load: %s\n", err.msg);
    return cat;
}

static void source_catalog_has_every_type_written(void)
{
    bl_catalog *cat = load_source_catalog();
    REQUIRE(cat);
    CHECK_EQ_INT(bl_catalog_msg_count_kind(cat, BL_MSG_EVENT), EVENT_TYPES);
    CHECK_EQ_INT(bl_catalog_msg_count_kind(cat, BL_MSG_COMMAND), COMMAND_TYPES);
    CHECK_EQ_INT(bl_catalog_msg_count(cat), EVENT_TYPES + COMMAND_TYPES);
    CHECK_EQ_INT(bl_catalog_topic_count(cat), EVENT_TOPICS + COMMAND_TOPICS);
    size_t branches = 0;
    for (size_t i = 0; i < bl_catalog_topic_count(cat); i++)
        branches += bl_catalog_topic_at(cat, i)->msg_count;
    CHECK_EQ_INT(branches, EVENT_TYPES + COMMAND_TYPES);
    CHECK(bl_catalog_topic_at(cat, bl_catalog_topic_count(cat)) == NULL);
    CHECK(bl_catalog_msg_at(cat, bl_catalog_msg_count(cat)) == NULL);
    bl_catalog_free(cat);
}

static int parses_with_avro(const char *text, size_t len)
{
    avro_schema_t schema = NULL;
    if (avro_schema_from_json_length(text, len, &schema) != 0) {
        fprintf(stderr, "  avro: %s\n", avro_strerror());
        return 0;
    }
    avro_schema_decref(schema);
    return 1;
}

static int file_parses_with_avro(const char *path)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    int ok = text && parses_with_avro(text, strlen(text));
    if (!ok)
        fprintf(stderr, "  not a valid schema: %s\n", path);
    free(text);
    json_decref(doc);
    return ok;
}

static void every_avsc_file_parses_on_its_own(void)
{
    bl_catalog *cat = load_source_catalog();
    REQUIRE(cat);
    CHECK(file_parses_with_avro(BUSLINE_SOURCE_DIR "/schemas/envelope.event.avsc"));
    CHECK(file_parses_with_avro(BUSLINE_SOURCE_DIR "/schemas/envelope.command.avsc"));
    for (size_t i = 0; i < bl_catalog_msg_count(cat); i++)
        CHECK(file_parses_with_avro(bl_catalog_msg_at(cat, i)->path));
    bl_catalog_free(cat);
}

static void every_topic_schema_parses_and_is_named_for_its_topic(void)
{
    bl_catalog *cat = load_source_catalog();
    REQUIRE(cat);
    for (size_t i = 0; i < bl_catalog_topic_count(cat); i++) {
        const bl_catalog_topic *t = bl_catalog_topic_at(cat, i);
        CHECK(parses_with_avro(t->schema_json, strlen(t->schema_json)));
        char subject[512];
        snprintf(subject, sizeof subject, "%s-value", t->name);
        CHECK_EQ_STR(t->subject, subject);
        avro_schema_t data = avro_schema_record_field_get(t->schema, "data");
        REQUIRE(data && avro_typeof(data) == AVRO_UNION);
        CHECK_EQ_INT(avro_schema_union_size(data), t->msg_count);
        if (i > 0)
            CHECK(strcmp(bl_catalog_topic_at(cat, i - 1)->name, t->name) < 0);
    }
    const bl_catalog_topic *risk = bl_catalog_topic_find(cat, "events.pmo.risk", NULL);
    REQUIRE(risk);
    CHECK_EQ_STR(avro_schema_name(risk->schema), "RiskEvent");
    CHECK_EQ_STR(avro_schema_namespace(risk->schema), "busline.events.pmo");
    CHECK_EQ_INT(risk->msg_count, 3);
    const bl_catalog_topic *pmo = bl_catalog_topic_find(cat, "commands.pmo", NULL);
    REQUIRE(pmo);
    CHECK_EQ_STR(avro_schema_name(pmo->schema), "PmoCommand");
    CHECK(avro_schema_record_field_get(pmo->schema, "actor") != NULL);
    CHECK(avro_schema_record_field_get(pmo->schema, "idempotency_key") != NULL);
    bl_err err = {0};
    CHECK(bl_catalog_topic_find(cat, "events.pmo.nope", &err) == NULL);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    bl_catalog_free(cat);
}

/* "busline.events.pmo.RiskEscalated" of the topic's data branch. */
static void branch_full_name(const bl_catalog_topic *t, int branch, char *out, size_t len)
{
    avro_schema_t data = avro_schema_record_field_get(t->schema, "data");
    avro_schema_t rec = avro_schema_union_branch(data, branch);
    snprintf(out, len, "%s.%s", rec ? avro_schema_namespace(rec) : "?", rec ? avro_schema_name(rec) : "?");
}

static void lookup_gives_topic_branch_and_record_name(void)
{
    bl_catalog *cat = load_source_catalog();
    REQUIRE(cat);
    bl_err err = {0};
    const bl_catalog_msg *m = bl_catalog_find(cat, BL_MSG_EVENT, NULL, "risk.escalated", &err);
    REQUIRE(m);
    CHECK_EQ_STR(m->topic, "events.pmo.risk");
    CHECK_EQ_STR(m->record_name, "busline.events.pmo.RiskEscalated");
    CHECK_EQ_INT(m->branch, 1); /* risk.created, risk.escalated, risk.resolved */

    m = bl_catalog_find(cat, BL_MSG_COMMAND, "pmo", "risk.create", &err);
    REQUIRE(m);
    CHECK_EQ_STR(m->topic, "commands.pmo");
    CHECK_EQ_STR(m->record_name, "busline.commands.pmo.CreateRisk");

    m = bl_catalog_find(cat, BL_MSG_COMMAND, NULL, "intervention.change_status", &err);
    REQUIRE(m);
    CHECK_EQ_STR(m->topic, "commands.fieldservice");

    m = bl_catalog_find(cat, BL_MSG_EVENT, "fieldservice", "report.generated", &err);
    REQUIRE(m);
    CHECK_EQ_STR(m->topic, "events.fieldservice.report");
    CHECK_EQ_STR(m->record_name, "busline.events.fieldservice.ReportGenerated");

    /* Every entry agrees with the assembled schema it points into. */
    for (size_t i = 0; i < bl_catalog_msg_count(cat); i++) {
        const bl_catalog_msg *msg = bl_catalog_msg_at(cat, i);
        const bl_catalog_topic *t = bl_catalog_topic_find(cat, msg->topic, NULL);
        REQUIRE(t);
        char name[512];
        branch_full_name(t, msg->branch, name, sizeof name);
        CHECK_EQ_STR(name, msg->record_name);
        CHECK(bl_catalog_find(cat, msg->kind, msg->domain, msg->type, NULL) == msg);
    }
    bl_catalog_free(cat);
}

static void unknown_or_ambiguous_type_lookup_fails_clearly(void)
{
    bl_catalog *cat = load_source_catalog();
    REQUIRE(cat);
    bl_err err = {0};
    CHECK(bl_catalog_find(cat, BL_MSG_EVENT, NULL, "risk.exploded", &err) == NULL);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    CHECK(strstr(err.msg, "risk.exploded") != NULL);

    /* A command name is not an event type. */
    CHECK(bl_catalog_find(cat, BL_MSG_EVENT, NULL, "risk.create", &err) == NULL);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);

    CHECK(bl_catalog_find(cat, BL_MSG_EVENT, "attendance", "risk.escalated", &err) == NULL);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    CHECK(strstr(err.msg, "attendance") != NULL);

    CHECK(bl_catalog_find(cat, BL_MSG_EVENT, NULL, "report.generated", &err) == NULL);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    CHECK(strstr(err.msg, "fieldservice") != NULL && strstr(err.msg, "pmo") != NULL);
    bl_catalog_free(cat);
}

/* Fills v with a sample of its schema: strings, numbers inside every
 * documented range (percentages 0..100, probabilities 0..1), the last enum
 * symbol (not the default), arrays and maps of two, unions on their first
 * non-null branch. Returns 0 or an avro-c error code. */
static int fill_sample(avro_value_t *v)
{
    avro_schema_t schema = avro_value_get_schema(v);
    avro_value_t child;
    size_t n = 0;
    int rc = 0;
    switch (avro_value_get_type(v)) {
    case AVRO_STRING: return avro_value_set_string(v, "sample text");
    case AVRO_BYTES: return avro_value_set_bytes(v, "\x01\x02", 2);
    case AVRO_INT32: return avro_value_set_int(v, 50);
    case AVRO_INT64: return avro_value_set_long(v, INT64_C(1700000000000));
    case AVRO_FLOAT: return avro_value_set_float(v, 0.25f);
    case AVRO_DOUBLE: return avro_value_set_double(v, 0.5);
    case AVRO_BOOLEAN: return avro_value_set_boolean(v, 1);
    case AVRO_NULL: return avro_value_set_null(v);
    case AVRO_ENUM: return avro_value_set_enum(v, avro_schema_enum_number_of_symbols(schema) - 1);
    case AVRO_FIXED: {
        char buf[64] = {0};
        size_t size = (size_t)avro_schema_fixed_size(schema);
        return size <= sizeof buf ? avro_value_set_fixed(v, buf, size) : EINVAL;
    }
    case AVRO_ARRAY:
        for (int i = 0; i < 2 && rc == 0; i++)
            if ((rc = avro_value_append(v, &child, NULL)) == 0)
                rc = fill_sample(&child);
        return rc;
    case AVRO_MAP:
        for (int i = 0; i < 2 && rc == 0; i++)
            if ((rc = avro_value_add(v, i ? "second" : "first", &child, NULL, NULL)) == 0)
                rc = fill_sample(&child);
        return rc;
    case AVRO_RECORD:
        rc = avro_value_get_size(v, &n);
        for (size_t i = 0; i < n && rc == 0; i++)
            if ((rc = avro_value_get_by_index(v, i, &child, NULL)) == 0)
                rc = fill_sample(&child);
        return rc;
    case AVRO_UNION: {
        int pick = 0;
        for (size_t i = avro_schema_union_size(schema); i-- > 0;)
            if (avro_typeof(avro_schema_union_branch(schema, (int)i)) != AVRO_NULL)
                pick = (int)i;
        if ((rc = avro_value_set_branch(v, pick, &child)) == 0)
            rc = fill_sample(&child);
        return rc;
    }
    default: return EINVAL;
    }
}

/* An envelope for msg: every field sampled, type set to the message type and
 * data on the message's branch. */
static int fill_envelope(avro_value_t *env, const bl_catalog_msg *msg)
{
    avro_value_t field, branch;
    if (fill_sample(env) != 0 || avro_value_get_by_name(env, "type", &field, NULL) != 0 ||
        avro_value_set_string(&field, msg->type) != 0 ||
        avro_value_get_by_name(env, "data", &field, NULL) != 0 ||
        avro_value_set_branch(&field, msg->branch, &branch) != 0)
        return -1;
    return fill_sample(&branch);
}

/* Writes one sample of msg to Avro binary, reads it back and compares. */
static int sample_round_trips(const bl_catalog_topic *t, const bl_catalog_msg *msg)
{
    avro_value_iface_t *iface = avro_generic_class_from_schema(t->schema);
    avro_value_t written = {0}, read = {0};
    avro_writer_t writer = NULL;
    avro_reader_t reader = NULL;
    char *buf = NULL;
    size_t size = 0;
    int ok = 0;
    if (!iface || avro_generic_value_new(iface, &written) != 0 || fill_envelope(&written, msg) != 0 ||
        avro_value_sizeof(&written, &size) != 0 || !(buf = malloc(size ? size : 1)))
        goto done;
    writer = avro_writer_memory(buf, (int64_t)size);
    if (!writer || avro_value_write(writer, &written) != 0 || avro_writer_tell(writer) != (int64_t)size)
        goto done;
    reader = avro_reader_memory(buf, (int64_t)size);
    if (!reader || avro_generic_value_new(iface, &read) != 0 || avro_value_read(reader, &read) != 0)
        goto done;

    avro_value_t data, type_field;
    int disc = -1;
    const char *type = NULL;
    size_t type_len = 0;
    ok = avro_value_equal(&written, &read) &&
         avro_value_get_by_name(&read, "data", &data, NULL) == 0 &&
         avro_value_get_discriminant(&data, &disc) == 0 && disc == msg->branch &&
         avro_value_get_by_name(&read, "type", &type_field, NULL) == 0 &&
         avro_value_get_string(&type_field, &type, &type_len) == 0 && strcmp(type, msg->type) == 0;
done:
    if (!ok)
        fprintf(stderr, "  round trip failed for %s (%s)\n", msg->type, avro_strerror());
    if (reader)
        avro_reader_free(reader);
    if (writer)
        avro_writer_free(writer);
    free(buf);
    if (read.self)
        avro_value_decref(&read);
    if (written.self)
        avro_value_decref(&written);
    if (iface)
        avro_value_iface_decref(iface);
    return ok;
}

static void every_message_type_round_trips_through_avro_binary(void)
{
    bl_catalog *cat = load_source_catalog();
    REQUIRE(cat);
    size_t checked = 0;
    for (size_t i = 0; i < bl_catalog_msg_count(cat); i++) {
        const bl_catalog_msg *msg = bl_catalog_msg_at(cat, i);
        const bl_catalog_topic *t = bl_catalog_topic_find(cat, msg->topic, NULL);
        REQUIRE(t);
        CHECK(sample_round_trips(t, msg));
        checked++;
    }
    CHECK_EQ_INT(checked, EVENT_TYPES + COMMAND_TYPES);
    bl_catalog_free(cat);
}

/* Counts records, enums and fields under node whose doc is missing or empty,
 * naming each on stderr. */
static int count_missing_docs(const json_t *node, const char *file)
{
    if (json_is_array(node)) {
        int missing = 0;
        size_t i;
        const json_t *branch;
        json_array_foreach(node, i, branch)
            missing += count_missing_docs(branch, file);
        return missing;
    }
    if (!json_is_object(node))
        return 0;
    const char *kind = json_string_value(json_object_get(node, "type"));
    if (!kind)
        return count_missing_docs(json_object_get(node, "type"), file);
    if (strcmp(kind, "array") == 0)
        return count_missing_docs(json_object_get(node, "items"), file);
    if (strcmp(kind, "map") == 0)
        return count_missing_docs(json_object_get(node, "values"), file);
    if (strcmp(kind, "record") != 0 && strcmp(kind, "enum") != 0 && strcmp(kind, "fixed") != 0)
        return 0;
    const char *name = json_string_value(json_object_get(node, "name"));
    const char *doc = json_string_value(json_object_get(node, "doc"));
    int missing = 0;
    if (!doc || !doc[0]) {
        fprintf(stderr, "  %s: %s %s has no doc\n", file, kind, name ? name : "?");
        missing++;
    }
    size_t i;
    const json_t *field;
    json_array_foreach(json_object_get(node, "fields"), i, field) {
        const char *fdoc = json_string_value(json_object_get(field, "doc"));
        if (!fdoc || !fdoc[0]) {
            fprintf(stderr, "  %s: field %s.%s has no doc\n", file, name ? name : "?",
                    json_string_value(json_object_get(field, "name")));
            missing++;
        }
        missing += count_missing_docs(json_object_get(field, "type"), file);
    }
    return missing;
}

static int file_missing_docs(const char *path)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) {
        fprintf(stderr, "  %s:%d: %s\n", path, jerr.line, jerr.text);
        return 1;
    }
    int missing = count_missing_docs(doc, path);
    json_decref(doc);
    return missing;
}

static void every_record_enum_and_field_has_a_doc(void)
{
    bl_catalog *cat = load_source_catalog();
    REQUIRE(cat);
    int missing = file_missing_docs(BUSLINE_SOURCE_DIR "/schemas/envelope.event.avsc") +
                  file_missing_docs(BUSLINE_SOURCE_DIR "/schemas/envelope.command.avsc");
    for (size_t i = 0; i < bl_catalog_msg_count(cat); i++)
        missing += file_missing_docs(bl_catalog_msg_at(cat, i)->path);
    CHECK_EQ_INT(missing, 0);
    bl_catalog_free(cat);
}

/* ---- folders built on the fly, for what the loader must refuse ---- */

static int write_text(const char *root, const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    int rc = fputs(text, fp) < 0 ? -1 : 0;
    return fclose(fp) != 0 ? -1 : rc;
}

static int copy_source_file(const char *root, const char *rel)
{
    char src[1024];
    snprintf(src, sizeof src, "%s/%s", schemas_dir(), rel);
    json_error_t jerr;
    json_t *doc = json_load_file(src, 0, &jerr);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    int rc = text ? write_text(root, rel, text) : -1;
    free(text);
    json_decref(doc);
    return rc;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_folder(const char *root)
{
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A minimal valid folder: both envelopes and one PMO risk event. Nothing is
 * left behind when building it fails. */
static int make_schema_folder(char *root, size_t len)
{
    snprintf(root, len, "/tmp/bl_catalog_XXXXXX");
    if (!mkdtemp(root))
        return -1;
    char sub[1024];
    const char *dirs[] = {"events", "events/pmo", "commands"};
    int rc = 0;
    for (size_t i = 0; i < 3 && rc == 0; i++) {
        snprintf(sub, sizeof sub, "%s/%s", root, dirs[i]);
        rc = mkdir(sub, 0700);
    }
    if (rc == 0)
        rc = copy_source_file(root, "envelope.event.avsc") || copy_source_file(root, "envelope.command.avsc") ||
             copy_source_file(root, "events/pmo/risk.created.avsc");
    if (rc != 0)
        remove_folder(root);
    return rc ? -1 : 0;
}

static void minimal_folder_loads(void)
{
    char root[256];
    REQUIRE(make_schema_folder(root, sizeof root) == 0);
    bl_err err = {0};
    bl_catalog *cat = bl_catalog_load(root, &err);
    CHECK(cat != NULL);
    if (cat) {
        CHECK_EQ_INT(bl_catalog_msg_count(cat), 1);
        CHECK_EQ_INT(bl_catalog_topic_count(cat), 1);
        CHECK_EQ_STR(bl_catalog_topic_at(cat, 0)->name, "events.pmo.risk");
    }
    bl_catalog_free(cat);
    remove_folder(root);
}

/* Loads the minimal folder plus one extra file rel holding text; returns 1
 * when the load is refused (err filled), 0 when it is accepted. */
static int refused_with_extra_file(const char *rel, const char *text, bl_err *err)
{
    char root[256];
    if (make_schema_folder(root, sizeof root) != 0 || write_text(root, rel, text) != 0) {
        bl_err_set(err, BL_EIO, "test: cannot build folder %s", root);
        remove_folder(root);
        return 0;
    }
    bl_catalog *cat = bl_catalog_load(root, err);
    bl_catalog_free(cat);
    remove_folder(root);
    return cat == NULL;
}

static void folder_with_broken_avsc_is_refused_naming_the_file(void)
{
    bl_err err = {0};
    CHECK(refused_with_extra_file("events/pmo/risk.broken.avsc",
                                  "{\"type\":\"record\",\"name\":\"RiskBroken\",\"namespace\":\"busline.events.pmo\","
                                  "\"doc\":\"d\",\"fields\":[{\"name\":\"x\",\"type\":\"no_such_type\",\"doc\":\"d\"}]}",
                                  &err));
    CHECK_EQ_INT(err.code, BL_EINVAL);
    CHECK(strstr(err.msg, "events/pmo/risk.broken.avsc") != NULL);
    CHECK(strstr(err.msg, "no_such_type") != NULL); /* avro-c's own words */

    CHECK(refused_with_extra_file("events/pmo/risk.broken.avsc", "{\"type\": \"record\",", &err));
    CHECK(strstr(err.msg, "risk.broken.avsc") != NULL);
}

static void record_in_wrong_namespace_is_refused(void)
{
    bl_err err = {0};
    CHECK(refused_with_extra_file("events/pmo/risk.moved.avsc",
                                  "{\"type\":\"record\",\"name\":\"RiskMoved\",\"namespace\":\"busline.events.fieldservice\","
                                  "\"doc\":\"d\",\"fields\":[]}",
                                  &err));
    CHECK(strstr(err.msg, "risk.moved.avsc") != NULL);
    CHECK(strstr(err.msg, "busline.events.pmo") != NULL);
}

/* Two files of one topic may share an enum only if they define it alike:
 * the assembled schema can hold one definition. */
static void shared_enum_defined_differently_is_refused(void)
{
    bl_err err = {0};
    CHECK(refused_with_extra_file("events/pmo/risk.zapped.avsc",
                                  "{\"type\":\"record\",\"name\":\"RiskZapped\",\"namespace\":\"busline.events.pmo\","
                                  "\"doc\":\"d\",\"fields\":[{\"name\":\"severity\",\"doc\":\"d\",\"type\":"
                                  "{\"type\":\"enum\",\"name\":\"Severity\",\"doc\":\"d\",\"symbols\":[\"LOW\",\"HIGH\"]}}]}",
                                  &err));
    CHECK(strstr(err.msg, "risk.zapped.avsc") != NULL);
    CHECK(strstr(err.msg, "busline.events.pmo.Severity") != NULL);
}

static void missing_folder_is_refused(void)
{
    bl_err err = {0};
    CHECK(bl_catalog_load("/nonexistent/busline/schemas", &err) == NULL);
    CHECK_EQ_INT(err.code, BL_EIO);
    CHECK(strstr(err.msg, "/nonexistent/busline/schemas/envelope.event.avsc") != NULL);
}

static void default_dir_follows_environment(void)
{
    setenv("BUSLINE_SCHEMAS_DIR", "/srv/schemas", 1);
    CHECK_EQ_STR(bl_catalog_default_dir(), "/srv/schemas");
    unsetenv("BUSLINE_SCHEMAS_DIR");
    CHECK_EQ_STR(bl_catalog_default_dir(), BUSLINE_SOURCE_DIR "/schemas");
}

int main(void)
{
    BL_RUN(source_catalog_has_every_type_written);
    BL_RUN(every_avsc_file_parses_on_its_own);
    BL_RUN(every_topic_schema_parses_and_is_named_for_its_topic);
    BL_RUN(lookup_gives_topic_branch_and_record_name);
    BL_RUN(unknown_or_ambiguous_type_lookup_fails_clearly);
    BL_RUN(every_message_type_round_trips_through_avro_binary);
    BL_RUN(every_record_enum_and_field_has_a_doc);
    BL_RUN(minimal_folder_loads);
    BL_RUN(folder_with_broken_avsc_is_refused_naming_the_file);
    BL_RUN(record_in_wrong_namespace_is_refused);
    BL_RUN(shared_enum_defined_differently_is_refused);
    BL_RUN(missing_folder_is_refused);
    BL_RUN(default_dir_follows_environment);
    return bl_test_summary();
}
