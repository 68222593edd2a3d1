/* Finding a meeting an earlier create made (meeting_match.h). */
#include "connectors/zoom/meeting_match.h"

#include "core/time_format.h"

#include <stdio.h>
#include <string.h>

/* Whether listed (an item of GET /users/{userId}/meetings) is the meeting a
 * create with topic and start_time (as sent; NULL or a local time without
 * 'Z' is not compared, Zoom answers those in UTC) made since since_ms (its
 * created_at). */
static int same_meeting(const json_t *listed, const char *topic, const char *start_time, int64_t since_ms)
{
    const char *have = json_string_value(json_object_get(listed, "topic"));
    if (!have || !topic || strcmp(have, topic) != 0 || !json_is_integer(json_object_get(listed, "id")))
        return 0;
    int64_t created = 0;
    const char *created_at = json_string_value(json_object_get(listed, "created_at"));
    if (!created_at || bl_rfc3339_parse_millis(created_at, &created) != 0 || created < since_ms)
        return 0;
    const char *start = json_string_value(json_object_get(listed, "start_time"));
    size_t n = start_time ? strlen(start_time) : 0;
    /* an absolute start ("...Z") comes back as sent; a local one in UTC */
    return n == 0 || start_time[n - 1] != 'Z' || (start && strcmp(start, start_time) == 0);
}

const json_t *bl_zoom_find_created(const json_t *list, const json_t *sent, int64_t since_ms, char *id, size_t cap)
{
    const char *topic = json_string_value(json_object_get(sent, "topic"));
    const char *start_time = json_string_value(json_object_get(sent, "start_time"));
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(list, "meetings"), i, m)
    {
        if (same_meeting(m, topic, start_time, since_ms) && bl_zoom_meeting_id(m, id, cap) == 0)
            return m;
    }
    return NULL;
}

int bl_zoom_meeting_id(const json_t *meeting, char *out, size_t cap)
{
    const json_t *id = json_object_get(meeting, "id");
    if (!json_is_integer(id))
        return -1;
    snprintf(out, cap, "%lld", (long long)json_integer_value(id));
    return 0;
}

json_t *bl_zoom_capped_string(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return json_stringn(s, n);
}
