/* Plain text to Atlassian Document Format. */
#include "connectors/jira/adf.h"

#include <string.h>

static int add_text(json_t *content, const char *s, size_t n)
{
    if (n == 0)
        return 0;
    json_t *node = json_pack("{s:s, s:s%}", "type", "text", "text", s, n);
    return node ? json_array_append_new(content, node) : -1;
}

/* One paragraph from s[0..n): lines joined by hardBreak nodes. */
static json_t *paragraph(const char *s, size_t n)
{
    json_t *content = json_array();
    if (!content)
        return NULL;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '\n')
            continue;
        if (add_text(content, s + start, i - start) != 0)
            goto fail;
        if (i < n && json_array_append_new(content, json_pack("{s:s}", "type", "hardBreak")) != 0)
            goto fail;
        start = i + 1;
    }
    return json_pack("{s:s, s:o}", "type", "paragraph", "content", content);
fail:
    json_decref(content);
    return NULL;
}

json_t *bl_adf_from_text(const char *text)
{
    json_t *paras = json_array();
    if (!paras)
        return NULL;
    size_t len = strlen(text), start = 0;
    while (start <= len) {
        const char *brk = strstr(text + start, "\n\n");
        size_t end = brk ? (size_t)(brk - text) : len;
        /* Trim the newlines around a paragraph so no hardBreak dangles. */
        size_t a = start, b = end;
        while (a < b && text[a] == '\n')
            a++;
        while (b > a && text[b - 1] == '\n')
            b--;
        if (b > a || json_array_size(paras) == 0) {
            if (b > a || !brk) {
                json_t *p = paragraph(text + a, b - a);
                if (!p || json_array_append_new(paras, p) != 0) {
                    json_decref(paras);
                    return NULL;
                }
            }
        }
        if (!brk)
            break;
        start = end + 2;
    }
    return json_pack("{s:s, s:i, s:o}", "type", "doc", "version", 1, "content", paras);
}
