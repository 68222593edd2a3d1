/* The Attendance-X events on the attendance surface (/attendance/api)
 * against real PostgreSQL and Kafka, the attendance domain service stepped
 * beside the API: create answered 201 once the domain applied it (202 with
 * a status URL that tells the outcome when the service is not running),
 * read, update with versions and expectedVersion (a stale one 422 with its
 * reason), cancel, every invalid field listed in details, the list's
 * filters and meta, attendance records with counts, and the surface's
 * OpenAPI document. */
#include "core/kafka_admin.h"
#include "core/log.h"
#include "producers/attendance/domain.h"
#include "producers/domain_service/service.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bl_test_api api;
static bl_domain_service *svc;
static atomic_int service_running;
static pthread_t service_thread;

#define EVENT_BODY(title, extra)                                                                          \
    "{\"title\":\"" title "\",\"type\":\"training\",\"startDate\":\"2027-03-15T09:00:00Z\","               \
    "\"endDate\":\"2027-03-15T17:00:00Z\",\"timezone\":\"Europe/Paris\",\"location\":\"Salle 3\","          \
    "\"organizer\":{\"email\":\"marie.dubois@example.fr\",\"name\":\"Marie Dubois\"},"                     \
    "\"attendees\":[{\"id\":\"u1\",\"name\":\"Paul\",\"email\":\"paul@example.fr\"},{\"id\":\"u2\",\"name\":\"Lea\"}]" \
    extra "}"

static void *step_service(void *arg)
{
    (void)arg;
    while (atomic_load(&service_running)) {
        bl_err err = {0};
        if (bl_domain_service_step(svc, 100, &err) < 0)
            fprintf(stderr, "  service: %s\n", err.msg);
    }
    return NULL;
}

static void service_start(void)
{
    atomic_store(&service_running, 1);
    if (pthread_create(&service_thread, NULL, step_service, NULL) != 0)
        atomic_store(&service_running, 0);
}

static void service_stop(void)
{
    if (!atomic_load(&service_running))
        return;
    atomic_store(&service_running, 0);
    pthread_join(service_thread, NULL);
}

static long call(const char *method, const char *path, const char *token, const char *body, bl_test_reply *r)
{
    bl_test_reply_clear(r);
    return bl_test_api_call(&api, method, path, token, NULL, body, r);
}

static const json_t *data_of(const bl_test_reply *r)
{
    return json_object_get(r->json, "data");
}

static const char *error_code(const bl_test_reply *r)
{
    const char *c = json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
    return c ? c : "";
}

static const json_t *details_of(const bl_test_reply *r)
{
    return json_object_get(json_object_get(r->json, "error"), "details");
}

/* Creates an event through the API; id gets its id. Returns the status. */
static long create(const char *body, char id[64])
{
    bl_test_reply r = {0};
    long st = call("POST", "/attendance/api/events", api.write_token, body, &r);
    snprintf(id, 64, "%s", json_string_value(json_object_get(data_of(&r), "id")) ?: "");
    bl_test_reply_clear(&r);
    return st;
}

static void an_event_is_created_read_changed_and_cancelled(void)
{
    bl_test_reply r = {0};
    service_start();
    REQUIRE(call("POST", "/attendance/api/events", api.write_token, EVENT_BODY("Formation sécurité", ""), &r) == 201);
    CHECK(json_is_true(json_object_get(r.json, "success")));
    const json_t *d = data_of(&r);
    char id[64], path[160];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(d, "id")));
    CHECK_EQ_INT(strlen(id), 36);
    CHECK_EQ_INT(json_integer_value(json_object_get(d, "version")), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "status")), "scheduled");
    CHECK_EQ_STR(json_string_value(json_object_get(d, "startDate")), "2027-03-15T09:00:00.000Z");
    CHECK_EQ_STR(json_string_value(json_object_get(d, "timezone")), "Europe/Paris");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(d, "organizer"), "email")), "marie.dubois@example.fr");
    CHECK_EQ_INT(json_array_size(json_object_get(d, "attendees")), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(d, "attendees"), 1), "name")), "Lea");
    snprintf(path, sizeof path, "/attendance/api/events/%s", id);
    REQUIRE(call("GET", path, api.write_token, NULL, &r) == 200);
    CHECK_EQ_STR(json_string_value(json_object_get(data_of(&r), "title")), "Formation sécurité");
    REQUIRE(call("PUT", path, api.write_token, "{\"title\":\"Formation incendie\",\"location\":null}", &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(data_of(&r), "version")), 2);
    CHECK(json_is_null(json_object_get(data_of(&r), "location")));
    /* the same values again: applied, nothing changed, no new version */
    REQUIRE(call("PUT", path, api.write_token, "{\"title\":\"Formation incendie\",\"type\":\"training\"}", &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(data_of(&r), "version")), 2);
    /* a stale version is the domain's refusal, with its reason */
    REQUIRE(call("PUT", path, api.write_token, "{\"title\":\"Trop tard\",\"expectedVersion\":1}", &r) == 422);
    CHECK_EQ_STR(error_code(&r), "VALIDATION_ERROR");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r.json, "error"), "reason")), "conflict");
    CHECK(strstr(json_string_value(json_object_get(details_of(&r), "expectedVersion")) ?: "",
                 "expected version 1, the event is at version 2") != NULL);
    /* an end moved before the start, known only with the stored start */
    REQUIRE(call("PUT", path, api.write_token, "{\"endDate\":\"2027-03-15T08:00:00Z\"}", &r) == 422);
    CHECK(json_string_value(json_object_get(details_of(&r), "endDate")) != NULL);
    REQUIRE(call("PUT", path, api.write_token, "{\"title\":\"À jour\",\"expectedVersion\":2}", &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(data_of(&r), "version")), 3);
    /* cancel (admin: a DELETE) */
    REQUIRE(call("DELETE", path, api.write_token, NULL, &r) == 403);
    char cancel[192];
    snprintf(cancel, sizeof cancel, "%s?reason=reporte", path);
    REQUIRE(call("DELETE", cancel, api.admin_token, NULL, &r) == 200);
    CHECK_EQ_STR(json_string_value(json_object_get(data_of(&r), "status")), "cancelled");
    CHECK_EQ_STR(json_string_value(json_object_get(data_of(&r), "cancelReason")), "reporte");
    CHECK_EQ_INT(json_integer_value(json_object_get(data_of(&r), "version")), 4);
    REQUIRE(call("PUT", path, api.write_token, "{\"title\":\"revived\"}", &r) == 422);
    CHECK(strstr(json_string_value(json_object_get(json_object_get(r.json, "error"), "message")) ?: "",
                 "cancelled") != NULL);
    /* another organization sees nothing */
    REQUIRE(call("GET", path, api.other_token, NULL, &r) == 404);
    CHECK_EQ_STR(error_code(&r), "EVENT_NOT_FOUND");
    CHECK(json_is_false(json_object_get(r.json, "success")));
    service_stop();
    bl_test_reply_clear(&r);
}

static void every_invalid_field_is_listed_in_details(void)
{
    bl_test_reply r = {0};
    long before = 0;
    char n[32];
    REQUIRE(bl_test_sql_value(api.pool, "SELECT count(*) FROM api_commands", 0, NULL, n, sizeof n) == 0);
    before = atol(n);
    REQUIRE(call("POST", "/attendance/api/events", api.write_token,
                 "{\"type\":\"party\",\"startDate\":\"2027-03-15T09:00:00Z\",\"endDate\":\"2027-03-15T08:00:00Z\","
                 "\"timezone\":\"Mars/Olympus\",\"organizer\":{\"email\":\"not-an-address\"},"
                 "\"attendees\":[{\"id\":\"a\",\"email\":\"a@b\"},{\"id\":\"a\"}],\"isPrivate\":\"yes\","
                 "\"reminderMinutes\":-5,\"colour\":\"red\"}", &r) == 422);
    CHECK_EQ_STR(error_code(&r), "VALIDATION_ERROR");
    const json_t *det = details_of(&r);
    static const char *const fields[] = {"title", "type", "endDate", "timezone", "organizer.email",
                                         "attendees[0].email", "attendees[1].id", "isPrivate", "reminderMinutes",
                                         "colour"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (!json_is_string(json_object_get(det, fields[i]))) {
            fprintf(stderr, "  no detail for %s in %s\n", fields[i], r.body);
            CHECK(0);
        }
    }
    REQUIRE(call("POST", "/attendance/api/events", api.write_token, "[1]", &r) == 422);
    CHECK(json_is_string(json_object_get(details_of(&r), "body")));
    REQUIRE(call("GET", "/attendance/api/events?type=party&status=gone&from=yesterday&limit=1000", api.write_token,
                 NULL, &r) == 422);
    det = details_of(&r);
    CHECK(json_object_get(det, "type") && json_object_get(det, "status") && json_object_get(det, "from") &&
          json_object_get(det, "limit"));
    REQUIRE(bl_test_sql_value(api.pool, "SELECT count(*) FROM api_commands", 0, NULL, n, sizeof n) == 0);
    CHECK_EQ_INT(atol(n), before); /* nothing was sent */
    bl_test_reply_clear(&r);
}

static void the_list_filters_and_pages_with_meta(void)
{
    const char *p[] = {api.org};
    REQUIRE(bl_test_sql(api.pool,
        "INSERT INTO attendance_events (organization_id, event_id, title, description, event_type, starts_at, ends_at,"
        " timezone, organizer, status) SELECT $1, 'L' || i, 'Listed ' || i, CASE WHEN i = 3 THEN 'about Kubernetes' END,"
        " CASE WHEN i % 2 = 0 THEN 'meeting' ELSE 'webinar' END, timestamptz '2030-01-01' + i * interval '1 day',"
        " timestamptz '2030-01-01' + i * interval '1 day' + interval '1 hour', 'UTC',"
        " jsonb_build_object('email', CASE WHEN i = 5 THEN 'Boss@Example.com' ELSE 'lead@example.com' END),"
        " CASE WHEN i = 7 THEN 'cancelled' ELSE 'scheduled' END FROM generate_series(1, 9) i", 1, p) == 0);
    bl_test_reply r = {0};
    REQUIRE(call("GET", "/attendance/api/events?from=2030-01-01&to=2030-01-31&limit=4&page=2", api.write_token, NULL,
                 &r) == 200);
    const json_t *meta = json_object_get(r.json, "meta");
    CHECK_EQ_INT(json_integer_value(json_object_get(meta, "total")), 9);
    CHECK_EQ_INT(json_integer_value(json_object_get(meta, "page")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(meta, "limit")), 4);
    CHECK_EQ_INT(json_integer_value(json_object_get(meta, "totalPages")), 3);
    CHECK_EQ_INT(json_array_size(data_of(&r)), 4);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(data_of(&r), 0), "id")), "L5");
    REQUIRE(call("GET", "/attendance/api/events?from=2030-01-01&type=meeting", api.write_token, NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "meta"), "total")), 4);
    REQUIRE(call("GET", "/attendance/api/events?search=kubernetes", api.write_token, NULL, &r) == 200);
    CHECK_EQ_INT(json_array_size(data_of(&r)), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(data_of(&r), 0), "id")), "L3");
    REQUIRE(call("GET", "/attendance/api/events?organizer=boss@example.com", api.write_token, NULL, &r) == 200);
    CHECK_EQ_INT(json_array_size(data_of(&r)), 1);
    REQUIRE(call("GET", "/attendance/api/events?status=cancelled&from=2030-01-01", api.write_token, NULL, &r) == 200);
    CHECK_EQ_INT(json_array_size(data_of(&r)), 1);
    REQUIRE(call("GET", "/attendance/api/events?from=2030-01-03&to=2030-01-04", api.write_token, NULL, &r) == 200);
    CHECK_EQ_INT(json_array_size(data_of(&r)), 2); /* L3 and L4 */
    REQUIRE(call("GET", "/attendance/api/events?from=2030-01-01", api.other_token, NULL, &r) == 200);
    CHECK_EQ_INT(json_array_size(data_of(&r)), 0);
    bl_test_reply_clear(&r);
}

static void attendance_is_recorded_and_counted(void)
{
    char id[64], path[192];
    service_start();
    REQUIRE(create(EVENT_BODY("Atelier", ""), id) == 201);
    snprintf(path, sizeof path, "/attendance/api/events/%s/attendance", id);
    bl_test_reply r = {0};
    REQUIRE(call("POST", path, api.write_token, "{\"personId\":\"u1\",\"status\":\"present\",\"durationMinutes\":50}",
                 &r) == 201);
    const json_t *summary = json_object_get(data_of(&r), "summary");
    CHECK_EQ_INT(json_integer_value(json_object_get(summary, "presentCount")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(summary, "expectedCount")), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(data_of(&r), "record"), "status")), "present");
    REQUIRE(call("POST", path, api.write_token, "{\"personId\":\"u2\",\"status\":\"ABSENT\"}", &r) == 201);
    REQUIRE(call("POST", path, api.write_token, "{\"personId\":\"u3\",\"status\":\"maybe\",\"email\":\"x\"}", &r) == 422);
    CHECK(json_object_get(details_of(&r), "status") && json_object_get(details_of(&r), "email"));
    REQUIRE(call("GET", path, api.write_token, NULL, &r) == 200);
    CHECK_EQ_INT(json_array_size(data_of(&r)), 2);
    const json_t *meta = json_object_get(r.json, "meta");
    CHECK_EQ_INT(json_integer_value(json_object_get(meta, "total")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(meta, "presentCount")), 1);
    CHECK(json_number_value(json_object_get(meta, "attendanceRate")) == 50.0);
    REQUIRE(call("POST", "/attendance/api/events/nope/attendance", api.write_token,
                 "{\"personId\":\"u1\",\"status\":\"present\"}", &r) == 404);
    CHECK_EQ_STR(error_code(&r), "EVENT_NOT_FOUND");
    service_stop();
    char n[32];
    const char *p[] = {id};
    REQUIRE(bl_test_sql_value(api.pool, "SELECT count(*) FROM busline_outbox WHERE aggregate_id = $1"
                                        " AND event_type = 'attendance.updated'", 1, p, n, sizeof n) == 0);
    CHECK_EQ_STR(n, "2");
    bl_test_reply_clear(&r);
}

static void past_the_bound_the_status_url_tells_the_outcome(void)
{
    bl_test_reply r = {0};
    /* no service running: the API's bounded wait passes */
    REQUIRE(call("POST", "/attendance/api/events", api.write_token, EVENT_BODY("Plus tard", ""), &r) == 202);
    const char *url = json_string_value(json_object_get(data_of(&r), "statusUrl"));
    REQUIRE(url && strncmp(url, "/attendance/api/commands/", 25) == 0);
    char status_url[192], id[64];
    snprintf(status_url, sizeof status_url, "%s", url);
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(data_of(&r), "id")));
    REQUIRE(call("GET", status_url, api.write_token, NULL, &r) == 200);
    CHECK_EQ_STR(json_string_value(json_object_get(data_of(&r), "status")), "accepted");
    bl_err err = {0};
    long applied = bl_domain_service_stats_get(svc).applied;
    for (int i = 0; i < 300 && bl_domain_service_stats_get(svc).applied == applied; i++)
        bl_domain_service_step(svc, 200, &err);
    REQUIRE(call("GET", status_url, api.write_token, NULL, &r) == 200);
    CHECK_EQ_STR(json_string_value(json_object_get(data_of(&r), "status")), "processed");
    char path[160];
    snprintf(path, sizeof path, "/attendance/api/events/%s", id);
    REQUIRE(call("GET", path, api.write_token, NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(data_of(&r), "version")), 1);
    bl_test_reply_clear(&r);
}

static void the_surface_has_its_openapi_document(void)
{
    bl_test_reply r = {0};
    REQUIRE(call("GET", "/attendance/api/openapi.json", NULL, NULL, &r) == 200);
    const json_t *paths = json_object_get(r.json, "paths");
    static const char *const want[] = {"/attendance/api/events", "/attendance/api/events/{id}",
                                       "/attendance/api/events/{id}/attendance", "/attendance/api/commands/{id}"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK(json_object_get(paths, want[i]) != NULL);
    CHECK(json_object_get(json_object_get(json_object_get(r.json, "components"), "schemas"), "AttendanceEvent"));
    CHECK(json_object_get(json_object_get(json_object_get(paths, "/attendance/api/events"), "post"), "requestBody"));
    bl_test_reply_clear(&r);
}

int main(void)
{
    bl_log_init("test_attendance_api", BL_LOG_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = 1;
    char dlq[192];
    bl_err setup_err = {0};
    bl_kafka_admin *admin = NULL;
    if (bl_test_api_start_waiting(&api, 1, 3000) == 0) {
        /* the dead-letter topic of the fixture's commands.attendance, for refusals */
        snprintf(dlq, sizeof dlq, "%s.dlq", api.topics[2]);
        bl_kafka_topic_spec spec = {dlq, 1, 1, NULL};
        const char *names[] = {dlq};
        if (!(admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &setup_err)) ||
            bl_kafka_admin_create_topics(admin, &spec, 1, 30000, &setup_err) != 0 ||
            bl_kafka_admin_wait_visible(admin, names, 1, 30000, &setup_err) != 0)
            fprintf(stderr, "setup: %s\n", setup_err.msg);
        char group[96];
        bl_test_unique_name(group, sizeof group, "g_attendance_api");
        bl_domain_service_opts o = {.rules = &bl_attendance_rules, .brokers = bl_test_kafka_brokers(),
                                    .pg_url = api.registry.pg_url, .group_id = group,
                                    .commands_topic = api.topics[2], .dlq_topic = dlq,
                                    .events_topic_prefix = api.prefix,
                                    .registry_url = api.registry.base_url};
        bl_err err = {0};
        if ((svc = bl_domain_service_new(&o, &err))) {
            BL_RUN(an_event_is_created_read_changed_and_cancelled);
            BL_RUN(every_invalid_field_is_listed_in_details);
            BL_RUN(the_list_filters_and_pages_with_meta);
            BL_RUN(attendance_is_recorded_and_counted);
            BL_RUN(past_the_bound_the_status_url_tells_the_outcome);
            BL_RUN(the_surface_has_its_openapi_document);
            rc = bl_test_summary();
        } else {
            fprintf(stderr, "setup: %s\n", err.msg);
        }
    }
    service_stop();
    bl_domain_service_free(svc);
    if (admin) {
        const char *names[] = {dlq};
        bl_kafka_admin_delete_topics(admin, names, 1, 30000, &setup_err);
        bl_kafka_admin_free(admin);
    }
    bl_test_api_stop(&api);
    curl_global_cleanup();
    return rc;
}
