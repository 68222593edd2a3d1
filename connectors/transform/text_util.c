/* Text helpers of the transformation engine (text_util.h). */
#include "connectors/transform/text_util.h"

size_t bl_tx_utf8_length(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}

size_t bl_tx_pointer_push(char *path, size_t plen, size_t cap, const char *token)
{
    size_t o = plen;
    if (o + 2 < cap)
        path[o++] = '/';
    for (const char *t = token; *t && o + 3 < cap; t++) {
        if (*t == '~' || *t == '/') {
            path[o++] = '~';
            path[o++] = *t == '~' ? '0' : '1';
        } else {
            path[o++] = *t;
        }
    }
    path[o] = '\0';
    return o;
}
