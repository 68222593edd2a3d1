/* libFuzzer target for JSON -> Avro, what the API and the outbox do with a
 * caller's JSON before it goes on the bus.
 *   byte 0     picks the topic (of the catalog's topics)
 *   byte 1     options: bit 0 plain JSON (else Avro JSON), bit 1 ignore
 *              unknown fields, bit 2 enum defaults
 *   the rest   the JSON text
 * Besides sanitizer reports, it aborts when accepted JSON is not stable:
 * its bytes must decode, and the decoded value's JSON must encode to the
 * same bytes again. Built and run by tests/fuzz/run.sh. */
#include "support/fuzz_input.h"

#include <stdlib.h>
#include <string.h>

/* Encodes json into *bytes (malloc'd). Returns 0, or -1 when refused. */
static int encode(const fuzz_topic *t, const json_t *json, const char *text, size_t text_len,
                  const bl_avro_json_opts *opts, uint8_t **bytes, size_t *len)
{
    bl_err err = {0};
    avro_value_t value;
    if (bl_avro_value_new(t->schema, &value, &err) != 0)
        return -1;
    int rc = json ? bl_avro_from_json(t->schema, json, opts, &value, &err)
                  : bl_avro_from_json_text(t->schema, text, text_len, opts, &value, &err);
    if (rc == 0)
        rc = bl_codec_encode(7, &value, bytes, len, &err);
    avro_value_decref(&value);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fuzz_topic *topics;
    size_t n = fuzz_catalog_topics(&topics);
    if (size < 2 || n == 0)
        return 0;
    const fuzz_topic *t = &topics[data[0] % n];
    bl_avro_json_opts opts = {.mode = (data[1] & 1) ? BL_AVRO_JSON_PLAIN : BL_AVRO_JSON_AVRO,
                              .ignore_unknown_fields = (data[1] & 2) != 0,
                              .use_enum_defaults = (data[1] & 4) != 0};
    uint8_t *bytes = NULL, *again = NULL;
    size_t len = 0, again_len = 0;
    if (encode(t, NULL, (const char *)data + 2, size - 2, &opts, &bytes, &len) != 0)
        return 0;

    bl_err err = {0};
    avro_value_t value;
    const bl_avro_schema *writer = NULL;
    if (bl_codec_decode(t->cache, bytes, len, &value, &writer, &err) != 0)
        fuzz_finding("accepted JSON encodes to bytes that do not decode", err.msg);
    json_t *json = bl_avro_to_json(writer, &value, BL_AVRO_JSON_AVRO, &err);
    avro_value_decref(&value);
    /* JSON text was valid UTF-8, so every string has a JSON form */
    if (!json)
        fuzz_finding("accepted JSON decodes to a value without a JSON form", err.msg);
    bl_avro_json_opts avro_json = {.mode = BL_AVRO_JSON_AVRO};
    if (encode(t, json, NULL, 0, &avro_json, &again, &again_len) != 0 || again_len != len ||
        memcmp(again, bytes, len) != 0) {
        char *text = json_dumps(json, JSON_COMPACT);
        fuzz_finding("accepted JSON does not encode the same twice", text ? text : "?");
    }
    json_decref(json);
    free(again);
    free(bytes);
    return 0;
}
