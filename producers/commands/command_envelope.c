#include "core/clock.h"
#include "core/time_format.h"
#include "producers/commands/command_envelope.h"

#include "schemas/avro_json.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int bl_command_id_field(const char *type, char *out, size_t len)
{
    const char *dot = type ? strchr(type, '.') : NULL;
    if (!dot || dot == type || (size_t)(dot - type) + sizeof "_id" > len)
        return -1;
    snprintf(out, len, "%.*s_id", (int)(dot - type), type);
    return 0;
}

json_t *bl_command_envelope_new(const bl_command_meta *meta, const json_t *data,
                                char id[BL_UUID_SIZE], int64_t *time_ms, bl_err *err)
{
    if (!id[0] && bl_uuid_random(id, err) != 0)
        return NULL;
    *time_ms = bl_clock_wall_ms();
    json_t *env = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:o, s:O}", "id", id, "type",
                            meta->type, "time", (json_int_t)*time_ms, "source", meta->source,
                            "organization_id", meta->organization_id, "subject", meta->subject,
                            "actor", meta->actor, "idempotency_key",
                            meta->idempotency_key ? json_string(meta->idempotency_key) : json_null(),
                            "data", data);
    if (!env)
        bl_err_set(err, BL_ENOMEM, "command: out of memory (or a field is not UTF-8)");
    return env;
}

size_t bl_command_headers(const bl_command_meta *meta, const char *id, int64_t time_ms,
                          char time_text[32], bl_kafka_header out[BL_COMMAND_HEADER_COUNT])
{
    bl_rfc3339_format_millis(time_ms, time_text, 32);
    const bl_kafka_header headers[BL_COMMAND_HEADER_COUNT] = {
        {"ce_id", id, strlen(id)},
        {"ce_source", meta->source, strlen(meta->source)},
        {"ce_specversion", "1.0", 3},
        {"ce_type", meta->type, strlen(meta->type)},
        {"ce_time", time_text, strlen(time_text)},
        {"ce_subject", meta->subject, strlen(meta->subject)},
        {"content-type", "application/avro", strlen("application/avro")},
    };
    memcpy(out, headers, sizeof headers);
    return BL_COMMAND_HEADER_COUNT;
}
