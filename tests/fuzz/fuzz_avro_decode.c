/* libFuzzer target for what a consumer does with a Kafka message's value:
 * the Confluent wire format (magic byte, schema id) and the Avro binary
 * decode with a topic's schema, then the value to JSON.
 *   byte 0     picks the topic (of the catalog's topics)
 *   the rest   the message value
 * Besides sanitizer reports, it aborts when a value that decodes and has a
 * JSON form does not come back: JSON -> Avro -> bytes -> decode must give
 * the same JSON. Built and run by tests/fuzz/run.sh. */
#include "support/fuzz_input.h"

#include <stdlib.h>
#include <string.h>

/* JSON -> Avro -> bytes -> Avro -> JSON of json, in mode. NULL when any step
 * refuses (the caller decides whether that is a finding). */
static json_t *through_bytes(const fuzz_topic *t, int32_t id, const json_t *json, bl_avro_json_mode mode)
{
    bl_err err = {0};
    avro_value_t value, back;
    const bl_avro_schema *writer = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    json_t *out = NULL;
    bl_avro_json_opts opts = {.mode = mode};
    if (bl_avro_value_new(t->schema, &value, &err) != 0)
        return NULL;
    if (bl_avro_from_json(t->schema, json, &opts, &value, &err) == 0 &&
        bl_codec_encode(id, &value, &bytes, &len, &err) == 0 &&
        bl_codec_decode(t->cache, bytes, len, &back, &writer, &err) == 0) {
        out = bl_avro_to_json(writer, &back, mode, &err);
        avro_value_decref(&back);
    }
    free(bytes);
    avro_value_decref(&value);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fuzz_topic *topics;
    size_t n = fuzz_catalog_topics(&topics);
    if (size < 1 || n == 0)
        return 0;
    const fuzz_topic *t = &topics[data[0] % n];
    const uint8_t *msg = data + 1;
    size_t len = size - 1;

    bl_err err = {0};
    int32_t id = -1;
    if (bl_codec_read_header(msg, len, &id, &err) != 0)
        return 0;
    avro_value_t value;
    const bl_avro_schema *writer = NULL;
    if (bl_codec_decode(t->cache, msg, len, &value, &writer, &err) != 0)
        return 0;
    for (int mode = BL_AVRO_JSON_AVRO; mode <= BL_AVRO_JSON_PLAIN; mode++) {
        json_t *json = bl_avro_to_json(writer, &value, (bl_avro_json_mode)mode, &err);
        if (!json)
            continue; /* no JSON form (a string that is not UTF-8): refused, fine */
        json_t *again = through_bytes(t, id, json, (bl_avro_json_mode)mode);
        /* plain JSON may not name a union branch the value's shape cannot
         * tell apart; Avro JSON always can */
        if (mode == BL_AVRO_JSON_AVRO && (!again || !json_equal(json, again))) {
            char *text = json_dumps(json, JSON_COMPACT);
            json_decref(again);
            fuzz_finding("a decoded value does not come back through JSON", text ? text : "?");
        }
        json_decref(again);
        json_decref(json);
    }
    avro_value_decref(&value);
    return 0;
}
