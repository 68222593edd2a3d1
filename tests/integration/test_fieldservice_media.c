/* Field-service media through the real API over loopback, on a real
 * PostgreSQL: a streamed multipart upload and its streamed download (same
 * bytes, same SHA-256, the right headers), the list and its filters, the
 * type judged by content, bad fields (tags, an unknown intervention, no
 * file) each listed with nothing stored, media.uploaded on the outbox with
 * the row, and a 20 MiB upload and download whose peak RSS growth stays far
 * below the file's size. The limits are in test_fieldservice_media_limits.c. */

#include "tests/support/media_client.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bl_test_api api;

#define MEDIA_ROWS BL_TEST_MEDIA_ROWS
#define LARGE_OBJECTS BL_TEST_LARGE_OBJECTS

static void upload_then_download_gives_the_same_bytes_and_headers(void)
{
    bl_test_gen_file g;
    bl_test_gen_init(&g, bl_test_png_head, sizeof bl_test_png_head, 300 * 1024 + 7);
    bl_test_upload_spec spec = {.intervention_id = "iv-1", .description = "Tache au plafond de la cave",
                        .tags = "[\"fuite\", \"cave\"]", .filename = "fuite cave \xc3\xa9t\xc3\xa9.png",
                        .declared_type = "image/png", .file = &g};
    bl_test_reply r;
    REQUIRE(bl_test_media_upload(bl_api_server_port(api.server), api.write_token, &spec, &r) == 201);
    char sha[65];
    bl_test_gen_hex(&g, sha);
    CHECK_EQ_STR(bl_test_reply_field(&r, "sha256"), sha);
    CHECK_EQ_STR(bl_test_reply_field(&r, "content_type"), "image/png");
    CHECK_EQ_STR(bl_test_reply_field(&r, "type_media"), "image");
    CHECK_EQ_STR(bl_test_reply_field(&r, "intervention_id"), "iv-1");
    CHECK_EQ_STR(bl_test_reply_field(&r, "nom_fichier"), "fuite cave \xc3\xa9t\xc3\xa9.png");
    CHECK_EQ_STR(bl_test_reply_field(&r, "description"), "Tache au plafond de la cave");
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "taille")), 300 * 1024 + 7);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "tags")), 2);
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(r.json, "tags"), 1)), "cave");
    CHECK(bl_test_reply_field(&r, "date_creation") != NULL);
    char id[64], url[160];
    snprintf(id, sizeof id, "%s", bl_test_reply_field(&r, "id") ? bl_test_reply_field(&r, "id") : "");
    snprintf(url, sizeof url, "/api/medias/%s/download", id);
    CHECK_EQ_STR(bl_test_reply_field(&r, "url"), url);
    bl_test_reply_clear(&r);

    bl_test_download d;
    REQUIRE(bl_test_media_fetch(bl_api_server_port(api.server), url, api.write_token, &d) == 200);
    CHECK_EQ_INT(d.size, 300 * 1024 + 7);
    CHECK_EQ_STR(d.sha_hex, sha);
    CHECK_EQ_STR(d.content_type, "image/png");
    CHECK(strstr(d.disposition, "attachment; filename=\"fuite cave __t__.png\"") != NULL);
    CHECK(strstr(d.disposition, "filename*=UTF-8''fuite%20cave%20%C3%A9t%C3%A9.png") != NULL);

    /* the list finds it by intervention, type and search, and not otherwise */
    REQUIRE(bl_test_api_call(&api, "GET", "/api/medias/?intervention_id=iv-1&type_media=image&search=CAVE",
                             api.write_token, NULL, NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "page")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "size")), 10);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "pages")), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "medias"), 0), "id")), id);
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_api_call(&api, "GET", "/api/medias/?search=fuite", api.write_token, NULL, NULL, &r) == 200);
    CHECK(json_integer_value(json_object_get(r.json, "total")) >= 1); /* a tag */
    bl_test_reply_clear(&r);
    const char *misses[] = {"/api/medias/?intervention_id=iv-2", "/api/medias/?type_media=video",
                            "/api/medias/?search=grenier"};
    for (size_t i = 0; i < 3; i++) {
        REQUIRE(bl_test_api_call(&api, "GET", misses[i], api.write_token, NULL, NULL, &r) == 200);
        CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 0);
        CHECK_EQ_INT(json_array_size(json_object_get(r.json, "medias")), 0);
        bl_test_reply_clear(&r);
    }
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/api/medias/?type_media=text&size=500", api.write_token, NULL,
                                  NULL, &r),
                 422);
    CHECK(bl_test_reply_is_error(&r, "VALIDATION_ERROR"));
    CHECK(json_is_array(json_object_get(bl_test_reply_field_errors(&r), "type_media")));
    CHECK(json_is_array(json_object_get(bl_test_reply_field_errors(&r), "size")));
    bl_test_reply_clear(&r);

    /* another organization neither lists nor downloads it */
    REQUIRE(bl_test_api_call(&api, "GET", "/api/medias/", api.other_token, NULL, NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 0);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_media_fetch(bl_api_server_port(api.server), url, api.other_token, &d), 404);
    CHECK_EQ_STR(d.content_type, "application/json");
    CHECK_EQ_INT(bl_test_media_fetch(bl_api_server_port(api.server), "/api/medias/no-such-media/download",
                                     api.write_token, &d),
                 404);
}

static void media_uploaded_is_on_the_outbox_with_the_row(void)
{
    bl_test_gen_file g;
    bl_test_gen_init(&g, bl_test_png_head, sizeof bl_test_png_head, 4096);
    bl_test_upload_spec spec = {.intervention_id = "iv-2", .filename = "media-event.png", .file = &g};
    bl_test_reply r;
    REQUIRE(bl_test_media_upload(bl_api_server_port(api.server), api.write_token, &spec, &r) == 201);
    char sha[65];
    bl_test_gen_hex(&g, sha);
    const char *params[] = {bl_test_reply_field(&r, "id")};
    char out[256] = "";
    REQUIRE(bl_test_sql_value(api.pool,
                              "SELECT count(*) || ' ' || min(topic) FROM busline_outbox WHERE event_type = "
                              "'media.uploaded' AND aggregate_type = 'media' AND aggregate_id = $1",
                              1, params, out, sizeof out) == 0);
    char want[256];
    snprintf(want, sizeof want, "1 %sevents.fieldservice.media", api.prefix);
    CHECK_EQ_STR(out, want);
    /* the event's payload carries the digest, the name and the kind (Avro strings are stored as they are) */
    REQUIRE(bl_test_sql_value(api.pool,
                              "SELECT position(convert_to(m.sha256, 'UTF8') IN o.payload) > 0 "
                              "AND position(convert_to('media-event.png', 'UTF8') IN o.payload) > 0 "
                              "AND position(convert_to('image', 'UTF8') IN o.payload) > 0 FROM busline_outbox o "
                              "JOIN fieldservice_media m ON m.media_id = o.aggregate_id WHERE o.aggregate_id = $1",
                              1, params, out, sizeof out) == 0);
    CHECK_EQ_STR(out, "t");
    bl_test_reply_clear(&r);
}

static void type_is_judged_by_content_not_by_name(void)
{
    long long rows = bl_test_media_count(&api, MEDIA_ROWS), objects = bl_test_media_count(&api, LARGE_OBJECTS);
    static const char text[] = "Ceci n'est pas une photo, juste du texte.\n";
    bl_test_gen_file g;
    bl_test_gen_init(&g, (const unsigned char *)text, sizeof text - 1, sizeof text - 1);
    bl_test_upload_spec spec = {.intervention_id = "iv-1", .filename = "photo.jpg", .declared_type = "image/jpeg",
                        .file = &g};
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_media_upload(bl_api_server_port(api.server), api.write_token, &spec, &r), 422);
    CHECK(bl_test_reply_is_error(&r, "VALIDATION_ERROR"));
    const char *why = json_string_value(json_array_get(json_object_get(bl_test_reply_field_errors(&r), "file"), 0));
    CHECK(why && strstr(why, "text/plain") != NULL);
    bl_test_reply_clear(&r);
    bl_test_gen_hex(&g, (char[65]){0});
    CHECK_EQ_INT(bl_test_media_count(&api, MEDIA_ROWS), rows);
    CHECK_EQ_INT(bl_test_media_count(&api, LARGE_OBJECTS), objects);

    /* and a real PDF named .txt is a document */
    static const char pdf[] = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n";
    bl_test_gen_init(&g, (const unsigned char *)pdf, sizeof pdf - 1, 2048);
    spec = (bl_test_upload_spec){.intervention_id = "iv-1", .filename = "notes.txt", .declared_type = "text/plain",
                         .file = &g};
    CHECK_EQ_INT(bl_test_media_upload(bl_api_server_port(api.server), api.write_token, &spec, &r), 201);
    CHECK_EQ_STR(bl_test_reply_field(&r, "content_type"), "application/pdf");
    CHECK_EQ_STR(bl_test_reply_field(&r, "type_media"), "document");
    bl_test_reply_clear(&r);
    bl_test_gen_hex(&g, (char[65]){0});
}

static void bad_fields_are_each_listed_and_nothing_is_stored(void)
{
    long long rows = bl_test_media_count(&api, MEDIA_ROWS), objects = bl_test_media_count(&api, LARGE_OBJECTS);
    const char *bad_tags[] = {"pas du json", "{\"a\": 1}", "[1, 2]", "[\"\"]", "\"fuite\""};
    bl_test_reply r;
    for (size_t i = 0; i < sizeof bad_tags / sizeof bad_tags[0]; i++) {
        bl_test_gen_file g;
        bl_test_gen_init(&g, bl_test_png_head, sizeof bl_test_png_head, 1000);
        bl_test_upload_spec spec = {.intervention_id = "iv-1", .tags = bad_tags[i], .filename = "a.png", .file = &g};
        CHECK_EQ_INT(bl_test_media_upload(bl_api_server_port(api.server), api.write_token, &spec, &r), 422);
        CHECK(json_object_get(bl_test_reply_field_errors(&r), "tags") != NULL);
        CHECK_EQ_INT(json_object_size(bl_test_reply_field_errors(&r)), 1);
        bl_test_reply_clear(&r);
        bl_test_gen_hex(&g, (char[65]){0});
    }
    /* an intervention of another organization is unknown here, and every bad field is named at once */
    bl_test_gen_file g;
    bl_test_gen_init(&g, bl_test_png_head, sizeof bl_test_png_head, 1000);
    bl_test_upload_spec spec = {.intervention_id = "iv-x", .tags = "nope", .filename = "a.png", .file = &g};
    CHECK_EQ_INT(bl_test_media_upload(bl_api_server_port(api.server), api.write_token, &spec, &r), 422);
    CHECK(bl_test_reply_is_error(&r, "VALIDATION_ERROR"));
    CHECK(json_object_get(bl_test_reply_field_errors(&r), "intervention_id") != NULL);
    CHECK(json_object_get(bl_test_reply_field_errors(&r), "tags") != NULL);
    bl_test_reply_clear(&r);
    bl_test_gen_hex(&g, (char[65]){0});
    /* no file and no intervention */
    spec = (bl_test_upload_spec){.description = "rien"};
    CHECK_EQ_INT(bl_test_media_upload(bl_api_server_port(api.server), api.write_token, &spec, &r), 422);
    CHECK(json_object_get(bl_test_reply_field_errors(&r), "file") != NULL);
    CHECK(json_object_get(bl_test_reply_field_errors(&r), "intervention_id") != NULL);
    bl_test_reply_clear(&r);
    /* not a form at all */
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/api/medias/upload", api.write_token, NULL, "{\"file\": 1}", &r),
                 415);
    CHECK(bl_test_reply_is_error(&r, "VALIDATION_ERROR"));
    bl_test_reply_clear(&r);
    /* no credentials */
    bl_test_gen_init(&g, bl_test_png_head, sizeof bl_test_png_head, 1000);
    spec = (bl_test_upload_spec){.intervention_id = "iv-1", .filename = "a.png", .file = &g};
    CHECK_EQ_INT(bl_test_media_upload(bl_api_server_port(api.server), "not-a-key", &spec, &r), 401);
    CHECK(bl_test_reply_is_error(&r, "AUTHENTICATION_ERROR"));
    bl_test_reply_clear(&r);
    bl_test_gen_hex(&g, (char[65]){0});
    CHECK_EQ_INT(bl_test_media_count(&api, MEDIA_ROWS), rows);
    CHECK_EQ_INT(bl_test_media_count(&api, LARGE_OBJECTS), objects);
}

/* The process's peak resident set (VmHWM), in KiB. */
static long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = atol(line + 6);
    if (f)
        fclose(f);
    return kib;
}

static void a_20_mib_upload_and_download_keep_peak_rss_far_below_the_file_size(void)
{
    const size_t size = 20u * 1024 * 1024;
    bl_test_reply r;
    /* a first upload and download warm every lazy thing up (magic database, pool connections) */
    bl_test_gen_file g;
    bl_test_gen_init(&g, bl_test_png_head, sizeof bl_test_png_head, 512 * 1024);
    bl_test_upload_spec spec = {.intervention_id = "iv-2", .filename = "warm.png", .file = &g};
    REQUIRE(bl_test_media_upload(bl_api_server_port(api.server), api.write_token, &spec, &r) == 201);
    char url[160];
    snprintf(url, sizeof url, "%s", bl_test_reply_field(&r, "url") ? bl_test_reply_field(&r, "url") : "");
    bl_test_reply_clear(&r);
    bl_test_gen_hex(&g, (char[65]){0});
    bl_test_download d;
    REQUIRE(bl_test_media_fetch(bl_api_server_port(api.server), url, api.write_token, &d) == 200);

    long before = peak_rss_kib();
    REQUIRE(before > 0);
    bl_test_gen_init(&g, bl_test_png_head, sizeof bl_test_png_head, size);
    spec = (bl_test_upload_spec){.intervention_id = "iv-2", .filename = "video-longue.png", .file = &g};
    REQUIRE(bl_test_media_upload(bl_api_server_port(api.server), api.write_token, &spec, &r) == 201);
    long after_upload = peak_rss_kib();
    char sha[65];
    bl_test_gen_hex(&g, sha);
    CHECK_EQ_STR(bl_test_reply_field(&r, "sha256"), sha);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "taille")), (long long)size);
    snprintf(url, sizeof url, "%s", bl_test_reply_field(&r, "url") ? bl_test_reply_field(&r, "url") : "");
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_media_fetch(bl_api_server_port(api.server), url, api.write_token, &d) == 200);
    long after_download = peak_rss_kib();
    CHECK_EQ_INT(d.size, (long long)size);
    CHECK_EQ_STR(d.sha_hex, sha);
    fprintf(stderr, "  peak RSS: %ld KiB before, %ld after the upload, %ld after the download (file: %zu KiB)\n",
            before, after_upload, after_download, size / 1024);
    /* a memory bound: held whole, the file alone would add 20480 KiB */
    CHECK(after_upload - before < (long)(size / 1024 / 4));
    CHECK(after_download - before < (long)(size / 1024 / 4));
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_api_start(&api, 0) == 0 && bl_test_media_seed(&api) == 0) {
        BL_RUN(upload_then_download_gives_the_same_bytes_and_headers);
        BL_RUN(media_uploaded_is_on_the_outbox_with_the_row);
        BL_RUN(type_is_judged_by_content_not_by_name);
        BL_RUN(bad_fields_are_each_listed_and_nothing_is_stored);
        BL_RUN(a_20_mib_upload_and_download_keep_peak_rss_far_below_the_file_size);
    } else {
        bl_test_failures++;
    }
    bl_test_api_stop(&api);
    curl_global_cleanup();
    return bl_test_summary();
}
