/* Masking DSN passwords in text. The rules follow libpq's two syntaxes:
 * conninfo "keyword = value" pairs, where a value is a run of non-spaces or
 * a single-quoted string with backslash escapes, and URIs, whose userinfo
 * "user:password@" ends at the first '@' before the first '/', and whose
 * query parameters end at '&'. */
#include "state/dsn_redact.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MASK "***"

struct writer {
    char *out;
    size_t size;
    size_t used;
};

static void put(struct writer *writer, const char *bytes, size_t length)
{
    if (writer->size == 0)
        return;
    size_t room = writer->size - 1 - writer->used;
    if (length > room)
        length = room;
    memcpy(writer->out + writer->used, bytes, length);
    writer->used += length;
    writer->out[writer->used] = '\0';
}

static int is_word_start(const char *text, const char *at)
{
    if (at == text)
        return 1;
    unsigned char before = (unsigned char)at[-1];
    return isspace(before) || before == '?' || before == '&' || before == '"' || before == '\'';
}

/* The end of a conninfo value starting at value: after its closing quote,
 * or at the first space (or '&' in a URI query, stop_at_ampersand). */
static const char *value_end(const char *value, int stop_at_ampersand)
{
    if (*value == '\'') {
        const char *p = value + 1;
        while (*p != '\0' && *p != '\'') {
            if (*p == '\\' && p[1] != '\0')
                p++;
            p++;
        }
        return *p == '\'' ? p + 1 : p;
    }
    const char *p = value;
    while (*p != '\0' && !isspace((unsigned char)*p) && !(stop_at_ampersand && *p == '&'))
        p++;
    return p;
}

/* At "password" (any case) followed by optional spaces and '=': the length
 * of the whole "password = value" and where the value begins, else 0. */
static size_t password_pair(const char *text, const char *at, const char **value)
{
    static const char keyword[] = "password";
    if (strncasecmp(at, keyword, sizeof keyword - 1) != 0 || !is_word_start(text, at))
        return 0;
    const char *p = at + sizeof keyword - 1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '=')
        return 0;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    *value = p;
    int in_query = at != text && (at[-1] == '?' || at[-1] == '&');
    return (size_t)(value_end(p, in_query) - at);
}

/* At "scheme://": the length of "scheme://user:" and of the password up
 * to the '@' that ends the userinfo; 0 when there is no password there. */
static size_t uri_password(const char *at, size_t *password_length)
{
    static const char *const schemes[] = {"postgresql://", "postgres://"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t scheme_length = strlen(schemes[i]);
        if (strncasecmp(at, schemes[i], scheme_length) != 0)
            continue;
        const char *userinfo = at + scheme_length;
        const char *end = userinfo;
        while (*end != '\0' && *end != '@' && *end != '/' && !isspace((unsigned char)*end))
            end++;
        if (*end != '@')
            return 0;
        const char *colon = memchr(userinfo, ':', (size_t)(end - userinfo));
        if (colon == NULL)
            return 0;
        *password_length = (size_t)(end - colon - 1);
        return (size_t)(colon + 1 - at);
    }
    return 0;
}

void dsn_redact(const char *text, char *out, size_t out_size)
{
    struct writer writer = {out, out_size, 0};
    if (out_size == 0)
        return;
    out[0] = '\0';
    if (text == NULL)
        return;
    const char *p = text;
    while (*p != '\0') {
        const char *value = NULL;
        size_t pair = password_pair(text, p, &value);
        if (pair > 0) {
            put(&writer, p, (size_t)(value - p));
            put(&writer, MASK, sizeof MASK - 1);
            p += pair;
            continue;
        }
        size_t password_length = 0;
        size_t prefix = uri_password(p, &password_length);
        if (prefix > 0) {
            put(&writer, p, prefix);
            put(&writer, MASK, sizeof MASK - 1);
            p += prefix + password_length;
            continue;
        }
        put(&writer, p, 1);
        p++;
    }
}

/* Replaces every occurrence of secret in text by the mask;
 * the mask is never longer than a secret it replaces (secrets of fewer than
 * three bytes are masked with as many stars). */
static void mask_secret(char *text, const char *secret)
{
    size_t secret_length = secret != NULL ? strlen(secret) : 0;
    if (secret_length == 0)
        return;
    size_t mask_length = secret_length < sizeof MASK - 1 ? secret_length : sizeof MASK - 1;
    char *read = text, *write = text;
    while (*read != '\0') {
        if (strncmp(read, secret, secret_length) == 0) {
            memcpy(write, MASK, mask_length);
            write += mask_length;
            read += secret_length;
            continue;
        }
        *write++ = *read++;
    }
    *write = '\0';
}

static void fold_into_one_line(char *text)
{
    for (char *p = text; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    size_t length = strlen(text);
    while (length > 0 && text[length - 1] == ' ')
        text[--length] = '\0';
}

void dsn_redact_message(const char *message, const char *secret, char *out, size_t out_size)
{
    if (out_size == 0)
        return;
    dsn_redact(message != NULL ? message : "", out, out_size);
    mask_secret(out, secret);
    fold_into_one_line(out);
}

void dsn_redact_parse_error(const char *message, char *out, size_t out_size)
{
    if (out_size == 0)
        return;
    dsn_redact_message(message, NULL, out, out_size);
    char *read = out, *write = out;
    while (*read != '\0') {
        if (*read == '"') {
            char *close = strchr(read + 1, '"');
            if (close != NULL && close > read + 1) {
                /* "*" is never longer than the quoted fragment it replaces */
                memcpy(write, "\"*\"", 3);
                read = close + 1;
                write += 3;
                continue;
            }
        }
        *write++ = *read++;
    }
    *write = '\0';
}
