#include "core/time_format.h"
#include "producers/pmo_send.h"

#include "schemas/avro_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int64_t now_millis(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The aggregate id of a command: data.<entity>_id, entity being the type's
 * part before the dot. */
static const char *default_subject(const char *type, const json_t *data)
{
    const char *dot = type ? strchr(type, '.') : NULL;
    char field[64];
    if (!dot || (size_t)(dot - type) + sizeof "_id" > sizeof field)
        return NULL;
    snprintf(field, sizeof field, "%.*s_id", (int)(dot - type), type);
    return json_string_value(json_object_get(data, field));
}

int bl_pmo_command_prepare(bl_pmo_codec *c, const json_t *input, const bl_pmo_sender *sender,
                           bl_pmo_prepared *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(input))
        return bl_err_set(err, BL_EINVAL, "command must be a JSON object");
    const char *type = json_string_value(json_object_get(input, "type"));
    const char *org = json_string_value(json_object_get(input, "organization_id"));
    const json_t *data = json_object_get(input, "data");
    if (!type)
        return bl_err_set(err, BL_EINVAL, "$.type: missing or not a string");
    if (!org || !*org)
        return bl_err_set(err, BL_EINVAL, "$.organization_id: missing or not a string");
    if (!json_is_object(data))
        return bl_err_set(err, BL_EINVAL, "$.data: missing or not an object");
    const char *subject = json_string_value(json_object_get(input, "subject"));
    if (!subject)
        subject = default_subject(type, data);
    if (!subject || !*subject || strlen(subject) >= sizeof out->subject)
        return bl_err_set(err, BL_EINVAL, "$.subject: missing and no data id field to take it from");
    const char *actor = json_string_value(json_object_get(input, "actor"));
    if (!actor)
        actor = sender->actor;
    if (bl_pmo_uuid_random(out->id, err) != 0)
        return -1;
    snprintf(out->subject, sizeof out->subject, "%s", subject);
    out->time_ms = now_millis();
    const json_t *key = json_object_get(input, "idempotency_key");
    json_t *env = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:O, s:O}", "id", out->id, "type",
                            type, "time", (json_int_t)out->time_ms, "source", sender->source,
                            "organization_id", org, "subject", subject, "actor", actor,
                            "idempotency_key", key ? key : json_null(), "data", data);
    if (!env)
        return bl_err_set(err, BL_ENOMEM, "pmo: out of memory");
    int rc = bl_pmo_codec_encode(c, BL_MSG_COMMAND, env, &out->wire, err);
    json_decref(env);
    return rc;
}

void bl_pmo_prepared_clear(bl_pmo_prepared *p)
{
    free(p->wire.bytes);
    p->wire.bytes = NULL;
}

/* Reads and parses the command file. */
static json_t *load_command_file(const char *path, bl_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        bl_err_set(err, BL_EIO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > BL_PMO_COMMAND_FILE_MAX) {
        bl_err_set(err, BL_EINVAL, "%s: not a regular file of at most %d bytes", path,
                   BL_PMO_COMMAND_FILE_MAX);
        return NULL;
    }
    json_error_t jerr;
    json_t *json = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!json)
        bl_err_set(err, BL_EINVAL, "%s: line %d: %s", path, jerr.line, jerr.text);
    return json;
}

int bl_pmo_send_file(bl_pmo_codec *c, bl_kafka_producer *producer, const char *path, const bl_pmo_sender *sender, int timeout_ms,
                     char id_out[BL_PMO_UUID_SIZE], bl_err *err)
{
    json_t *input = load_command_file(path, err);
    if (!input)
        return -1;
    bl_pmo_prepared cmd;
    int rc = bl_pmo_command_prepare(c, input, sender, &cmd, err);
    json_decref(input);
    if (rc != 0)
        return bl_err_wrap(err, "%s", path);
    char time_text[32];
    bl_rfc3339_format_millis(cmd.time_ms, time_text, sizeof time_text);
    const char *type = cmd.wire.msg->type;
    const bl_kafka_header headers[] = {
        {"ce_id", cmd.id, strlen(cmd.id)},
        {"ce_source", sender->source, strlen(sender->source)},
        {"ce_specversion", "1.0", 3},
        {"ce_type", type, strlen(type)},
        {"ce_time", time_text, strlen(time_text)},
        {"ce_subject", cmd.subject, strlen(cmd.subject)},
        {"content-type", "application/avro", strlen("application/avro")},
    };
    rc = bl_kafka_producer_send_sync(producer, cmd.wire.topic, cmd.subject, strlen(cmd.subject),
                                     cmd.wire.bytes, cmd.wire.len, headers,
                                     sizeof headers / sizeof headers[0], timeout_ms, NULL, NULL, err);
    if (rc == 0)
        memcpy(id_out, cmd.id, BL_PMO_UUID_SIZE);
    bl_pmo_prepared_clear(&cmd);
    return rc;
}
