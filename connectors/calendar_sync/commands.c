/* Attendance commands with derived ids (commands.h). */
#include "connectors/calendar_sync/commands.h"

#include "producers/commands/command_envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bl_calsync_send_command(const bl_calsync_sender *s, const char *type, const char *org, const char *event_id,
                            const char *seed, const json_t *data, char id_out[BL_UUID_SIZE], bl_err *err)
{
    char id[BL_UUID_SIZE], actor[96];
    if (bl_uuid_derived(seed, id, err) != 0)
        return -1;
    snprintf(actor, sizeof actor, "%s", s->actor ? s->actor : "calendar-sync");
    bl_command_meta meta = {.type = type, .organization_id = org, .subject = event_id,
                            .source = "busline-sync", .actor = actor, .idempotency_key = id};
    int64_t time_ms = 0;
    json_t *env = bl_command_envelope_new(&meta, data, id, &time_ms, err);
    if (!env)
        return -1;
    bl_domain_wire wire = {0};
    int rc = bl_domain_codec_encode(s->codec, BL_MSG_COMMAND, env, &wire, err);
    json_decref(env);
    if (rc != 0)
        return bl_err_wrap(err, "calendar sync: %s for %s", type, event_id);
    char time_text[32];
    bl_kafka_header headers[BL_COMMAND_HEADER_COUNT];
    size_t nh = bl_command_headers(&meta, id, time_ms, time_text, headers);
    rc = bl_kafka_producer_send_sync(s->producer, wire.topic, event_id, strlen(event_id), wire.bytes, wire.len,
                                     headers, nh, s->timeout_ms, NULL, NULL, err);
    free(wire.bytes);
    if (rc == 0 && id_out)
        memcpy(id_out, id, BL_UUID_SIZE);
    return rc;
}

int bl_calsync_event_id_for(const char *integration_id, const char *external_id, char out[48], bl_err *err)
{
    char seed[1400], id[BL_UUID_SIZE];
    snprintf(seed, sizeof seed, "calendar-sync/event/%s/%s", integration_id, external_id);
    if (bl_uuid_derived(seed, id, err) != 0)
        return -1;
    snprintf(out, 48, "ext-%s", id);
    return 0;
}

int bl_calsync_external_id_for(const char *integration_id, const char *event_id, char out[40], bl_err *err)
{
    char seed[1400], id[BL_UUID_SIZE];
    snprintf(seed, sizeof seed, "calendar-sync/copy/%s/%s", integration_id, event_id);
    if (bl_uuid_derived(seed, id, err) != 0)
        return -1;
    size_t o = 0;
    out[o++] = 'b';
    out[o++] = 'l';
    for (const char *p = id; *p && o < 39; p++)
        if (*p != '-')
            out[o++] = *p;
    out[o] = '\0';
    return 0;
}
