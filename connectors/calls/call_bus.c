/* A bus call's message: the command or event envelope of the catalog around
 * the filled data, encoded in the Confluent wire format with its topic's
 * registered schema, with CloudEvents headers. Its id is the idempotency
 * key when that is a UUID, else a UUID derived from the organization, the
 * call id and the key: every attempt, and every run with the same key,
 * sends the same id, which the bus's consumers deduplicate on; a command
 * also carries the key itself as its idempotency_key. */
#include "connectors/calls/call_attempt.h"

#include "core/clock.h"
#include "producers/commands/command_envelope.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUS_SOURCE "busline-custom-api"

static bool is_uuid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

static int message_id(const bl_call *c, const char *key, char id[BL_UUID_SIZE], bl_err *err)
{
    if (!key)
        return bl_uuid_random(id, err);
    if (is_uuid(key)) {
        snprintf(id, BL_UUID_SIZE, "%s", key);
        return 0;
    }
    size_t n = strlen(c->key) + strlen(key) + 16;
    char *seed = malloc(n);
    if (!seed)
        return bl_err_set(err, BL_ENOMEM, "bus: out of memory");
    snprintf(seed, n, "calls:%s:%s", c->key, key);
    int rc = bl_uuid_derived(seed, id, err);
    free(seed);
    return rc;
}

char *bl_call_bus_produced_key(const bl_call *c, const char *key)
{
    size_t n = strlen(c->key) + strlen(key) + 8;
    char *k = malloc(n);
    if (k)
        snprintf(k, n, "bus:%s:%s", c->key, key);
    return k;
}

int bl_call_bus_prepare(bl_call_runner *r, const bl_call *c, const json_t *input, const char *key,
                        bl_call_bus_msg *m, bl_err *err)
{
    memset(m, 0, sizeof *m);
    bl_domain_codec *codec = bl_call_runner_codec(r, c->domain, err);
    if (!codec)
        return -1;
    char *subject = bl_call_fill_text(c->subject, input, false, err);
    if (!subject)
        return bl_err_wrap(err, "subject");
    if (!*subject || strlen(subject) >= sizeof m->subject) {
        free(subject);
        return bl_err_set(err, BL_EINVAL, "subject: the filled aggregate id must be 1 to 255 bytes");
    }
    snprintf(m->subject, sizeof m->subject, "%s", subject);
    free(subject);
    if (message_id(c, key, m->id, err) != 0)
        return -1;
    json_t *data = c->data ? bl_call_fill_json(c->data, input, err) : json_deep_copy(input);
    if (!data)
        return bl_err_wrap(err, "data");
    bl_command_meta meta = {.type = c->message_type, .organization_id = c->organization_id,
                            .subject = m->subject, .source = BUS_SOURCE, .actor = c->actor,
                            .idempotency_key = key ? key : m->id};
    int64_t time_ms = bl_clock_wall_ms();
    json_t *env;
    if (c->kind == BL_MSG_COMMAND)
        env = bl_command_envelope_new(&meta, data, m->id, &time_ms, err);
    else if (!(env = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:O}", "id", m->id, "type", c->message_type,
                               "time", (json_int_t)time_ms, "source", BUS_SOURCE, "organization_id",
                               c->organization_id, "subject", m->subject, "data", data)))
        bl_err_set(err, BL_ENOMEM, "bus: out of memory (or a field is not UTF-8)");
    json_decref(data);
    if (!env)
        return -1;
    bl_domain_wire wire;
    int rc = bl_domain_codec_encode(codec, c->kind, env, &wire, err);
    json_decref(env);
    if (rc != 0)
        return bl_err_wrap(err, "data");
    m->topic = wire.topic;
    m->bytes = wire.bytes;
    m->len = wire.len;
    m->n_headers = bl_command_headers(&meta, m->id, time_ms, m->time_text, m->headers);
    /* the headers borrow id, subject, time_text (in m), type (in c) and the literal source */
    return 0;
}

void bl_call_bus_msg_clear(bl_call_bus_msg *m)
{
    if (m) {
        free(m->bytes);
        m->bytes = NULL;
    }
}

json_t *bl_call_bus_answer(const bl_call_bus_msg *m, int32_t partition, int64_t offset)
{
    return json_pack("{s:s, s:s, s:i, s:I}", "id", m->id, "topic", m->topic, "partition", (int)partition,
                     "offset", (json_int_t)offset);
}
