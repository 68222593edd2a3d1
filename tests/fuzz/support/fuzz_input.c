#include "fuzz_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fuzz_parts_split(const uint8_t *data, size_t size, size_t n, fuzz_parts *out)
{
    memset(out, 0, sizeof *out);
    if (n < 1 || n > FUZZ_PARTS_MAX)
        return -1;
    const uint8_t *at = data, *end = data + size;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *stop = end;
        if (i + 1 < n) {
            const uint8_t *nul = memchr(at, '\0', (size_t)(end - at));
            if (nul)
                stop = nul;
        }
        size_t len = (size_t)(stop - at);
        if (!(out->part[i] = malloc(len + 1))) {
            fuzz_parts_free(out);
            return -1;
        }
        if (len)
            memcpy(out->part[i], at, len);
        out->part[i][len] = '\0';
        out->len[i] = len;
        out->count = i + 1;
        at = stop < end ? stop + 1 : end;
    }
    return 0;
}

void fuzz_parts_free(fuzz_parts *p)
{
    for (size_t i = 0; i < FUZZ_PARTS_MAX; i++)
        free(p->part[i]);
    memset(p, 0, sizeof *p);
}

_Noreturn void fuzz_finding(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static bl_catalog *catalog;
static fuzz_topic topics_loaded[64];
static size_t topic_count;

/* The fuzz registry knows ids 0..FUZZ_REGISTRY_IDS-1 (the seeds use 7),
 * each as the topic's schema, and no other: like a real registry, an
 * unknown id is not found, so the cache holds a bounded set (answering
 * every id made it grow with each new one until the fuzzer's memory limit). */
#define FUZZ_REGISTRY_IDS 16

static char *topic_schema_text(void *ctx, int32_t id, bl_err *err)
{
    const fuzz_topic *t = ctx;
    if (id < 0 || id >= FUZZ_REGISTRY_IDS) {
        bl_err_set(err, BL_ENOTFOUND, "fuzz: schema id %d unknown", (int)id);
        return NULL;
    }
    char *text = strdup(t->topic->schema_json);
    if (!text)
        bl_err_set(err, BL_ENOMEM, "fuzz: out of memory");
    return text;
}

/* tests/fuzz/make_seeds.py builds the seed corpora from the topic schemas
 * exactly as the catalog assembles them: FUZZ_DUMP_TOPICS=dir writes each
 * as dir/<index>.<topic>.json. */
static void dump_topics(const char *dir)
{
    for (size_t i = 0; dir && *dir && i < topic_count; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%02zu.%s.json", dir, i, topics_loaded[i].topic->name);
        FILE *f = fopen(path, "w");
        if (!f || fputs(topics_loaded[i].topic->schema_json, f) < 0)
            fuzz_finding("setup: cannot write", path);
        fclose(f);
    }
}

size_t fuzz_catalog_topics(const fuzz_topic **topics)
{
    if (!catalog) {
        bl_err err = {0};
        if (!(catalog = bl_catalog_load(BUSLINE_SOURCE_DIR "/schemas", &err)))
            fuzz_finding("setup: the catalog does not load", err.msg);
        for (size_t i = 0; i < bl_catalog_topic_count(catalog) && topic_count < 64; i++) {
            fuzz_topic *t = &topics_loaded[topic_count];
            t->topic = bl_catalog_topic_at(catalog, i);
            t->schema = bl_avro_schema_parse(t->topic->schema_json, strlen(t->topic->schema_json), &err);
            t->cache = t->schema ? bl_schema_cache_new(topic_schema_text, t, &err) : NULL;
            if (!t->cache)
                fuzz_finding("setup: a topic schema does not parse", err.msg);
            topic_count++;
        }
        dump_topics(getenv("FUZZ_DUMP_TOPICS"));
    }
    *topics = topics_loaded;
    return topic_count;
}
