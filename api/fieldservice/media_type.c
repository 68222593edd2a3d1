/* Media types by content (see media_type.h) over libmagic. */
#include "api/fieldservice/media_type.h"

#include <magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bl_media_sniffer {
    magic_t cookie; /* not thread-safe: one judgement at a time */
    pthread_mutex_t lock;
};

static const struct {
    const char *mime, *kind;
} accepted[] = {
    {"image/jpeg", "image"},       {"image/png", "image"},        {"image/gif", "image"},
    {"image/webp", "image"},       {"image/tiff", "image"},       {"image/heic", "image"},
    {"image/heif", "image"},       {"image/bmp", "image"},        {"image/x-ms-bmp", "image"},
    {"application/pdf", "document"},
    {"video/mp4", "video"},        {"video/quicktime", "video"},  {"video/webm", "video"},
    {"video/x-matroska", "video"}, {"video/mpeg", "video"},       {"video/3gpp", "video"},
    {"audio/mpeg", "audio"},       {"audio/x-wav", "audio"},      {"audio/wav", "audio"},
    {"audio/ogg", "audio"},        {"audio/mp4", "audio"},        {"audio/x-m4a", "audio"},
    {"audio/aac", "audio"},        {"audio/flac", "audio"},       {"audio/x-flac", "audio"},
    {"audio/webm", "audio"},
};

const char *bl_media_kind(const char *mime)
{
    for (size_t i = 0; mime && i < sizeof accepted / sizeof accepted[0]; i++)
        if (strcmp(accepted[i].mime, mime) == 0)
            return accepted[i].kind;
    return NULL;
}

bl_media_sniffer *bl_media_sniffer_new(bl_err *err)
{
    bl_media_sniffer *s = calloc(1, sizeof *s);
    if (!s) {
        bl_err_set(err, BL_ENOMEM, "media type: out of memory");
        return NULL;
    }
    /* No decompression (a compressed bomb is not a photo) and none of the
     * checks for kinds that are refused anyway. */
    int flags = MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_TAR | MAGIC_NO_CHECK_ELF |
                MAGIC_NO_CHECK_APPTYPE | MAGIC_NO_CHECK_CDF;
    s->cookie = magic_open(flags);
    if (!s->cookie || magic_load(s->cookie, NULL) != 0) {
        bl_err_set(err, BL_EIO, "media type: cannot load the magic database: %s",
                   s->cookie && magic_error(s->cookie) ? magic_error(s->cookie) : "magic_open failed");
        if (s->cookie)
            magic_close(s->cookie);
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

void bl_media_sniffer_free(bl_media_sniffer *s)
{
    if (!s)
        return;
    magic_close(s->cookie);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int bl_media_sniff(bl_media_sniffer *s, const void *data, size_t len, char out[BL_MEDIA_MIME_MAX],
                   bl_err *err)
{
    pthread_mutex_lock(&s->lock);
    const char *mime = magic_buffer(s->cookie, data, len);
    int rc = 0;
    if (mime)
        snprintf(out, BL_MEDIA_MIME_MAX, "%s", mime);
    else
        rc = bl_err_set(err, BL_EIO, "media type: %s",
                        magic_error(s->cookie) ? magic_error(s->cookie) : "magic_buffer failed");
    pthread_mutex_unlock(&s->lock);
    return rc;
}
