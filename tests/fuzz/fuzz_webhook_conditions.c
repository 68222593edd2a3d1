/* libFuzzer target for a webhook endpoint's filter: its event-type pattern
 * and conditions (consumers/event_filter.h), as saved through the API, and
 * matching them against an event.
 *   part 1 (to a NUL)   an event-type pattern
 *   part 2 (to a NUL)   an event type
 *   part 3 (to a NUL)   the conditions JSON
 *   the rest            the event JSON
 * Besides sanitizer reports, it aborts when matching is not a function of
 * its input (two calls differ) or an empty filter refuses an event. Built
 * and run by tests/fuzz/run.sh. */
#include "consumers/event_filter.h"
#include "support/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parts p;
    if (fuzz_parts_split(data, size, 4, &p) != 0)
        return 0;
    bl_err err = {0};
    if (bl_event_type_pattern_check(p.part[0], &err) == 0)
        (void)bl_event_type_matches(p.part[0], p.part[1]);
    json_t *event = json_loadb(p.part[3], p.len[3], 0, NULL);
    bl_event_filter *f = bl_event_filter_parse(p.part[2], &err);
    if (f && event) {
        bool once = bl_event_filter_matches(f, event), twice = bl_event_filter_matches(f, event);
        if (once != twice)
            fuzz_finding("a filter answers two ways for one event", p.part[2]);
    }
    if (event && !bl_event_filter_matches(NULL, event))
        fuzz_finding("the empty filter refuses an event", NULL);
    bl_event_filter_free(f);
    json_decref(event);
    fuzz_parts_free(&p);
    return 0;
}
