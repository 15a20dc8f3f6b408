/* Formatting helpers for plugins that send Telegram HTML (JV_FORMAT_HTML):
 * header-only, so they need no host call and no ABI member. Any text a user
 * typed must go through jv_html_escape before it is put in HTML. */
#ifndef JARVIS_FORMAT_H
#define JARVIS_FORMAT_H

#include <stddef.h>
#include <string.h>

#include <jarvis/plugin.h>

/* Writes text with <, > and & (and " for attributes) replaced by entities
 * into out (always NUL-terminated when out_size > 0, cut at a whole entity).
 * Returns the length the whole escaped text needs, without the NUL. */
static inline size_t jv_html_escape(const char *text, char *out, size_t out_size)
{
    size_t needed = 0, written = 0;
    int full = out_size == 0;
    for (const char *c = text ? text : ""; *c; c++) {
        char plain[2] = {*c, '\0'};
        const char *entity = *c == '<'   ? "&lt;"
                             : *c == '>' ? "&gt;"
                             : *c == '&' ? "&amp;"
                             : *c == '"' ? "&quot;"
                                         : plain;
        size_t length = strlen(entity);
        if (!full && written + length < out_size) {
            memcpy(out + written, entity, length);
            written += length;
        } else {
            full = 1; /* never half an entity */
        }
        needed += length;
    }
    if (out_size > 0)
        out[written] = '\0';
    return needed;
}

/* The escaped copy allocated with api->alloc (free with api->free), or NULL. */
static inline char *jv_html_escape_dup(const jv_host_api *api, const char *text)
{
    size_t needed = jv_html_escape(text, NULL, 0);
    char *copy = (char *)api->alloc(needed + 1);
    if (copy != NULL)
        jv_html_escape(text, copy, needed + 1);
    return copy;
}

#endif
