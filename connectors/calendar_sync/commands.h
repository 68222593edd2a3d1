/* Attendance commands a calendar sync sends (event.create, event.update,
 * event.cancel on commands.attendance), with ids derived from what they
 * carry -- integration, external id, version, verb -- so a run that is
 * repeated or resumed sends the very same command and the domain drops it
 * as a duplicate. */
#ifndef BUSLINE_CONNECTORS_CALENDAR_SYNC_COMMANDS_H
#define BUSLINE_CONNECTORS_CALENDAR_SYNC_COMMANDS_H

#include "core/err.h"
#include "core/kafka_producer.h"
#include "core/uuid.h"
#include "producers/domain_service/codec.h"

#include <jansson.h>

typedef struct bl_calsync_sender {
    bl_domain_codec *codec;       /* the attendance domain's codec, borrowed */
    bl_kafka_producer *producer;  /* borrowed */
    int timeout_ms;               /* wait for the broker's ack */
    const char *actor;            /* who sends: NULL = "calendar-sync" (the Zoom meetings: "zoom-meetings") */
} bl_calsync_sender;

/* Sends command type ("event.create") of organization org about event_id
 * with data (borrowed), its id derived from seed, and waits for the ack.
 * id_out (may be NULL) gets the id. Returns 0, or -1 with err. */
int bl_calsync_send_command(const bl_calsync_sender *s, const char *type, const char *org, const char *event_id,
                            const char *seed, const json_t *data, char id_out[BL_UUID_SIZE], bl_err *err);

/* The Attendance-X event id of an item first seen in a calendar:
 * "ext-" + a UUID derived from integration_id and external_id (41 bytes). */
int bl_calsync_event_id_for(const char *integration_id, const char *external_id, char out[48], bl_err *err);

/* The calendar id given to the copy of an Attendance-X event: "bl" + 32 hex
 * digits derived from integration_id and event_id (Google accepts the
 * base32hex letters a-v and digits). */
int bl_calsync_external_id_for(const char *integration_id, const char *event_id, char out[40], bl_err *err);

#endif
