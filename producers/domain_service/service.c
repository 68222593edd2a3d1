#include "core/clock.h"
#include "core/time_format.h"
#include "producers/domain_service/service.h"
#include "producers/domain_service/service_internal.h"

#include "consumers/retry_policy.h"
#include "core/kafka_consumer.h"
#include "core/kafka_producer.h"
#include "core/log.h"
#include "core/pg_pool.h"
#include "core/signals.h"
#include "busline/outbox.h"
#include "producers/domain_service/codec.h"
#include "producers/domain_service/command.h"
#include "core/uuid.h"
#include "schemas/avro_json.h"

#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DLQ_ACK_TIMEOUT_MS 30000
/* Where every command's outcome is announced, for callers waiting on it
 * (the API's bounded wait, api/command_outcomes.h). */
#define OUTCOME_CHANNEL "busline_command_outcome"
#define RETRY_BACKOFF_MAX_MS 5000
/* How often the run loop fires a domain's due timers, and how many at most
 * in one transaction. */
#define TIMER_PERIOD_MS 1000
#define TIMER_BATCH 100

/* The consumer's rebalance hooks: lists are incremental under the
 * cooperative protocol and whole under the eager one, so a count works for
 * both. */
static void count_assigned(const rd_kafka_topic_partition_list_t *parts, int lost, void *user)
{
    (void)lost;
    bl_domain_service *svc = user;
    atomic_fetch_add(&svc->assigned, parts->cnt);
}

static void count_revoked(const rd_kafka_topic_partition_list_t *parts, int lost, void *user)
{
    (void)lost;
    bl_domain_service *svc = user;
    if (atomic_fetch_sub(&svc->assigned, parts->cnt) < parts->cnt)
        atomic_store(&svc->assigned, 0);
}

bl_domain_service *bl_domain_service_new(const bl_domain_service_opts *opts, bl_err *err)
{
    if (!opts->brokers || !opts->pg_url || !opts->rules || !opts->rules->domain ||
        !opts->rules->processed_table || !opts->rules->apply) {
        bl_err_set(err, BL_EINVAL, "domain service: brokers, pg_url and rules are required");
        return NULL;
    }
    bl_domain_service *svc = calloc(1, sizeof *svc);
    if (!svc) {
        bl_err_set(err, BL_ENOMEM, "domain service: out of memory");
        return NULL;
    }
    svc->rules = *opts->rules;
    const char *domain = svc->rules.domain;
    bl_domain_codec_opts codec_opts = {
        .domain = domain,
        .registry_url = opts->registry_url,
        .schemas_dir = opts->schemas_dir,
        .commands_topic = opts->commands_topic,
        .events_prefix = opts->events_topic_prefix,
    };
    if (!(svc->codec = bl_domain_codec_new(&codec_opts, err)))
        goto fail;
    const char *commands_topic = bl_domain_codec_commands_topic(svc->codec);
    svc->pg_url = strdup(opts->pg_url);
    char name[128];
    snprintf(name, sizeof name, "busline/%s", domain);
    svc->source = strdup(opts->source ? opts->source : name);
    if (opts->api_prefix && !(svc->api_prefix = strdup(opts->api_prefix)))
        goto fail;
    char insert[512], update[512], replayed[512];
    snprintf(insert, sizeof insert,
             "INSERT INTO %s (command_id, organization_id, command_type, idempotency_key)"
             " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING command_id",
             svc->rules.processed_table);
    /* the count and the applied outcome's NOTIFY in one round trip */
    snprintf(update, sizeof update,
             "WITH counted AS (UPDATE %s SET events = $2 WHERE command_id = $1)"
             " SELECT pg_notify('" OUTCOME_CHANNEL "', $3)",
             svc->rules.processed_table);
    /* A duplicate's outcome is announced again: its sender may be waiting
     * (a retried request sends the same command id). */
    snprintf(replayed, sizeof replayed,
             "SELECT pg_notify('" OUTCOME_CHANNEL "', json_build_object('command_id', command_id,"
             " 'organization_id', organization_id, 'domain', $2::text, 'outcome', 'applied',"
             " 'events', events)::text) FROM %s WHERE command_id = $1",
             svc->rules.processed_table);
    svc->insert_sql = strdup(insert);
    svc->events_sql = strdup(update);
    svc->replayed_sql = strdup(replayed);
    if (opts->dlq_topic) {
        svc->dlq_topic = strdup(opts->dlq_topic);
    } else {
        size_t n = strlen(commands_topic) + sizeof ".dlq";
        if ((svc->dlq_topic = malloc(n)))
            snprintf(svc->dlq_topic, n, "%s.dlq", commands_topic);
    }
    if (!svc->pg_url || !svc->dlq_topic || !svc->source || !svc->insert_sql || !svc->events_sql ||
        !svc->replayed_sql) {
        bl_err_set(err, BL_ENOMEM, "%s: out of memory", svc->rules.domain);
        goto fail;
    }
    if (!(svc->conn = bl_pg_connect(svc->pg_url, err)) ||
        !(svc->dlq = bl_kafka_producer_new(opts->brokers, NULL, NULL, NULL, err)))
        goto fail;
    snprintf(name, sizeof name, "busline-%s", domain);
    char session[24], heartbeat[24];
    snprintf(session, sizeof session, "%d", opts->session_timeout_ms);
    snprintf(heartbeat, sizeof heartbeat, "%d", opts->session_timeout_ms / 3 > 1000 ? opts->session_timeout_ms / 3 : 1000);
    const char *const session_conf[] = {"session.timeout.ms", session, "heartbeat.interval.ms", heartbeat, NULL};
    bl_kafka_consumer_opts copts = {
        .brokers = opts->brokers,
        .group_id = opts->group_id ? opts->group_id : name,
        .auto_offset_reset = "earliest",
        .on_assign = count_assigned,
        .on_revoke = count_revoked,
        .user = svc,
        .extra = opts->session_timeout_ms > 0 ? session_conf : NULL,
    };
    const char *topics[] = {commands_topic};
    if (!(svc->consumer = bl_kafka_consumer_new(&copts, err)) ||
        bl_kafka_consumer_subscribe(svc->consumer, topics, 1, err) != 0)
        goto fail;
    return svc;
fail:
    bl_domain_service_free(svc);
    return NULL;
}

void bl_domain_service_free(bl_domain_service *svc)
{
    if (!svc)
        return;
    bl_kafka_consumer_free(svc->consumer);
    bl_kafka_producer_free(svc->dlq, 5000);
    PQfinish(svc->conn);
    bl_domain_codec_free(svc->codec);
    free(svc->pg_url);
    free(svc->dlq_topic);
    free(svc->source);
    free(svc->api_prefix);
    free(svc->insert_sql);
    free(svc->events_sql);
    free(svc->replayed_sql);
    free(svc);
}

bl_domain_service_stats bl_domain_service_stats_get(const bl_domain_service *svc)
{
    return svc->stats;
}

int bl_domain_service_assigned(const bl_domain_service *svc)
{
    return svc ? atomic_load(&svc->assigned) : 0;
}

int bl_domain_service_ready(void *ctx, char *reason, size_t reason_len)
{
    if (bl_domain_service_assigned(ctx) > 0)
        return 1;
    if (reason && reason_len)
        snprintf(reason, reason_len, "no partitions assigned yet");
    return 0;
}

/* Encodes event number index of command cmd_id (a timer's event: its own
 * seed and organization) and appends it to the outbox. */
static int append_event(bl_domain_service *svc, const char *cmd_id, size_t index, const char *org,
                        const bl_domain_event *e, bl_domain_refusal *why)
{
    bl_err *err = &why->err;
    char seed[768], id[BL_UUID_SIZE], time_text[32];
    if (e->id_seed)
        snprintf(seed, sizeof seed, "%s/timer/%s", svc->source, e->id_seed);
    else
        snprintf(seed, sizeof seed, "%s/%s#%zu", svc->source, cmd_id, index);
    if (e->organization_id)
        org = e->organization_id;
    if (bl_uuid_derived(seed, id, err) != 0)
        return -1;
    int64_t now = bl_clock_wall_ms();
    bl_rfc3339_format_millis(now, time_text, sizeof time_text);
    json_t *env = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:O}", "id", id, "type", e->type,
                            "time", (json_int_t)now, "source", svc->source, "organization_id",
                            org, "subject", e->subject, "data", e->data);
    if (!env)
        return bl_err_set(err, BL_ENOMEM, "%s: out of memory", svc->rules.domain);
    bl_domain_wire wire = {0};
    int rc = bl_domain_codec_encode(svc->codec, BL_MSG_EVENT, env, &wire, err);
    json_decref(env);
    if (rc != 0) {
        why->error_class = "event_encode";
        return bl_err_wrap(err, "%s: event %s", svc->rules.domain, e->type);
    }
    char aggregate[64];
    snprintf(aggregate, sizeof aggregate, "%.*s", (int)strcspn(e->type, "."), e->type);
    bl_outbox_event ev = {
        .aggregate_type = aggregate,
        .aggregate_id = e->subject,
        .event_type = e->type,
        .topic = wire.topic,
        .schema_id = wire.schema_id,
        .payload = wire.bytes,
        .payload_len = wire.len,
        .source = svc->source,
        .id = id,
        .subject = e->subject,
        .time = time_text,
    };
    rc = bl_outbox_append(svc->conn, &ev, err);
    free(wire.bytes);
    return rc;
}

/* Records the number of events of cmd, applied, and NOTIFYs its outcome
 * (payload: {command_id, organization_id, domain, outcome "applied",
 * events}), delivered at the transaction's commit. */
static int record_applied(bl_domain_service *svc, const bl_domain_command *cmd, size_t events,
                          bl_err *err)
{
    json_t *payload = json_pack("{s:s, s:s, s:s, s:s, s:I}", "command_id", cmd->id, "organization_id",
                                cmd->organization_id, "domain", svc->rules.domain, "outcome", "applied",
                                "events", (json_int_t)events);
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    if (!text)
        return bl_err_set(err, BL_ENOMEM, "%s: out of memory", svc->rules.domain);
    char count[24];
    snprintf(count, sizeof count, "%zu", events);
    const char *p[] = {cmd->id, count, text};
    int rc = bl_pg_exec_cmd(svc->conn, svc->events_sql, 3, p, err);
    free(text);
    return rc;
}

/* Records why cmd was refused (domain_command_refusals: the status URL's
 * answer) and announces it, in one statement. A command without id or
 * organization cannot be answered: nothing to do. Returns 0, or -1 with err
 * (infrastructure: the message is handled again). */
int bl_domain_svc_record_refusal(bl_domain_service *svc, const bl_domain_command *cmd,
                                 const bl_domain_refusal *why, bl_err *err)
{
    if (!cmd->id || !*cmd->id || !cmd->organization_id || !*cmd->organization_id)
        return 0;
    json_t *payload = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "command_id", cmd->id,
                                "organization_id", cmd->organization_id, "domain",
                                svc->rules.domain, "outcome", "refused", "error_class",
                                why->error_class, "reason", why->err.msg);
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    if (!text)
        return bl_err_set(err, BL_ENOMEM, "%s: out of memory", svc->rules.domain);
    const char *p[] = {cmd->id, cmd->organization_id, svc->rules.domain, cmd->type,
                       why->error_class, why->err.msg, text};
    int rc = bl_pg_exec_cmd(svc->conn,
                            "WITH refused AS (INSERT INTO domain_command_refusals (command_id,"
                            " organization_id, domain, command_type, error_class, reason)"
                            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING)"
                            " SELECT pg_notify('" OUTCOME_CHANNEL "', $7)",
                            7, p, err);
    free(text);
    return rc;
}

/* Announces again the outcome of cmd, already processed. */
int bl_domain_svc_announce_duplicate(bl_domain_service *svc, const bl_domain_command *cmd, bl_err *err)
{
    const char *p[] = {cmd->id, svc->rules.domain};
    return bl_pg_exec_cmd(svc->conn, svc->replayed_sql, 2, p, err);
}

int bl_domain_svc_apply_open(bl_domain_service *svc, const bl_domain_command *cmd,
                             const char *idempotency_key, size_t *n_events, bl_domain_refusal *why)
{
    bl_err *err = &why->err;
    bl_domain_events events = {0};
    const char *params[] = {cmd->id, cmd->organization_id, cmd->type, idempotency_key};
    PGresult *res = bl_pg_exec(svc->conn, svc->insert_sql, 4, params, err);
    int rc = -1;
    if (!res)
        goto done;
    if (PQntuples(res) == 0) {
        rc = 1;
        goto done;
    }
    if (svc->rules.apply(svc->conn, cmd, &events, err) != 0) {
        const char *cls = NULL;
        if (bl_domain_error_is_permanent(err, &cls))
            why->error_class = cls;
        goto done;
    }
    for (size_t i = 0; i < events.count; i++)
        if (append_event(svc, cmd->id, i, cmd->organization_id, &events.items[i], why) != 0)
            goto done;
    if (record_applied(svc, cmd, events.count, err) != 0)
        goto done;
    *n_events = events.count;
    rc = 0;
done:
    PQclear(res);
    bl_domain_events_clear(&events);
    return rc;
}

/* Applies cmd in one transaction with its processed-command row and its
 * events. Returns 0 when applied, 1 when already processed, -1 with why
 * filled (why->error_class NULL: infrastructure, retry). */
static int apply_in_transaction(bl_domain_service *svc, const bl_domain_command *cmd,
                                const char *idempotency_key, bl_domain_refusal *why)
{
    size_t events = 0;
    if (bl_pg_begin(svc->conn, &why->err) != 0)
        return -1;
    int rc = bl_domain_svc_apply_open(svc, cmd, idempotency_key, &events, why);
    if (rc == 0 && bl_pg_commit(svc->conn, &why->err) != 0)
        return -1; /* a failed COMMIT ends the transaction */
    if (rc != 0) {
        bl_err ignored = {0};
        bl_pg_rollback(svc->conn, &ignored);
    } else {
        svc->stats.events += (long)events;
    }
    return rc;
}

/* Reads the envelope fields of a decoded command into cmd (borrowing from
 * env). Returns 0, or -1 with err (BL_EINVAL). */
static int command_from_envelope(const json_t *env, bl_domain_command *cmd, const char **key,
                                 bl_err *err)
{
    const json_t *time = json_object_get(env, "time");
    cmd->id = json_string_value(json_object_get(env, "id"));
    cmd->type = json_string_value(json_object_get(env, "type"));
    cmd->organization_id = json_string_value(json_object_get(env, "organization_id"));
    cmd->actor = json_string_value(json_object_get(env, "actor"));
    cmd->data = json_object_get(env, "data");
    *key = json_string_value(json_object_get(env, "idempotency_key"));
    if (!cmd->id || !*cmd->id)
        return bl_err_set(err, BL_EINVAL, "command without id");
    if (!cmd->organization_id || !*cmd->organization_id)
        return bl_err_set(err, BL_EINVAL, "command %s without organization_id", cmd->id);
    if (json_is_integer(time))
        cmd->time_ms = (int64_t)json_integer_value(time);
    else if (!json_is_string(time) || bl_rfc3339_parse_millis(json_string_value(time), &cmd->time_ms) != 0)
        return bl_err_set(err, BL_EINVAL, "command %s: bad time", cmd->id);
    return 0;
}

/* Sends msg to the DLQ with why in headers and waits for the ack. */
int bl_domain_svc_dead_letter(bl_domain_service *svc, const bl_kafka_msg *msg, const bl_domain_refusal *why, bl_err *err)
{
    bl_kafka_header headers[BL_KAFKA_MAX_HEADERS];
    size_t n = 0, orig = bl_kafka_msg_header_count(msg);
    char partition[16], offset[24];
    snprintf(partition, sizeof partition, "%" PRId32, bl_kafka_msg_partition(msg));
    snprintf(offset, sizeof offset, "%" PRId64, bl_kafka_msg_offset(msg));
    const char *topic = bl_kafka_msg_topic(msg);
    headers[n++] = (bl_kafka_header){"error", why->err.msg, strlen(why->err.msg)};
    headers[n++] = (bl_kafka_header){"error_class", why->error_class, strlen(why->error_class)};
    headers[n++] = (bl_kafka_header){"original_topic", topic, strlen(topic)};
    headers[n++] = (bl_kafka_header){"original_partition", partition, strlen(partition)};
    headers[n++] = (bl_kafka_header){"original_offset", offset, strlen(offset)};
    /* The original headers (ce_id...) follow, as room allows. */
    for (size_t i = 0; i < orig && n < BL_KAFKA_MAX_HEADERS; i++) {
        const char *k;
        const void *v;
        size_t len;
        if (bl_kafka_msg_header_at(msg, i, &k, &v, &len) == 0 && v)
            headers[n++] = (bl_kafka_header){k, v, len};
    }
    size_t key_len, value_len;
    const void *key = bl_kafka_msg_key(msg, &key_len);
    const void *value = bl_kafka_msg_value(msg, &value_len);
    if (bl_kafka_producer_send_sync(svc->dlq, svc->dlq_topic, key, key_len, value, value_len,
                                    headers, n, DLQ_ACK_TIMEOUT_MS, NULL, NULL, err) != 0)
        return bl_err_wrap(err, "%s: dead-letter to %s", svc->rules.domain, svc->dlq_topic);
    bl_log_warn("command dead-lettered", BL_FS("topic", topic), BL_FI("partition", bl_kafka_msg_partition(msg)),
                BL_FI("offset", bl_kafka_msg_offset(msg)), BL_FS("error_class", why->error_class),
                BL_FS("error", why->err.msg));
    svc->stats.dead_letters++;
    return 0;
}

int bl_domain_svc_decode(bl_domain_service *svc, const bl_kafka_msg *msg, json_t **env,
                         bl_domain_command *cmd, const char **key, bl_domain_refusal *why)
{
    size_t len;
    const void *value = bl_kafka_msg_value(msg, &len);
    *env = bl_domain_codec_decode_command(svc->codec, value, len, &why->err);
    if (!*env || command_from_envelope(*env, cmd, key, &why->err) != 0) {
        why->error_class = "invalid";
        return -1;
    }
    cmd->api_prefix = svc->api_prefix;
    return 0;
}

/* Handles one message up to a durable outcome. Returns 0, or -1 with err
 * on an infrastructure failure (nothing durable happened; try again). */
static int handle_message(bl_domain_service *svc, const bl_kafka_msg *msg, bl_err *err)
{
    bl_domain_refusal why = {0};
    json_t *env = NULL;
    bl_domain_command cmd = {0};
    const char *key = NULL;
    int rc = bl_domain_svc_decode(svc, msg, &env, &cmd, &key, &why);
    if (rc == 0)
        rc = apply_in_transaction(svc, &cmd, key, &why);
    if (rc == 0) {
        svc->stats.applied++;
        bl_log_info("command applied", BL_FS("command_id", cmd.id), BL_FS("type", cmd.type),
                    BL_FI("offset", bl_kafka_msg_offset(msg)));
    } else if (rc == 1) {
        bl_err ignored = {0};
        if (bl_domain_svc_announce_duplicate(svc, &cmd, &ignored) != 0) /* a waiter then reads the status URL */
            bl_log_warn("duplicate's outcome not announced", BL_FS("command_id", cmd.id),
                        BL_FS("error", ignored.msg));
        svc->stats.duplicates++;
        bl_log_info("command already processed", BL_FS("command_id", cmd.id),
                    BL_FI("offset", bl_kafka_msg_offset(msg)));
        rc = 0;
    } else if (why.error_class) {
        rc = bl_domain_svc_record_refusal(svc, &cmd, &why, err);
        if (rc == 0)
            rc = bl_domain_svc_dead_letter(svc, msg, &why, err);
    } else {
        *err = why.err;
    }
    json_decref(env);
    return rc;
}

/* Sleeps ms unless a stop is asked for first. */
static void backoff(int ms)
{
    struct pollfd p = {.fd = bl_signals_wake_fd(), .events = POLLIN};
    if (p.fd >= 0)
        poll(&p, 1, ms);
    else
        nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000}, NULL);
}

/* Runs attempt(svc, msg, why_or_NULL, err) until it returns 0, with backoff
 * between failures, or until a stop is asked for. */
typedef int (*attempt_fn)(bl_domain_service *svc, const bl_kafka_msg *msg, const bl_domain_refusal *why,
                          bl_err *err);

static int retrying(bl_domain_service *svc, const bl_kafka_msg *msg, const bl_domain_refusal *why,
                    attempt_fn attempt, bl_err *err)
{
    bl_retry_policy retry = {.base_delay_ms = 100, .factor = 2.0, .max_delay_ms = RETRY_BACKOFF_MAX_MS};
    int failures = 0;
    while (attempt(svc, msg, why, err) != 0) {
        int delay = (int)bl_retry_backoff_ms(&retry, ++failures, NULL, NULL);
        bl_log_error("command not handled, retrying", BL_FS("error", err->msg),
                     BL_FI("offset", bl_kafka_msg_offset(msg)), BL_FI("retry_in_ms", delay));
        if (bl_signals_stop_requested())
            return bl_err_wrap(err, "%s: stopped before the command at offset could be handled", svc->rules.domain);
        backoff(delay);
        if (PQstatus(svc->conn) != CONNECTION_OK)
            PQreset(svc->conn);
    }
    return 0;
}

static int handle_attempt(bl_domain_service *svc, const bl_kafka_msg *msg, const bl_domain_refusal *why,
                          bl_err *err)
{
    (void)why;
    return handle_message(svc, msg, err);
}

int bl_domain_svc_handle_retrying(bl_domain_service *svc, const bl_kafka_msg *msg, bl_err *err)
{
    return retrying(svc, msg, NULL, handle_attempt, err);
}

int bl_domain_svc_dead_letter_retrying(bl_domain_service *svc, const bl_kafka_msg *msg,
                                       const bl_domain_refusal *why, bl_err *err)
{
    return retrying(svc, msg, why, bl_domain_svc_dead_letter, err);
}

int bl_domain_service_fire_due(bl_domain_service *svc, int limit, bl_err *err)
{
    if (!svc->rules.fire_due)
        return 0;
    bl_domain_refusal why = {0};
    bl_domain_events events = {0};
    if (PQstatus(svc->conn) != CONNECTION_OK)
        PQreset(svc->conn);
    if (bl_pg_begin(svc->conn, err) != 0)
        return -1;
    int fired = svc->rules.fire_due(svc->conn, limit, &events, &why.err);
    for (size_t i = 0; fired >= 0 && i < events.count; i++)
        if (append_event(svc, "", i, NULL, &events.items[i], &why) != 0)
            fired = -1;
    if (fired >= 0 && bl_pg_commit(svc->conn, &why.err) != 0)
        fired = -1;
    if (fired < 0) {
        bl_err ignored = {0};
        bl_pg_rollback(svc->conn, &ignored);
        *err = why.err;
    } else {
        svc->stats.timers += fired;
        svc->stats.events += (long)events.count;
    }
    bl_domain_events_clear(&events);
    return fired;
}

int bl_domain_service_run(bl_domain_service *svc, bl_err *err)
{
    bl_log_info("domain service started", BL_FS("domain", svc->rules.domain), BL_FS("topic", bl_domain_codec_commands_topic(svc->codec)),
                BL_FS("dlq", svc->dlq_topic));
    int64_t next_timers = 0;
    while (!bl_signals_stop_requested()) {
        if (bl_domain_service_step(svc, 500, err) < 0)
            return -1;
        int64_t now = bl_clock_mono_ms();
        if (svc->rules.fire_due && now >= next_timers) {
            bl_err timer_err = {0};
            int fired;
            /* A full batch means more may be due: go on at once. */
            while ((fired = bl_domain_service_fire_due(svc, TIMER_BATCH, &timer_err)) == TIMER_BATCH &&
                   !bl_signals_stop_requested())
                ;
            if (fired < 0) /* the timers stay due in PostgreSQL: the next tick retries */
                bl_log_warn("timers not fired", BL_FS("domain", svc->rules.domain), BL_FS("error", timer_err.msg));
            next_timers = now + TIMER_PERIOD_MS;
        }
    }
    bl_log_info("domain service stopped", BL_FS("domain", svc->rules.domain), BL_FI("applied", svc->stats.applied),
                BL_FI("duplicates", svc->stats.duplicates),
                BL_FI("dead_letters", svc->stats.dead_letters), BL_FI("events", svc->stats.events));
    return 0;
}
