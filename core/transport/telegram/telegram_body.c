/* A plain sendMessage's JSON body, written as text (see telegram_body.h).
 * Escaped as jansson escapes: '"', '\\' and control characters, UTF-8 as
 * it is, so both paths send the same object. */
#include "transport/telegram/telegram_body.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "base/utf8.h"

/* Members the sender sets itself: an options text naming one of them goes
 * the jansson way, where the sender's value replaces the stored one. */
static int names_a_sender_member(const char *options)
{
    return strstr(options, "\"chat_id\"") != NULL || strstr(options, "\"text\"") != NULL ||
           strstr(options, "\"message_thread_id\"") != NULL;
}

static int is_plain_object(const char *options, size_t length)
{
    return length >= 2 && options[0] == '{' && options[length - 1] == '}';
}

/* The escaped length of text (without the quotes). */
static size_t escaped_length(const char *text)
{
    size_t length = 0;
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '"' || *c == '\\' || *c == '\b' || *c == '\f' || *c == '\n' || *c == '\r' ||
            *c == '\t')
            length += 2;
        else if (*c < 0x20)
            length += 6;
        else
            length++;
    }
    return length;
}

static char *escape_into(char *out, const char *text)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        const char *pair = NULL;
        switch (*c) {
            case '"': pair = "\\\""; break;
            case '\\': pair = "\\\\"; break;
            case '\b': pair = "\\b"; break;
            case '\f': pair = "\\f"; break;
            case '\n': pair = "\\n"; break;
            case '\r': pair = "\\r"; break;
            case '\t': pair = "\\t"; break;
            default: break;
        }
        if (pair != NULL) {
            memcpy(out, pair, 2);
            out += 2;
        } else if (*c < 0x20) {
            memcpy(out, "\\u00", 4);
            out[4] = hex[*c >> 4];
            out[5] = hex[*c & 0xf];
            out += 6;
        } else {
            *out++ = (char)*c;
        }
    }
    return out;
}

char *telegram_send_message_body(int64_t chat_id, int64_t thread_id, const char *text,
                                 const char *options)
{
    size_t options_length = options != NULL ? strlen(options) : 0;
    size_t text_length = strlen(text);
    if ((options_length > 0 &&
         (!is_plain_object(options, options_length) || names_a_sender_member(options))) ||
        utf8_invalid_bytes(text, text_length) > 0)
        return NULL;
    char head[96];
    size_t head_length = text_join(head, sizeof head, "{\"chat_id\":", "");
    head_length += text_int64(head + head_length, chat_id);
    if (thread_id != 0) {
        head_length +=
            text_join(head + head_length, sizeof head - head_length, ",\"message_thread_id\":", "");
        head_length += text_int64(head + head_length, thread_id);
    }
    head_length += text_join(head + head_length, sizeof head - head_length, ",\"text\":\"", "");
    /* head, text, '"', then options without its '{' (or '}'), NUL */
    size_t size = head_length + escaped_length(text) + 1 + options_length + 2;
    char *body = malloc(size);
    if (body == NULL)
        return NULL;
    memcpy(body, head, head_length);
    char *out = escape_into(body + head_length, text);
    *out++ = '"';
    if (options_length > 2) {
        *out++ = ',';
        memcpy(out, options + 1, options_length - 1); /* the members and '}' */
        out += options_length - 1;
    } else {
        *out++ = '}';
    }
    *out = '\0';
    return body;
}
