/* The PMO service end to end on the real broker, PostgreSQL and an
 * in-process schema registry: commands produced to a fresh commands topic,
 * applied by bl_domain_service, events checked in the outbox (envelope, headers,
 * decodable with the catalog's topic schema), duplicates, dead letters, the
 * `busline pmo send` command line and a SIGTERM stop. */
#include "core/kafka_producer.h"
#include "core/log.h"
#include "producers/pmo/domain.h"
#include "producers/domain_service/send.h"
#include "producers/domain_service/service.h"
#include "schemas/avro_json.h"
#include "tests/support/domain_fixture.h"
#include "tests/support/test.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static bl_test_domain fx;

#define CREATE_PROJECT                                                                       \
    "{\"type\":\"project.create\",\"organization_id\":\"%s\",\"data\":{\"project_id\":\"P1\"," \
    "\"name\":\"Apollo\",\"owner_id\":\"u1\",\"budget_cents\":100,\"currency\":\"EUR\"}}"

/* Decodes a hex bytea into bytes (cap); returns the length or -1. */
static long unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    if (n > cap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return (long)n;
}

static void events_in_outbox_carry_envelope_and_headers(void)
{
    bl_test_domain_new_org(&fx);
    char cmd_id[BL_UUID_SIZE];
    REQUIRE(bl_test_domain_send(&fx, CREATE_PROJECT, NULL) == 0);
    REQUIRE(bl_test_domain_send(&fx, "{\"type\":\"risk.create\",\"organization_id\":\"%s\",\"data\":{\"risk_id\":\"R1\","
                         "\"project_id\":\"P1\",\"title\":\"Vendor late\",\"description\":\"d\","
                         "\"severity\":\"MEDIUM\",\"probability\":30,\"impact\":50}}", NULL) == 0);
    REQUIRE(bl_test_domain_send(&fx, "{\"type\":\"risk.update\",\"organization_id\":\"%s\",\"data\":{\"risk_id\":\"R1\","
                         "\"severity\":\"CRITICAL\"}}", cmd_id) == 0);
    REQUIRE(bl_test_domain_run(&fx, 3) == 0);

    PGresult *res = bl_test_domain_query(&fx, 
        "SELECT o.event_type, o.topic, o.ce_id, o.headers->>'ce_type', o.headers->>'ce_subject',"
        " o.headers->>'ce_source', encode(o.payload, 'hex'), o.aggregate_id"
        " FROM busline_outbox o WHERE o.ce_id IN (SELECT ce_id FROM busline_outbox) ORDER BY o.id",
        NULL);
    REQUIRE(res);
    /* Only this test's events: those whose payload names the org. */
    int rows = PQntuples(res), found = 0;
    const char *expected[] = {"project.created", "risk.created", "risk.escalated"};
    bl_catalog *cat = NULL;
    bl_avro_schema *reader = NULL;
    bl_err err = {0};
    cat = bl_catalog_load(bl_catalog_default_dir(), &err);
    const bl_catalog_topic *risk_topic = cat ? bl_catalog_topic_find(cat, "events.pmo.risk", &err) : NULL;
    if (risk_topic)
        reader = bl_avro_schema_parse(risk_topic->schema_json, strlen(risk_topic->schema_json), &err);
    CHECK(reader != NULL);
    for (int r = 0; r < rows && reader; r++) {
        static uint8_t bytes[65536];
        long len = unhex(PQgetvalue(res, r, 6), bytes, sizeof bytes);
        avro_value_t value;
        const char *topic = PQgetvalue(res, r, 1);
        const bl_catalog_topic *t = bl_catalog_topic_find(cat, topic + strlen(fx.prefix), NULL);
        bl_avro_schema *s = t ? bl_avro_schema_parse(t->schema_json, strlen(t->schema_json), &err) : NULL;
        if (!s || len < 0 || bl_codec_decode_as(bl_domain_codec_cache(fx.codec), s, bytes, (size_t)len, &value, &err) != 0) {
            fprintf(stderr, "  decode %s: %s\n", topic, err.msg);
            CHECK(0);
            bl_avro_schema_free(s);
            continue;
        }
        json_t *env = bl_avro_to_json(s, &value, BL_AVRO_JSON_PLAIN, &err);
        avro_value_decref(&value);
        bl_avro_schema_free(s);
        if (!env || strcmp(json_string_value(json_object_get(env, "organization_id")), fx.org) != 0) {
            json_decref(env);
            continue;
        }
        REQUIRE(found < 3);
        const char *type = PQgetvalue(res, r, 0);
        CHECK_EQ_STR(type, expected[found]);
        CHECK_EQ_STR(json_string_value(json_object_get(env, "type")), type);
        CHECK_EQ_STR(json_string_value(json_object_get(env, "id")), PQgetvalue(res, r, 2));
        CHECK_EQ_STR(PQgetvalue(res, r, 3), type);
        CHECK_EQ_STR(json_string_value(json_object_get(env, "subject")), PQgetvalue(res, r, 4));
        CHECK_EQ_STR(PQgetvalue(res, r, 7), PQgetvalue(res, r, 4));
        CHECK_EQ_STR(json_string_value(json_object_get(env, "source")), "busline/pmo");
        CHECK_EQ_STR(PQgetvalue(res, r, 5), "busline/pmo");
        char want_topic[160];
        snprintf(want_topic, sizeof want_topic, "%sevents.pmo.%s", fx.prefix, found == 0 ? "project" : "risk");
        CHECK_EQ_STR(topic, want_topic);
        if (found == 2) {
            json_t *data = json_object_get(env, "data");
            CHECK_EQ_STR(json_string_value(json_object_get(data, "previous_severity")), "MEDIUM");
            CHECK_EQ_STR(json_string_value(json_object_get(data, "severity")), "CRITICAL");
            CHECK_EQ_STR(json_string_value(json_object_get(env, "subject")), "R1");
            /* The id is derived from the command: stable if it were applied again. */
            char seed[128], id[BL_UUID_SIZE];
            snprintf(seed, sizeof seed, "busline/pmo/%s#0", cmd_id);
            CHECK(bl_uuid_derived(seed, id, &err) == 0);
            CHECK_EQ_STR(PQgetvalue(res, r, 2), id);
            /* Also readable through its writer schema, as a stock consumer would. */
            avro_value_t w;
            CHECK(bl_codec_decode(bl_domain_codec_cache(fx.codec), bytes, (size_t)len, &w, NULL, &err) == 0);
            avro_value_decref(&w);
        }
        found++;
        json_decref(env);
    }
    CHECK_EQ_INT(found, 3);
    bl_avro_schema_free(reader);
    bl_catalog_free(cat);
    PQclear(res);
}

static void command_sent_twice_changes_nothing_the_second_time(void)
{
    bl_test_domain_new_org(&fx);
    char text[1024];
    snprintf(text, sizeof text, CREATE_PROJECT, fx.org);
    json_t *input = json_loads(text, 0, NULL);
    bl_domain_sender sender = {.source = "test", .actor = "tester"};
    bl_domain_prepared cmd;
    bl_err err = {0};
    REQUIRE(bl_domain_command_prepare(fx.codec, input, &sender, &cmd, &err) == 0);
    json_decref(input);
    long events_before = bl_test_domain_count(&fx, "SELECT count(*) FROM busline_outbox", NULL);
    bl_domain_service_stats before = bl_domain_service_stats_get(fx.svc);
    CHECK(bl_test_domain_produce(&fx, "P1", cmd.wire.bytes, cmd.wire.len) == 0);
    CHECK(bl_test_domain_produce(&fx, "P1", cmd.wire.bytes, cmd.wire.len) == 0);
    bl_domain_prepared_clear(&cmd);
    REQUIRE(bl_test_domain_run(&fx, 2) == 0);
    bl_domain_service_stats after = bl_domain_service_stats_get(fx.svc);
    CHECK_EQ_INT(after.applied - before.applied, 1);
    CHECK_EQ_INT(after.duplicates - before.duplicates, 1);
    CHECK_EQ_INT(after.dead_letters - before.dead_letters, 0);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM busline_outbox", NULL) - events_before, 1);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM pmo_projects WHERE organization_id = $1", fx.org), 1);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM pmo_processed_commands WHERE organization_id = $1", fx.org), 1);
}

/* Encodes a pmo.commands envelope whose type says type_text but whose data
 * is the branch of the record named record. */
static int encode_forged(const char *type_text, const char *record, const char *data_json,
                         uint8_t **out, size_t *len)
{
    bl_err err = {0};
    bl_domain_prepared probe;
    char text[1024];
    snprintf(text, sizeof text, CREATE_PROJECT, fx.org);
    json_t *input = json_loads(text, 0, NULL);
    bl_domain_sender sender = {.source = "test", .actor = "tester"};
    int rc = bl_domain_command_prepare(fx.codec, input, &sender, &probe, &err);
    json_decref(input);
    if (rc != 0)
        return -1;
    const bl_avro_schema *s = bl_schema_cache_get(bl_domain_codec_cache(fx.codec), probe.wire.schema_id, &err);
    int32_t id = probe.wire.schema_id;
    bl_domain_prepared_clear(&probe);
    snprintf(text, sizeof text,
             "{\"id\":\"forged-%s\",\"type\":\"%s\",\"time\":0,\"source\":\"test\","
             "\"organization_id\":\"%s\",\"subject\":\"x\",\"actor\":\"a\",\"data\":%s}",
             type_text, type_text, fx.org, data_json);
    avro_value_t v;
    bl_avro_json_opts opts = {.mode = BL_AVRO_JSON_PLAIN, .union_hint = record};
    if (!s || bl_avro_value_new(s, &v, &err) != 0)
        return -1;
    rc = bl_avro_from_json_text(s, text, strlen(text), &opts, &v, &err);
    if (rc == 0)
        rc = bl_codec_encode(id, &v, out, len, &err);
    if (rc != 0)
        fprintf(stderr, "  forge: %s\n", err.msg);
    avro_value_decref(&v);
    return rc;
}

static void malformed_commands_go_to_the_dlq_and_later_good_ones_apply(void)
{
    bl_test_domain_new_org(&fx);
    long offset0 = -1;
    {
        /* The commands topic's end before this test: DLQ offsets follow it. */
        bl_err err = {0};
        int64_t lo = 0, hi = 0;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(bl_kafka_producer_handle(fx.producer),
                                                                 fx.commands_topic, 0, &lo, &hi, 10000);
        REQUIRE(e == RD_KAFKA_RESP_ERR_NO_ERROR);
        offset0 = (long)hi;
        (void)err;
    }
    uint8_t *unknown = NULL, *mismatch = NULL;
    size_t unknown_len = 0, mismatch_len = 0;
    const char *project_data = "{\"project_id\":\"P9\",\"name\":\"n\",\"owner_id\":\"u\","
                               "\"budget_cents\":1,\"currency\":\"EUR\"}";
    REQUIRE(encode_forged("project.teleport", "busline.commands.pmo.CreateProject", project_data,
                          &unknown, &unknown_len) == 0);
    REQUIRE(encode_forged("risk.create", "busline.commands.pmo.CreateProject", project_data,
                          &mismatch, &mismatch_len) == 0);
    CHECK(bl_test_domain_produce(&fx, "x", "not avro at all", 15) == 0);
    CHECK(bl_test_domain_produce(&fx, "x", unknown, unknown_len) == 0);
    CHECK(bl_test_domain_produce(&fx, "x", mismatch, mismatch_len) == 0);
    free(unknown);
    free(mismatch);
    CHECK(bl_test_domain_send(&fx, "{\"type\":\"project.update\",\"organization_id\":\"%s\",\"data\":{\"project_id\":\"nope\","
                       "\"name\":\"x\"}}", NULL) == 0);
    CHECK(bl_test_domain_send(&fx, CREATE_PROJECT, NULL) == 0);
    bl_domain_service_stats before = bl_domain_service_stats_get(fx.svc);
    REQUIRE(bl_test_domain_run(&fx, 5) == 0);
    bl_domain_service_stats after = bl_domain_service_stats_get(fx.svc);
    CHECK_EQ_INT(after.dead_letters - before.dead_letters, 4);
    CHECK_EQ_INT(after.applied - before.applied, 1);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM pmo_projects WHERE organization_id = $1", fx.org), 1);

    bl_test_dlq_seen seen[8];
    memset(seen, 0, sizeof seen);
    /* Earlier tests put nothing on the DLQ, so these are the first four. */
    REQUIRE(bl_test_domain_read_dlq(&fx, seen, 4) == 4);
    const char *classes[] = {"invalid", "invalid", "invalid", "not_found"};
    const char *reasons[] = {"magic", "unknown command type 'project.teleport'",
                             "does not match its data", "project nope not found"};
    for (int i = 0; i < 4; i++) {
        char off[24];
        snprintf(off, sizeof off, "%ld", offset0 + i);
        CHECK_EQ_STR(seen[i].error_class, classes[i]);
        if (!strstr(seen[i].error, reasons[i]))
            fprintf(stderr, "  dlq %d error: %s\n", i, seen[i].error);
        CHECK(strstr(seen[i].error, reasons[i]) != NULL);
        CHECK_EQ_STR(seen[i].original_topic, fx.commands_topic);
        CHECK_EQ_STR(seen[i].original_offset, off);
    }
}

/* Runs `busline pmo args` under the test's settings. */
static int run_cli(const char *args, char *out, size_t len)
{
    char env[1024], pmo_args[1024];
    snprintf(env, sizeof env,
             "BUSLINE_REGISTRY_URL=%s BUSLINE_PMO_COMMANDS_TOPIC=%s BUSLINE_PMO_EVENTS_PREFIX=%s BUSLINE_LOG_LEVEL=warn",
             fx.reg.base_url, fx.commands_topic, fx.prefix);
    snprintf(pmo_args, sizeof pmo_args, "pmo %s", args);
    return bl_test_run_busline(env, pmo_args, out, len);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void cli_send_validates_and_puts_the_command_on_the_bus(void)
{
    REQUIRE(getenv("BUSLINE_BIN") != NULL);
    bl_test_domain_new_org(&fx);
    char path[] = "/tmp/bl_pmo_cmd_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    char text[1024], out[4096], args[512];
    snprintf(args, sizeof args, "send %s", path);

    write_text(path, "{\"type\": \"risk.create\", ");
    CHECK(run_cli(args, out, sizeof out) != 0);
    CHECK(strstr(out, path) != NULL && strstr(out, "line") != NULL);

    snprintf(text, sizeof text,
             "{\"type\":\"risk.create\",\"organization_id\":\"%s\",\"data\":{\"risk_id\":\"R1\","
             "\"project_id\":\"P1\",\"title\":\"t\",\"description\":\"d\",\"severity\":\"SEVERE\","
             "\"probability\":1,\"impact\":1}}", fx.org);
    write_text(path, text);
    CHECK(run_cli(args, out, sizeof out) != 0);
    CHECK(strstr(out, "severity") != NULL);

    snprintf(text, sizeof text, "{\"type\":\"risk.explode\",\"organization_id\":\"%s\",\"data\":{\"risk_id\":\"R1\"}}", fx.org);
    write_text(path, text);
    CHECK(run_cli(args, out, sizeof out) != 0);
    CHECK(strstr(out, "risk.explode") != NULL);

    snprintf(args, sizeof args, "send /nonexistent/cmd.json");
    CHECK(run_cli(args, out, sizeof out) != 0);
    CHECK(strstr(out, "/nonexistent/cmd.json") != NULL);

    snprintf(text, sizeof text, CREATE_PROJECT, fx.org);
    write_text(path, text);
    snprintf(args, sizeof args, "send %s", path);
    CHECK_EQ_INT(run_cli(args, out, sizeof out), 0);
    out[strcspn(out, "\n")] = '\0';
    CHECK_EQ_INT(strlen(out), 36);
    REQUIRE(bl_test_domain_run(&fx, 1) == 0);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM pmo_processed_commands WHERE command_id = $1", out), 1);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM pmo_projects WHERE organization_id = $1", fx.org), 1);
    unlink(path);
}

static void sigterm_finishes_and_exits_zero(void)
{
    REQUIRE(getenv("BUSLINE_BIN") != NULL);
    /* The process gets its own group: it reads the topic from the start, the
     * earlier commands being duplicates or dead letters again. */
    char g[96];
    bl_test_unique_name(g, sizeof g, "pmo_sigterm");
    bl_test_domain_new_org(&fx);
    REQUIRE(bl_test_domain_send(&fx, CREATE_PROJECT, NULL) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            close(null);
        }
        setenv("BUSLINE_REGISTRY_URL", fx.reg.base_url, 1);
        setenv("BUSLINE_PG_URL", fx.reg.pg_url, 1);
        setenv("BUSLINE_KAFKA_BROKERS", bl_test_kafka_brokers(), 1);
        execl(getenv("BUSLINE_BIN"), "busline", "pmo", "--commands-topic", fx.commands_topic,
              "--events-topic-prefix", fx.prefix, "--group", g, (char *)NULL);
        _exit(127);
    }
    /* Once the project exists the process is running and caught up. */
    int status = 0, exited = 0;
    for (int i = 0; i < 120; i++) {
        if (bl_test_domain_count(&fx, "SELECT count(*) FROM pmo_projects WHERE organization_id = $1", fx.org) == 1)
            break;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            exited = 1;
            break;
        }
        usleep(250 * 1000);
    }
    CHECK(!exited);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM pmo_projects WHERE organization_id = $1", fx.org), 1);
    if (!exited) {
        kill(pid, SIGTERM);
        for (int i = 0; i < 120 && !exited; i++) {
            exited = waitpid(pid, &status, WNOHANG) == pid;
            if (!exited)
                usleep(250 * 1000);
        }
        if (!exited) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
        }
    }
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
}

int main(void)
{
    bl_log_init("test_pmo_service", BL_LOG_WARN);
    int rc = 1;
    if (bl_test_domain_start(&fx, "pmo", &bl_pmo_rules) == 0) {
        BL_RUN(events_in_outbox_carry_envelope_and_headers);
        BL_RUN(command_sent_twice_changes_nothing_the_second_time);
        BL_RUN(malformed_commands_go_to_the_dlq_and_later_good_ones_apply);
        BL_RUN(cli_send_validates_and_puts_the_command_on_the_bus);
        BL_RUN(sigterm_finishes_and_exits_zero);
        rc = bl_test_summary();
    }
    bl_test_domain_stop(&fx);
    return rc;
}
