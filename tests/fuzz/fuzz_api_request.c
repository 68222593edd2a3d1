/* libFuzzer target for the API's request and JSON paths, without network:
 * the input is split into a header block and a body
 *   byte 0          picks the command type (of the catalog's commands)
 *   up to a NUL     header lines "Name: value\n" (Content-Type, Idempotency-Key)
 *   the rest        the JSON body
 * and runs through what a request meets: the input limits (UTF-8, JSON
 * depth, Content-Type), JSON parsing, the command envelope and the
 * JSON -> Avro validation and encoding of the command's topic schema.
 * Besides sanitizer reports, it aborts when an accepted command does not
 * come back: the bytes must decode with the topic's schema to the same
 * type and id, and encoding the decoded value again must give the same
 * bytes. Built and run by tests/fuzz/run.sh. */
#include "api/command_bus.h"
#include "api/command_routes.h"
#include "api/input.h"
#include "producers/commands/command_envelope.h"
#include "schemas/avro_json.h"
#include "schemas/codec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bl_api_command_bus *bus;
static const bl_catalog_msg *commands[64];
static bl_schema_cache *caches[64]; /* per command: its topic's schema, whatever the id */
static size_t command_count;

/* The schema of the command whose index ctx is (without a registry, ids
 * are not unique across topics). */
static char *topic_schema(void *ctx, int32_t id, bl_err *err)
{
    (void)id;
    const json_t *schema = bl_api_command_bus_schema_json(bus, commands[(size_t)(uintptr_t)ctx]);
    char *text = schema ? json_dumps(schema, JSON_COMPACT) : NULL;
    if (!text)
        bl_err_set(err, BL_ENOTFOUND, "fuzz: no schema");
    return text;
}

/* Aborts unless bytes decode to the command (type, id) and encode back to
 * the same bytes. */
static void check_round_trip(size_t k, const char *id, const uint8_t *bytes, size_t len)
{
    bl_err err = {0};
    int32_t schema_id = -1;
    avro_value_t value;
    const bl_avro_schema *writer = NULL;
    if (len < 5 || bl_codec_read_header(bytes, len, &schema_id, &err) != 0 ||
        bl_codec_decode(caches[k], bytes, len, &value, &writer, &err) != 0) {
        fprintf(stderr, "fuzz: an accepted %s does not decode: %s\n", commands[k]->type, err.msg);
        abort();
    }
    json_t *back = bl_avro_to_json(writer, &value, BL_AVRO_JSON_PLAIN, &err);
    uint8_t *again = NULL;
    size_t again_len = 0;
    int same = back && strcmp(json_string_value(json_object_get(back, "type")) ?: "", commands[k]->type) == 0 &&
               strcmp(json_string_value(json_object_get(back, "id")) ?: "", id) == 0 &&
               bl_codec_encode(schema_id, &value, &again, &again_len, &err) == 0 && again_len == len &&
               memcmp(again, bytes, len) == 0;
    if (!same) {
        fprintf(stderr, "fuzz: %s does not come back the same (%s)\n", commands[k]->type, err.msg);
        abort();
    }
    free(again);
    json_decref(back);
    avro_value_decref(&value);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    bl_err err = {0};
    bl_api_command_bus_opts opts = {.schemas_dir = BUSLINE_SOURCE_DIR "/schemas"};
    if (!(bus = bl_api_command_bus_new(&opts, &err))) {
        fprintf(stderr, "fuzz: %s\n", err.msg);
        abort();
    }
    const bl_catalog *cat = bl_api_command_bus_catalog(bus);
    for (size_t i = 0; i < bl_catalog_msg_count(cat) && command_count < 64; i++) {
        if (bl_catalog_msg_at(cat, i)->kind != BL_MSG_COMMAND)
            continue;
        commands[command_count] = bl_catalog_msg_at(cat, i);
        if (!(caches[command_count] = bl_schema_cache_new(topic_schema, (void *)(uintptr_t)command_count, &err))) {
            fprintf(stderr, "fuzz: %s\n", err.msg);
            abort();
        }
        command_count++;
    }
    return 0;
}

/* The value of header name in the block, copied into out. */
static const char *header(const char *block, const char *name, char *out, size_t len)
{
    size_t n = strlen(name);
    for (const char *line = block; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            snprintf(out, len, "%.*s", (int)strcspn(v, "\n"), v);
            return out;
        }
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || command_count == 0)
        return 0;
    size_t k = data[0] % command_count;
    const bl_catalog_msg *msg = commands[k];
    const char *rest = (const char *)data + 1;
    size_t rest_len = size - 1;
    const char *nul = memchr(rest, '\0', rest_len);
    size_t head_len = nul ? (size_t)(nul - rest) : 0;
    /* No NUL: no header block. (strndup would still touch rest[0], which is
     * past the input when it is one byte long.) */
    char *head = nul ? strndup(rest, head_len) : strdup("");
    const char *body = nul ? nul + 1 : rest;
    size_t body_len = nul ? rest_len - head_len - 1 : rest_len;
    char content_type[256], idem[512];
    bl_api_command_route route;
    (void)bl_api_command_route_of(msg->type, &route);
    if (!head || !bl_api_content_type_is_json(header(head, "Content-Type", content_type, sizeof content_type)) ||
        !bl_api_utf8_valid(body, body_len) || bl_api_json_depth(body, body_len, 32) > 32)
        goto done;
    json_t *json = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(json)) {
        json_decref(json);
        goto done;
    }
    char id[BL_UUID_SIZE] = "00000000-0000-4000-8000-000000000000";
    int64_t time_ms = 0;
    bl_err err = {0};
    bl_command_meta meta = {.type = msg->type, .organization_id = "org", .subject = "s", .source = "fuzz",
                            .actor = "a", .idempotency_key = header(head, "Idempotency-Key", idem, sizeof idem)};
    json_t *env = bl_command_envelope_new(&meta, json, id, &time_ms, &err);
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (env && bl_api_command_bus_encode(bus, msg, env, &bytes, &len, &err) == 0)
        check_round_trip(k, id, bytes, len);
    free(bytes);
    json_decref(env);
    json_decref(json);
done:
    free(head);
    return 0;
}
