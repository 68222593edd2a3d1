/* The attendance domain's rules on the real broker, PostgreSQL and an
 * in-process schema registry, through the shared loop with
 * bl_attendance_rules: every refused field with its recorded reason, the
 * version growing by one per applied change, changed_fields naming only
 * what really changed (an update changing nothing publishes nothing),
 * expected_version, a cancelled event refusing changes, the origin carried
 * from command to row to event, attendance counts, and the reminder timer
 * fired exactly once by two service instances and re-armed by a moved
 * start. Event ids are prefixed with the test's organization so outbox rows
 * of one test are told apart by aggregate id. */
#include "core/clock.h"
#include "core/log.h"
#include "core/pg_pool.h"
#include "core/time_format.h"
#include "producers/attendance/domain.h"
#include "producers/domain_service/service.h"
#include "schemas/avro_json.h"
#include "schemas/catalog.h"
#include "tests/support/domain_fixture.h"
#include "tests/support/test.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bl_test_domain fx;
static int64_t now_ms;

#define MINUTE INT64_C(60000)
#define ORGANIZER "\"organizer\":{\"email\":\"marie.dubois@example.fr\",\"name\":\"Marie Dubois\"}"
#define ATTENDEES                                                                                       \
    "\"attendees\":[{\"person_id\":\"p1\",\"name\":\"Paul\",\"email\":\"paul@example.fr\"},"            \
    "{\"person_id\":\"p2\",\"name\":\"Lea\",\"email\":null}]"

/* Sends event.create for <org>-<suffix> with extra fields (JSON members,
 * may be "") starting at starts and lasting an hour. */
static int create_event(const char *suffix, int64_t starts, const char *extra, char id[BL_UUID_SIZE])
{
    char fmt[2048];
    snprintf(fmt, sizeof fmt,
             "{\"type\":\"event.create\",\"organization_id\":\"%%1$s\",\"data\":{\"event_id\":\"%%1$s-%s\","
             "\"title\":\"Formation sécurité\",\"event_type\":\"training\",\"location\":\"Salle 3\","
             "\"starts_at\":%" PRId64 ",\"ends_at\":%" PRId64 ",\"timezone\":\"Europe/Paris\"," ORGANIZER ","
             ATTENDEES ",\"is_private\":false%s%s}}",
             suffix, starts, starts + 60 * MINUTE, *extra ? "," : "", extra);
    return bl_test_domain_send(&fx, fmt, id);
}

/* Sends a command of type about <org>-<suffix> with data members body. */
static int send_on(const char *type, const char *suffix, const char *body, char id[BL_UUID_SIZE])
{
    char fmt[2048];
    snprintf(fmt, sizeof fmt,
             "{\"type\":\"%s\",\"organization_id\":\"%%1$s\",\"subject\":\"%%1$s-%s\",\"data\":{"
             "\"event_id\":\"%%1$s-%s\"%s%s}}", type, suffix, suffix, *body ? "," : "", body);
    return bl_test_domain_send(&fx, fmt, id);
}

/* The column col of event <org>-<suffix> as text ("<none>" without a row). */
static void column_of(const char *suffix, const char *col, char *out, size_t len)
{
    char sql[256], id[128];
    snprintf(sql, sizeof sql, "SELECT coalesce((%s)::text, '<null>') FROM attendance_events WHERE event_id = $1", col);
    snprintf(id, sizeof id, "%s-%s", fx.org, suffix);
    PGresult *res = bl_test_domain_query(&fx, sql, id);
    snprintf(out, len, "%s", res && PQntuples(res) ? PQgetvalue(res, 0, 0) : "<none>");
    PQclear(res);
}

static long events_of(const char *type, const char *suffix)
{
    char id[128], sql[256];
    snprintf(id, sizeof id, "%s-%s", fx.org, suffix);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM busline_outbox WHERE aggregate_id = $1 AND event_type = '%s'",
             type);
    return bl_test_domain_count(&fx, sql, id);
}

/* The refusal of command id: "<error_class>|<reason>", or "<none>". */
static void refusal_of(const char *id, char *out, size_t len)
{
    PGresult *res = bl_test_domain_query(&fx, "SELECT error_class || '|' || reason FROM domain_command_refusals"
                                              " WHERE command_id = $1", id);
    snprintf(out, len, "%s", res && PQntuples(res) ? PQgetvalue(res, 0, 0) : "<none>");
    PQclear(res);
}

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

/* The envelope (plain JSON, new) of the last outbox event of type about
 * <org>-<suffix>, decoded with its topic's schema, or NULL. */
static json_t *last_event(const char *type, const char *suffix)
{
    char id[128];
    snprintf(id, sizeof id, "%s-%s", fx.org, suffix);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT topic, encode(payload, 'hex') FROM busline_outbox WHERE aggregate_id = $1"
             " AND event_type = '%s' ORDER BY id DESC LIMIT 1", type);
    PGresult *res = bl_test_domain_query(&fx, sql, id);
    if (!res || PQntuples(res) == 0) {
        PQclear(res);
        return NULL;
    }
    static uint8_t bytes[65536];
    bl_err err = {0};
    json_t *env = NULL;
    long len = unhex(PQgetvalue(res, 0, 1), bytes, sizeof bytes);
    bl_catalog *cat = bl_catalog_load(bl_catalog_default_dir(), &err);
    const bl_catalog_topic *t = cat ? bl_catalog_topic_find(cat, PQgetvalue(res, 0, 0) + strlen(fx.prefix), &err) : NULL;
    bl_avro_schema *s = t ? bl_avro_schema_parse(t->schema_json, strlen(t->schema_json), &err) : NULL;
    avro_value_t value;
    if (s && len > 0 && bl_codec_decode_as(bl_domain_codec_cache(fx.codec), s, bytes, (size_t)len, &value, &err) == 0) {
        env = bl_avro_to_json(s, &value, BL_AVRO_JSON_PLAIN, &err);
        avro_value_decref(&value);
    }
    if (!env)
        fprintf(stderr, "  decode %s: %s\n", type, err.msg);
    bl_avro_schema_free(s);
    bl_catalog_free(cat);
    PQclear(res);
    return env;
}

static const json_t *data_of(const json_t *env)
{
    return json_object_get(env, "data");
}

/* A timestamp-millis member of the plain JSON (RFC 3339 text) as epoch ms, or -1. */
static int64_t millis_of(const json_t *v)
{
    int64_t ms = -1;
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (!json_is_string(v) || bl_rfc3339_parse_millis(json_string_value(v), &ms) != 0)
        return -1;
    return ms;
}

static void created_event_is_a_row_at_version_1_and_a_full_event(void)
{
    bl_test_domain_new_org(&fx);
    REQUIRE(create_event("E1", now_ms + 24 * 60 * MINUTE, "\"reminder_minutes\":30", NULL) == 0);
    REQUIRE(bl_test_domain_run(&fx, 1) == 0);
    char v[256];
    column_of("E1", "version", v, sizeof v);
    CHECK_EQ_STR(v, "1");
    column_of("E1", "status", v, sizeof v);
    CHECK_EQ_STR(v, "scheduled");
    column_of("E1", "reminder_due_at = starts_at - interval '30 minutes'", v, sizeof v);
    CHECK_EQ_STR(v, "true");
    json_t *env = last_event("event.created", "E1");
    REQUIRE(env);
    const json_t *d = data_of(env);
    CHECK_EQ_INT(json_integer_value(json_object_get(d, "version")), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "timezone")), "Europe/Paris");
    CHECK_EQ_STR(json_string_value(json_object_get(d, "event_type")), "training");
    CHECK_EQ_INT(millis_of(json_object_get(d, "starts_at")), now_ms + 24 * 60 * MINUTE);
    CHECK_EQ_INT(json_array_size(json_object_get(d, "attendees")), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(d, "organizer"), "email")),
                 "marie.dubois@example.fr");
    CHECK(json_is_null(json_object_get(d, "origin")));
    CHECK_EQ_STR(json_string_value(json_object_get(env, "subject")), json_string_value(json_object_get(d, "event_id")));
    json_decref(env);
    char want[160], id[128];
    snprintf(id, sizeof id, "%s-E1", fx.org);
    snprintf(want, sizeof want, "%sevents.attendance.event", fx.prefix);
    PGresult *res = bl_test_domain_query(&fx, "SELECT topic FROM busline_outbox WHERE aggregate_id = $1", id);
    REQUIRE(res && PQntuples(res) == 1);
    CHECK_EQ_STR(PQgetvalue(res, 0, 0), want);
    PQclear(res);
}

static void every_invalid_field_is_refused_with_its_reason(void)
{
    bl_test_domain_new_org(&fx);
    static const struct {
        const char *fields; /* replaces the valid ones that follow */
        const char *reason; /* a part of the recorded reason */
    } cases[] = {
        {"\"ends_at\":1000", "data.ends_at: must be after starts_at"},
        {"\"timezone\":\"Mars/Olympus_Mons\"", "data.timezone: 'Mars/Olympus_Mons' is not an IANA time zone"},
        {"\"timezone\":\"../../etc/passwd\"", "is not an IANA time zone"},
        {"\"timezone\":\"zone.tab\"", "is not an IANA time zone"},
        {"\"event_type\":\"party\"", "data.event_type: 'party' is not one of training"},
        {"\"organizer\":{\"email\":\"marie.example.fr\",\"name\":null}", "data.organizer.email: not a well-formed"},
        {"\"attendees\":[{\"person_id\":\"p1\",\"name\":\"Paul\",\"email\":\"paul@localhost\"}]",
         "data.attendees[0].email: not a well-formed"},
        {"\"attendees\":[{\"person_id\":\"p1\",\"name\":\"A\",\"email\":null},{\"person_id\":\"p1\",\"name\":\"B\","
         "\"email\":null}]", "data.attendees[1]: person_id appears twice"},
        {"\"title\":\"\"", "data.title: must not be empty"},
    };
    size_t n = sizeof cases / sizeof cases[0];
    char ids[16][BL_UUID_SIZE];
    for (size_t i = 0; i < n; i++) {
        /* A later member wins in jansson's object: the bad one replaces the good. */
        char suffix[16], fmt[2048];
        snprintf(suffix, sizeof suffix, "BAD%zu", i);
        snprintf(fmt, sizeof fmt,
                 "{\"type\":\"event.create\",\"organization_id\":\"%%1$s\",\"data\":{\"event_id\":\"%%1$s-%s\","
                 "\"title\":\"T\",\"event_type\":\"meeting\",\"starts_at\":%" PRId64 ",\"ends_at\":%" PRId64 ","
                 "\"timezone\":\"UTC\"," ORGANIZER "," ATTENDEES ",\"is_private\":false,%s}}",
                 suffix, now_ms + 60 * MINUTE, now_ms + 120 * MINUTE, cases[i].fields);
        REQUIRE(bl_test_domain_send(&fx, fmt, ids[i]) == 0);
    }
    bl_domain_service_stats before = bl_domain_service_stats_get(fx.svc);
    REQUIRE(bl_test_domain_run(&fx, (long)n) == 0);
    bl_domain_service_stats after = bl_domain_service_stats_get(fx.svc);
    CHECK_EQ_INT(after.dead_letters - before.dead_letters, (long)n);
    CHECK_EQ_INT(after.applied - before.applied, 0);
    for (size_t i = 0; i < n; i++) {
        char why[512];
        refusal_of(ids[i], why, sizeof why);
        if (!strstr(why, cases[i].reason) || strncmp(why, "invalid|", 8) != 0) {
            fprintf(stderr, "  case %zu: refusal '%s' lacks '%s'\n", i, why, cases[i].reason);
            CHECK(0);
        }
    }
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM attendance_events WHERE organization_id = $1",
                                      fx.org), 0);
    /* A well-formed one of each passes: the checks are not refusing everything. */
    REQUIRE(create_event("GOOD", now_ms + 60 * MINUTE, "\"timezone\":\"America/Argentina/Buenos_Aires\"", NULL) == 0);
    REQUIRE(bl_test_domain_run(&fx, 1) == 0);
    char v[64];
    column_of("GOOD", "timezone", v, sizeof v);
    CHECK_EQ_STR(v, "America/Argentina/Buenos_Aires");
}

static void updates_version_and_name_only_what_changed(void)
{
    bl_test_domain_new_org(&fx);
    int64_t starts = now_ms + 48 * 60 * MINUTE;
    char stale[BL_UUID_SIZE], same[BL_UUID_SIZE], v[256];
    REQUIRE(create_event("E1", starts, "", NULL) == 0);
    /* title changes, location is given with its current value */
    REQUIRE(send_on("event.update", "E1", "\"title\":\"Formation incendie\",\"location\":\"Salle 3\"", NULL) == 0);
    REQUIRE(send_on("event.update", "E1", "\"title\":\"Formation incendie\",\"event_type\":\"training\"", same) == 0);
    REQUIRE(send_on("event.update", "E1", "\"title\":\"Trop tard\",\"expected_version\":1", stale) == 0);
    REQUIRE(send_on("event.update", "E1", "\"starts_at\":0,\"ends_at\":1,\"expected_version\":2", NULL) == 0);
    REQUIRE(bl_test_domain_run(&fx, 5) == 0);
    CHECK_EQ_INT(events_of("event.updated", "E1"), 2);
    column_of("E1", "version", v, sizeof v);
    CHECK_EQ_STR(v, "3");
    column_of("E1", "title", v, sizeof v);
    CHECK_EQ_STR(v, "Formation incendie");
    char why[512];
    refusal_of(stale, why, sizeof why);
    CHECK(strstr(why, "conflict|") == why);
    CHECK(strstr(why, "version mismatch: expected version 1, the event is at version 2") != NULL);
    refusal_of(same, why, sizeof why);
    CHECK_EQ_STR(why, "<none>");
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT events FROM attendance_processed_commands WHERE command_id = $1",
                                      same), 0);
    json_t *env = last_event("event.updated", "E1");
    REQUIRE(env);
    const json_t *d = data_of(env);
    CHECK_EQ_INT(json_integer_value(json_object_get(d, "version")), 3);
    json_t *changed = json_object_get(d, "changed_fields");
    CHECK_EQ_INT(json_array_size(changed), 2);
    CHECK_EQ_STR(json_string_value(json_array_get(changed, 0)), "starts_at");
    CHECK_EQ_STR(json_string_value(json_array_get(changed, 1)), "ends_at");
    CHECK_EQ_STR(json_string_value(json_object_get(d, "title")), "Formation incendie"); /* full state */
    CHECK_EQ_INT(json_array_size(json_object_get(d, "attendees")), 2);
    json_decref(env);
    /* clear sets an optional attribute to null and names it */
    REQUIRE(send_on("event.update", "E1", "\"clear\":[\"location\"]", NULL) == 0);
    REQUIRE(bl_test_domain_run(&fx, 1) == 0);
    column_of("E1", "location", v, sizeof v);
    CHECK_EQ_STR(v, "<null>");
    env = last_event("event.updated", "E1");
    REQUIRE(env);
    changed = json_object_get(data_of(env), "changed_fields");
    CHECK_EQ_INT(json_array_size(changed), 1);
    CHECK_EQ_STR(json_string_value(json_array_get(changed, 0)), "location");
    CHECK_EQ_INT(json_integer_value(json_object_get(data_of(env), "version")), 4);
    json_decref(env);
    /* an end moved before the start is refused on the merged state */
    char bad[BL_UUID_SIZE];
    REQUIRE(send_on("event.update", "E1", "\"ends_at\":0", bad) == 0);
    REQUIRE(bl_test_domain_run(&fx, 1) == 0);
    refusal_of(bad, why, sizeof why);
    CHECK(strstr(why, "data.ends_at: must be after starts_at") != NULL);
    /* an unknown event */
    REQUIRE(send_on("event.update", "NOPE", "\"title\":\"x\"", bad) == 0);
    REQUIRE(bl_test_domain_run(&fx, 1) == 0);
    refusal_of(bad, why, sizeof why);
    CHECK(strncmp(why, "not_found|", 10) == 0);
}

#define ORIGIN                                                                                           \
    "\"origin\":{\"integration_id\":\"7d1e0a3c-0000-4000-8000-000000000001\",\"provider\":\"google_calendar\"," \
    "\"external_id\":\"gcal-42\",\"external_version\":\"\\\"etag-7\\\"\"}"

static void origin_goes_from_command_to_row_to_event(void)
{
    bl_test_domain_new_org(&fx);
    REQUIRE(create_event("E1", now_ms + 72 * 60 * MINUTE, ORIGIN, NULL) == 0);
    REQUIRE(send_on("event.update", "E1", "\"description\":\"from Attendance-X\"", NULL) == 0);
    REQUIRE(send_on("event.update", "E1", "\"title\":\"synced\"," ORIGIN, NULL) == 0);
    REQUIRE(send_on("event.cancel", "E1", "\"reason\":\"deleted in Google\"," ORIGIN, NULL) == 0);
    REQUIRE(bl_test_domain_run(&fx, 4) == 0);
    json_t *env = last_event("event.created", "E1");
    REQUIRE(env);
    const json_t *o = json_object_get(data_of(env), "origin");
    CHECK_EQ_STR(json_string_value(json_object_get(o, "provider")), "google_calendar");
    CHECK_EQ_STR(json_string_value(json_object_get(o, "external_id")), "gcal-42");
    CHECK_EQ_STR(json_string_value(json_object_get(o, "external_version")), "\"etag-7\"");
    json_decref(env);
    env = last_event("event.cancelled", "E1");
    REQUIRE(env);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(data_of(env), "origin"), "integration_id")),
                 "7d1e0a3c-0000-4000-8000-000000000001");
    CHECK_EQ_INT(json_integer_value(json_object_get(data_of(env), "version")), 4);
    CHECK_EQ_STR(json_string_value(json_object_get(data_of(env), "reason")), "deleted in Google");
    json_decref(env);
    char v[256];
    column_of("E1", "origin->>'external_id'", v, sizeof v);
    CHECK_EQ_STR(v, "gcal-42");
    /* the update made in Attendance-X itself carried none */
    PGresult *res;
    char id[128];
    snprintf(id, sizeof id, "%s-E1", fx.org);
    res = bl_test_domain_query(&fx, "SELECT count(*) FROM busline_outbox WHERE aggregate_id = $1"
                                    " AND event_type = 'event.updated'", id);
    REQUIRE(res && PQntuples(res) == 1);
    CHECK_EQ_STR(PQgetvalue(res, 0, 0), "2");
    PQclear(res);
}

static void a_cancelled_event_refuses_changes_and_records(void)
{
    bl_test_domain_new_org(&fx);
    char update[BL_UUID_SIZE], again[BL_UUID_SIZE], record[BL_UUID_SIZE], why[512], v[64];
    REQUIRE(create_event("E1", now_ms + 96 * 60 * MINUTE, "", NULL) == 0);
    REQUIRE(send_on("event.cancel", "E1", "", NULL) == 0);
    REQUIRE(send_on("event.update", "E1", "\"title\":\"revived\"", update) == 0);
    REQUIRE(send_on("event.cancel", "E1", "", again) == 0);
    REQUIRE(send_on("event.record_attendance", "E1", "\"person_id\":\"p1\",\"status\":\"PRESENT\"", record) == 0);
    REQUIRE(bl_test_domain_run(&fx, 5) == 0);
    column_of("E1", "status", v, sizeof v);
    CHECK_EQ_STR(v, "cancelled");
    column_of("E1", "version", v, sizeof v);
    CHECK_EQ_STR(v, "2");
    column_of("E1", "title", v, sizeof v);
    CHECK_EQ_STR(v, "Formation sécurité");
    refusal_of(update, why, sizeof why);
    CHECK(strstr(why, "conflict|") == why && strstr(why, "the event is cancelled") != NULL);
    refusal_of(again, why, sizeof why);
    CHECK(strstr(why, "conflict|") == why);
    refusal_of(record, why, sizeof why);
    CHECK(strstr(why, "conflict|") == why);
    CHECK_EQ_INT(events_of("event.cancelled", "E1"), 1);
    CHECK_EQ_INT(events_of("event.updated", "E1"), 0);
}

static void attendance_records_update_the_counts(void)
{
    bl_test_domain_new_org(&fx);
    char bad[BL_UUID_SIZE], why[512];
    REQUIRE(create_event("E1", now_ms - 30 * MINUTE, "", NULL) == 0);
    REQUIRE(send_on("event.record_attendance", "E1", "\"person_id\":\"p1\",\"status\":\"PRESENT\",\"duration_minutes\":55",
                    NULL) == 0);
    REQUIRE(send_on("event.record_attendance", "E1", "\"person_id\":\"p1\",\"status\":\"PRESENT\",\"duration_minutes\":55",
                    NULL) == 0); /* the same again: nothing to announce */
    REQUIRE(send_on("event.record_attendance", "E1", "\"person_id\":\"p2\",\"status\":\"ABSENT\"", NULL) == 0);
    REQUIRE(send_on("event.record_attendance", "E1",
                    "\"person_id\":\"walk-in@example.fr\",\"name\":\"Walk In\",\"email\":\"walk-in@example.fr\","
                    "\"status\":\"LATE\",\"source\":\"zoom\"", NULL) == 0);
    REQUIRE(send_on("event.record_attendance", "E1", "\"person_id\":\"p9\",\"status\":\"PRESENT\",\"email\":\"nope\"",
                    bad) == 0);
    REQUIRE(bl_test_domain_run(&fx, 6) == 0);
    CHECK_EQ_INT(events_of("attendance.updated", "E1"), 3);
    json_t *env = last_event("attendance.updated", "E1");
    REQUIRE(env);
    const json_t *d = data_of(env);
    CHECK_EQ_INT(json_integer_value(json_object_get(d, "present_count")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(d, "expected_count")), 3);
    CHECK(json_real_value(json_object_get(d, "attendance_rate")) > 66.6 &&
          json_real_value(json_object_get(d, "attendance_rate")) < 66.7);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "event_name")), "Formation sécurité");
    json_decref(env);
    refusal_of(bad, why, sizeof why);
    CHECK(strstr(why, "data.email: not a well-formed") != NULL);
    char id[128], want[160];
    snprintf(id, sizeof id, "%s-E1", fx.org);
    snprintf(want, sizeof want, "%sevents.attendance.attendance", fx.prefix);
    PGresult *res = bl_test_domain_query(&fx, "SELECT DISTINCT topic FROM busline_outbox WHERE aggregate_id = $1"
                                              " AND event_type = 'attendance.updated'", id);
    REQUIRE(res && PQntuples(res) == 1);
    CHECK_EQ_STR(PQgetvalue(res, 0, 0), want);
    PQclear(res);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM attendance_records WHERE organization_id = $1",
                                      fx.org), 3);
}

/* A second instance of the service on the same database, not consuming
 * (its own group), for the timer. */
static bl_domain_service *second_instance(void)
{
    char group[96];
    bl_test_unique_name(group, sizeof group, "attendance_second");
    bl_domain_service_opts o = {.rules = &bl_attendance_rules, .brokers = bl_test_kafka_brokers(),
                                .pg_url = fx.reg.pg_url, .group_id = group, .commands_topic = fx.commands_topic,
                                .events_topic_prefix = fx.prefix, .registry_url = fx.reg.base_url};
    bl_err err = {0};
    bl_domain_service *svc = bl_domain_service_new(&o, &err);
    if (!svc)
        fprintf(stderr, "  second instance: %s\n", err.msg);
    return svc;
}

typedef struct firing {
    bl_domain_service *svc;
    long fired;
    int failed;
} firing;

/* Fires batches of 3 until none is due. */
static void *fire_until_idle(void *arg)
{
    firing *f = arg;
    bl_err err = {0};
    int n;
    while ((n = bl_domain_service_fire_due(f->svc, 3, &err)) > 0)
        f->fired += n;
    if (n < 0) {
        fprintf(stderr, "  fire: %s\n", err.msg);
        f->failed = 1;
    }
    return NULL;
}

static long reminders_in_org(void)
{
    return bl_test_domain_count(&fx, "SELECT count(*) FROM busline_outbox o WHERE o.event_type = 'event.reminder_due'"
                                     " AND o.aggregate_id LIKE $1 || '-%'", fx.org);
}

static void reminder_fires_once_across_two_instances_and_rearms(void)
{
    bl_test_domain_new_org(&fx);
    bl_domain_service *other = second_instance();
    REQUIRE(other);
    bl_err err = {0};
    /* 30 events due now (start in 10 min, remind 15 before), one not yet
     * (start in 2 days), one over already (ended yesterday). */
    enum { DUE = 30 };
    for (int i = 0; i < DUE; i++) {
        char suffix[16];
        snprintf(suffix, sizeof suffix, "R%d", i);
        REQUIRE(create_event(suffix, now_ms + 10 * MINUTE, "\"reminder_minutes\":15", NULL) == 0);
    }
    REQUIRE(create_event("LATER", now_ms + 48 * 60 * MINUTE, "\"reminder_minutes\":15", NULL) == 0);
    REQUIRE(create_event("OVER", now_ms - 25 * 60 * MINUTE, "\"reminder_minutes\":15", NULL) == 0);
    REQUIRE(bl_test_domain_run(&fx, DUE + 2) == 0);

    /* A row locked by another replica's open claim is skipped, not waited on. */
    PGconn *holder = bl_pg_connect(fx.reg.pg_url, &err);
    REQUIRE(holder);
    char id[128];
    snprintf(id, sizeof id, "%s-R0", fx.org);
    const char *p[] = {id};
    REQUIRE(bl_pg_begin(holder, &err) == 0);
    PGresult *lock = bl_pg_exec(holder, "SELECT 1 FROM attendance_events WHERE event_id = $1 FOR UPDATE", 1, p, &err);
    REQUIRE(lock && PQntuples(lock) == 1);
    PQclear(lock);
    firing a = {.svc = fx.svc}, b = {.svc = other};
    pthread_t ta, tb;
    REQUIRE(pthread_create(&ta, NULL, fire_until_idle, &a) == 0);
    REQUIRE(pthread_create(&tb, NULL, fire_until_idle, &b) == 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(!a.failed && !b.failed);
    CHECK_EQ_INT(a.fired + b.fired, DUE - 1 + 1); /* every due one but R0, plus OVER (claimed, not announced) */
    CHECK_EQ_INT(reminders_in_org(), DUE - 1);
    CHECK_EQ_INT(events_of("event.reminder_due", "R0"), 0);
    REQUIRE(bl_pg_rollback(holder, &err) == 0);
    PQfinish(holder);
    /* R0 goes to whichever fires next; nothing fires twice. */
    firing c = {.svc = other}, d = {.svc = fx.svc};
    fire_until_idle(&c);
    fire_until_idle(&d);
    CHECK_EQ_INT(c.fired + d.fired, 1);
    CHECK_EQ_INT(reminders_in_org(), DUE);
    for (int i = 0; i < DUE; i++) {
        char suffix[16];
        snprintf(suffix, sizeof suffix, "R%d", i);
        CHECK_EQ_INT(events_of("event.reminder_due", suffix), 1);
    }
    CHECK_EQ_INT(events_of("event.reminder_due", "LATER"), 0);
    CHECK_EQ_INT(events_of("event.reminder_due", "OVER"), 0);
    char v[64];
    column_of("OVER", "reminder_sent_at IS NOT NULL", v, sizeof v);
    CHECK_EQ_STR(v, "true");
    json_t *env = last_event("event.reminder_due", "R3");
    REQUIRE(env);
    CHECK_EQ_INT(json_integer_value(json_object_get(data_of(env), "remind_before_minutes")), 15);
    CHECK_EQ_INT(millis_of(json_object_get(data_of(env), "starts_at")), now_ms + 10 * MINUTE);
    CHECK_EQ_INT(json_array_size(json_object_get(data_of(env), "attendees")), 2);
    json_decref(env);

    /* A title change does not re-arm; a moved start does, with a new event id. */
    REQUIRE(send_on("event.update", "R1", "\"title\":\"renamed\"", NULL) == 0);
    REQUIRE(send_on("event.update", "R2", "\"ends_at\":0", NULL) == 0); /* refused: end before start */
    char move[256];
    snprintf(move, sizeof move, "\"starts_at\":%" PRId64 ",\"ends_at\":%" PRId64, now_ms + 5 * MINUTE,
             now_ms + 65 * MINUTE);
    REQUIRE(send_on("event.update", "R2", move, NULL) == 0);
    snprintf(move, sizeof move, "\"starts_at\":%" PRId64 ",\"ends_at\":%" PRId64, now_ms + 48 * 60 * MINUTE,
             now_ms + 49 * 60 * MINUTE);
    REQUIRE(send_on("event.update", "R4", move, NULL) == 0); /* moved later: re-armed, not due yet */
    REQUIRE(bl_test_domain_run(&fx, 4) == 0);
    column_of("R4", "reminder_sent_at IS NULL", v, sizeof v);
    CHECK_EQ_STR(v, "true");

    /* After a restart (a new instance), the timer is still in PostgreSQL. */
    bl_domain_service_free(other);
    other = second_instance();
    REQUIRE(other);
    firing e = {.svc = other};
    fire_until_idle(&e);
    CHECK(!e.failed);
    CHECK_EQ_INT(e.fired, 1);
    CHECK_EQ_INT(events_of("event.reminder_due", "R1"), 1);
    CHECK_EQ_INT(events_of("event.reminder_due", "R2"), 2);
    CHECK_EQ_INT(events_of("event.reminder_due", "R4"), 1);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(DISTINCT ce_id) FROM busline_outbox WHERE aggregate_id = $1"
                              " AND event_type = 'event.reminder_due'");
    snprintf(id, sizeof id, "%s-R2", fx.org);
    CHECK_EQ_INT(bl_test_domain_count(&fx, sql, id), 2);
    bl_domain_service_free(other);
}

int main(void)
{
    bl_log_init("test_attendance_domain", BL_LOG_WARN);
    now_ms = bl_clock_wall_ms();
    int rc = 1;
    if (bl_test_domain_start(&fx, "attendance", &bl_attendance_rules) == 0) {
        BL_RUN(created_event_is_a_row_at_version_1_and_a_full_event);
        BL_RUN(every_invalid_field_is_refused_with_its_reason);
        BL_RUN(updates_version_and_name_only_what_changed);
        BL_RUN(origin_goes_from_command_to_row_to_event);
        BL_RUN(a_cancelled_event_refuses_changes_and_records);
        BL_RUN(attendance_records_update_the_counts);
        BL_RUN(reminder_fires_once_across_two_instances_and_rearms);
        rc = bl_test_summary();
    }
    bl_test_domain_stop(&fx);
    return rc;
}
