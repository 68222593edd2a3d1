#include "core/time_format.h"
#include "producers/domain_service/send.h"

#include "producers/commands/command_envelope.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* The aggregate id of a command: data.<entity>_id. */
static const char *default_subject(const char *type, const json_t *data)
{
    char field[64];
    if (bl_command_id_field(type, field, sizeof field) != 0)
        return NULL;
    return json_string_value(json_object_get(data, field));
}

int bl_domain_command_prepare(bl_domain_codec *c, const json_t *input, const bl_domain_sender *sender,
                           bl_domain_prepared *out, bl_err *err)
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
    const json_t *key = json_object_get(input, "idempotency_key");
    if (key && !json_is_null(key) && !json_is_string(key))
        return bl_err_set(err, BL_EINVAL, "$.idempotency_key: not a string");
    snprintf(out->subject, sizeof out->subject, "%s", subject);
    bl_command_meta meta = {.type = type, .organization_id = org, .subject = subject,
                            .source = sender->source, .actor = actor,
                            .idempotency_key = json_string_value(key)};
    json_t *env = bl_command_envelope_new(&meta, data, out->id, &out->time_ms, err);
    if (!env)
        return -1;
    int rc = bl_domain_codec_encode(c, BL_MSG_COMMAND, env, &out->wire, err);
    json_decref(env);
    return rc;
}

void bl_domain_prepared_clear(bl_domain_prepared *p)
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
    if (!S_ISREG(st.st_mode) || st.st_size > BL_DOMAIN_COMMAND_FILE_MAX) {
        bl_err_set(err, BL_EINVAL, "%s: not a regular file of at most %d bytes", path,
                   BL_DOMAIN_COMMAND_FILE_MAX);
        return NULL;
    }
    json_error_t jerr;
    json_t *json = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!json)
        bl_err_set(err, BL_EINVAL, "%s: line %d: %s", path, jerr.line, jerr.text);
    return json;
}

int bl_domain_send_file(bl_domain_codec *c, bl_kafka_producer *producer, const char *path, const bl_domain_sender *sender, int timeout_ms,
                     char id_out[BL_UUID_SIZE], bl_err *err)
{
    json_t *input = load_command_file(path, err);
    if (!input)
        return -1;
    bl_domain_prepared cmd;
    int rc = bl_domain_command_prepare(c, input, sender, &cmd, err);
    json_decref(input);
    if (rc != 0)
        return bl_err_wrap(err, "%s", path);
    char time_text[32];
    bl_command_meta meta = {.type = cmd.wire.msg->type, .subject = cmd.subject, .source = sender->source};
    bl_kafka_header headers[BL_COMMAND_HEADER_COUNT];
    size_t n_headers = bl_command_headers(&meta, cmd.id, cmd.time_ms, time_text, headers);
    rc = bl_kafka_producer_send_sync(producer, cmd.wire.topic, cmd.subject, strlen(cmd.subject),
                                     cmd.wire.bytes, cmd.wire.len, headers,
                                     n_headers, timeout_ms, NULL, NULL, err);
    if (rc == 0)
        memcpy(id_out, cmd.id, BL_UUID_SIZE);
    bl_domain_prepared_clear(&cmd);
    return rc;
}
