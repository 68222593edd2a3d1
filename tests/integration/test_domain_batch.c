/* A poll batch of commands applied in one transaction (producers/
 * domain_service/batch.c), on the real broker and PostgreSQL with the PMO
 * rules: a refused command, an undecodable one and a duplicate inside the
 * batch neither roll back nor lose the others; a redelivered batch changes
 * nothing and publishes nothing twice; a command failing on the
 * infrastructure rolls the batch back, and every command of it is then
 * applied exactly once, one by one. The commands are produced while no
 * service is consuming and a service is then started on the group, so its
 * first fetch brings them together (checked: one step handled several). */
#include "core/log.h"
#include "producers/pmo/domain.h"
#include "tests/support/domain_fixture.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <string.h>

static bl_test_domain fx;

#define PROJECT                                                                              \
    "{\"type\":\"project.create\",\"organization_id\":\"%%s\",\"data\":{\"project_id\":\"%s\"," \
    "\"name\":\"Apollo\",\"owner_id\":\"u1\",\"budget_cents\":100,\"currency\":\"EUR\"}}"
#define RISK                                                                                         \
    "{\"type\":\"risk.create\",\"organization_id\":\"%%s\",\"data\":{\"risk_id\":\"%s\","             \
    "\"project_id\":\"%s\",\"title\":\"t\",\"description\":\"d\",\"severity\":\"MEDIUM\",\"probability\":30," \
    "\"impact\":50}}"

/* Prepares the command fmt (its %s the organization) for fx.org. */
static int prepare(const char *fmt, bl_domain_prepared *out)
{
    char text[1024];
    snprintf(text, sizeof text, fmt, fx.org);
    json_t *input = json_loads(text, 0, NULL);
    bl_domain_sender sender = {.source = "test", .actor = "tester"};
    bl_err err = {0};
    int rc = input ? bl_domain_command_prepare(fx.codec, input, &sender, out, &err) : -1;
    json_decref(input);
    if (rc != 0)
        fprintf(stderr, "  prepare: %s\n", err.msg);
    return rc;
}

static int produce(const bl_domain_prepared *p)
{
    return bl_test_domain_produce(&fx, p->subject, p->wire.bytes, p->wire.len);
}

/* A new service on the fixture's group: it resumes from the committed
 * offsets and its first fetch brings what was produced meanwhile. */
static int restart_service(void)
{
    bl_domain_service_free(fx.svc);
    bl_domain_service_opts o = {.rules = &bl_pmo_rules, .brokers = bl_test_kafka_brokers(),
                                .pg_url = fx.reg.pg_url, .group_id = fx.group,
                                .commands_topic = fx.commands_topic, .events_topic_prefix = fx.prefix,
                                .registry_url = fx.reg.base_url};
    bl_err err = {0};
    if (!(fx.svc = bl_domain_service_new(&o, &err)))
        fprintf(stderr, "  service: %s\n", err.msg);
    return fx.svc ? 0 : -1;
}

/* Steps until n commands were handled; *largest gets the most one step
 * handled. Returns 0, or -1. */
static int run(long n, int *largest)
{
    *largest = 0;
    bl_err err = {0};
    for (int i = 0; i < 60; i++) {
        bl_domain_service_stats s = bl_domain_service_stats_get(fx.svc);
        if (s.applied + s.duplicates + s.dead_letters >= n)
            return 0;
        int got = bl_domain_service_step(fx.svc, 1000, &err);
        if (got < 0) {
            fprintf(stderr, "  service: %s\n", err.msg);
            return -1;
        }
        if (got > *largest)
            *largest = got;
    }
    fprintf(stderr, "  service did not handle %ld commands\n", n);
    return -1;
}

static long count(const char *sql)
{
    return bl_test_domain_count(&fx, sql, fx.org);
}

static bl_domain_prepared p1, p2, p3, r1, r_orphan, r_flaky;

static void refused_and_undecodable_commands_in_a_batch_leave_the_others_applied_once(void)
{
    bl_test_domain_new_org(&fx);
    char fmt[1024];
    snprintf(fmt, sizeof fmt, PROJECT, "P1");
    REQUIRE(prepare(fmt, &p1) == 0);
    snprintf(fmt, sizeof fmt, PROJECT, "P2");
    REQUIRE(prepare(fmt, &p2) == 0);
    snprintf(fmt, sizeof fmt, RISK, "R1", "P1");
    REQUIRE(prepare(fmt, &r1) == 0);
    snprintf(fmt, sizeof fmt, RISK, "R-orphan", "P-none");
    REQUIRE(prepare(fmt, &r_orphan) == 0);
    static const char garbage[] = "not a command";
    /* P1, a risk of a project that does not exist (refused), R1 on P1, P1
     * again (the same command id), garbage, P2 */
    REQUIRE(produce(&p1) == 0);
    REQUIRE(produce(&r_orphan) == 0);
    REQUIRE(produce(&r1) == 0);
    REQUIRE(produce(&p1) == 0);
    REQUIRE(bl_test_domain_produce(&fx, "x", garbage, sizeof garbage - 1) == 0);
    REQUIRE(produce(&p2) == 0);
    REQUIRE(restart_service() == 0);
    int largest = 0;
    REQUIRE(run(6, &largest) == 0);
    CHECK(largest > 1); /* the batch path was the one taken */
    bl_domain_service_stats s = bl_domain_service_stats_get(fx.svc);
    CHECK_EQ_INT(s.applied, 3);
    CHECK_EQ_INT(s.duplicates, 1);
    CHECK_EQ_INT(s.dead_letters, 2);
    CHECK_EQ_INT(count("SELECT count(*) FROM pmo_processed_commands WHERE organization_id = $1"), 3);
    CHECK_EQ_INT(count("SELECT count(*) FROM pmo_projects WHERE organization_id = $1"), 2);
    CHECK_EQ_INT(count("SELECT count(*) FROM pmo_risks WHERE organization_id = $1"), 1);
    CHECK_EQ_INT(count("SELECT count(*) FROM domain_command_refusals WHERE organization_id = $1"), 1);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM domain_command_refusals WHERE command_id = $1",
                                      r_orphan.id),
                 1);
    /* the events of the three applied commands, once each */
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM busline_outbox", NULL), 3);
    CHECK_EQ_INT(count("SELECT sum(events) FROM pmo_processed_commands WHERE organization_id = $1"), 3);
    bl_test_dlq_seen seen[2] = {0};
    CHECK_EQ_INT(bl_test_domain_read_dlq(&fx, seen, 2), 2);
    CHECK(strcmp(seen[0].error_class, "infra") != 0 && *seen[0].error_class);
    CHECK_EQ_STR(seen[1].error_class, "invalid");
}

static void a_redelivered_batch_with_a_failing_command_applies_each_command_once(void)
{
    /* R-flaky's row fails twice on a transient error (serialization
     * failure): in the batch, then on its first attempt alone */
    PGresult *res = PQexec(fx.db,
                           "CREATE SEQUENCE batch_flaky;"
                           "CREATE FUNCTION batch_flaky() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                           " IF NEW.risk_id = 'R-flaky' AND nextval('batch_flaky') <= 2 THEN"
                           " RAISE EXCEPTION 'injected transient failure' USING ERRCODE = '40001'; END IF;"
                           " RETURN NEW; END $$;"
                           "CREATE TRIGGER batch_flaky BEFORE INSERT ON pmo_risks FOR EACH ROW"
                           " EXECUTE FUNCTION batch_flaky()");
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "  trigger: %s\n", PQerrorMessage(fx.db));
    PQclear(res);
    REQUIRE(ok);
    char fmt[1024];
    snprintf(fmt, sizeof fmt, RISK, "R-flaky", "P2");
    REQUIRE(prepare(fmt, &r_flaky) == 0);
    snprintf(fmt, sizeof fmt, PROJECT, "P3");
    REQUIRE(prepare(fmt, &p3) == 0);
    /* the first batch again, R-flaky, P3 */
    REQUIRE(produce(&p1) == 0);
    REQUIRE(produce(&r_orphan) == 0);
    REQUIRE(produce(&r1) == 0);
    REQUIRE(produce(&p2) == 0);
    REQUIRE(produce(&r_flaky) == 0);
    REQUIRE(produce(&p3) == 0);
    REQUIRE(restart_service() == 0);
    int largest = 0;
    REQUIRE(run(6, &largest) == 0);
    CHECK(largest > 1);
    bl_domain_service_stats s = bl_domain_service_stats_get(fx.svc);
    CHECK_EQ_INT(s.applied, 2);
    CHECK_EQ_INT(s.duplicates, 3);
    CHECK_EQ_INT(s.dead_letters, 1);
    CHECK(bl_test_domain_count(&fx, "SELECT last_value FROM batch_flaky", NULL) >= 3);
    CHECK_EQ_INT(count("SELECT count(*) FROM pmo_processed_commands WHERE organization_id = $1"), 5);
    CHECK_EQ_INT(count("SELECT count(*) FROM pmo_projects WHERE organization_id = $1"), 3);
    CHECK_EQ_INT(count("SELECT count(*) FROM pmo_risks WHERE organization_id = $1"), 2);
    CHECK_EQ_INT(count("SELECT count(*) FROM domain_command_refusals WHERE organization_id = $1"), 1);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM busline_outbox", NULL), 5);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM pmo_processed_commands WHERE command_id = $1",
                                      r_flaky.id),
                 1);
    bl_test_dlq_seen seen[4] = {0};
    CHECK_EQ_INT(bl_test_domain_read_dlq(&fx, seen, 3), 3);
    res = PQexec(fx.db, "DROP TRIGGER batch_flaky ON pmo_risks; DROP FUNCTION batch_flaky(); DROP SEQUENCE batch_flaky");
    PQclear(res);
}

int main(void)
{
    bl_log_init("test_domain_batch", BL_LOG_WARN);
    int rc = 1;
    if (bl_test_domain_start(&fx, "pmo", &bl_pmo_rules) == 0) {
        BL_RUN(refused_and_undecodable_commands_in_a_batch_leave_the_others_applied_once);
        BL_RUN(a_redelivered_batch_with_a_failing_command_applies_each_command_once);
        rc = bl_test_summary();
    }
    bl_domain_prepared *all[] = {&p1, &p2, &p3, &r1, &r_orphan, &r_flaky};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        bl_domain_prepared_clear(all[i]);
    bl_test_domain_stop(&fx);
    return rc;
}
