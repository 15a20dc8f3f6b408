/* The HTTP/1.x response reader (http_response_parser.h), after RFC 9112:
 * section 4 (status line), 5 (fields, obs-fold), 6.3 (which framing a body
 * has) and 7.1 (chunked coding with extensions and trailers). */
#include "base/http_response_parser.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

/* Status line and headers, and the trailers, each at most this much: a
 * server sending more is not one jarvis talks to (libcurl allows 100 KiB). */
#define HEAD_LIMIT (64u * 1024u)
/* "ffffffff;name=value": extensions are legal but never long in practice. */
#define CHUNK_LINE_LIMIT 4096u

enum state {
    STATE_HEAD,
    STATE_BODY_LENGTH,
    STATE_BODY_CLOSE,
    STATE_CHUNK_SIZE,
    STATE_CHUNK_DATA,
    STATE_CHUNK_END,
    STATE_TRAILERS,
    STATE_DONE,
    STATE_ERROR
};

/* What the head says about the body that follows. */
struct head_fields {
    int has_length;
    uint64_t length;
    int has_transfer_coding;
    int chunked_last; /* the final transfer coding is chunked */
    int connection_close;
    int connection_keep_alive;
    long retry_after_s;
};

void http_response_parser_init(struct http_response_parser *parser, size_t body_limit)
{
    memset(parser, 0, sizeof *parser);
    parser->body.limit = body_limit;
    parser->line.limit = HEAD_LIMIT + 1;
    http_response_parser_reset(parser);
}

static void start_head(struct http_response_parser *parser)
{
    parser->state = STATE_HEAD;
    parser->line.length = 0;
    parser->line_start = 0;
    parser->status = 0;
    parser->retry_after_s = -1;
}

void http_response_parser_reset(struct http_response_parser *parser)
{
    start_head(parser);
    parser->body.length = 0;
    parser->body.over_limit = 0;
    if (parser->body.data != NULL)
        parser->body.data[0] = '\0';
    parser->keep_alive = 0;
    parser->error = NULL;
    parser->too_large = 0;
    parser->trailer_bytes = 0;
    parser->remaining = 0;
}

void http_response_parser_release(struct http_response_parser *parser)
{
    free(parser->body.data);
    free(parser->line.data);
    parser->body.data = NULL;
    parser->line.data = NULL;
    parser->body.capacity = parser->line.capacity = 0;
    parser->body.length = parser->line.length = 0;
}

static void fail(struct http_response_parser *parser, const char *why)
{
    parser->state = STATE_ERROR;
    parser->error = why;
}

static void fail_too_large(struct http_response_parser *parser)
{
    parser->too_large = 1;
    fail(parser, "answer too large");
}

/* Moves the bytes up to and including the next LF onto parser->line, at
 * most limit in all. 1: a whole line is there; 0: every byte taken, the
 * line goes on; -1: the line would pass the limit (or out of memory). */
static int gather_line(struct http_response_parser *parser, const char *data, size_t length,
                       size_t *taken, size_t limit)
{
    const char *lf = memchr(data, '\n', length);
    size_t count = lf != NULL ? (size_t)(lf - data) + 1 : length;
    if (parser->line.length > limit || count > limit - parser->line.length)
        return -1;
    if (byte_buffer_append(&parser->line, data, count) != 0)
        return -1;
    *taken = count;
    return lf != NULL;
}

/* A line's length without its LF and an optional CR before it (RFC 9112
 * 2.2 lets a recipient take a bare LF as the end of a line). */
static size_t content_length_of_line(const char *line, size_t length)
{
    if (length > 0 && line[length - 1] == '\n')
        length--;
    if (length > 0 && line[length - 1] == '\r')
        length--;
    return length;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* "HTTP/1.1 200 OK", "HTTP/1.0 204", any reason phrase. */
static int read_status_line(struct http_response_parser *parser, const char *line, size_t length)
{
    if (length < 12 || memcmp(line, "HTTP/1.", 7) != 0 || !is_digit(line[7]) || line[8] != ' ')
        return -1;
    const char *code = line + 9;
    if (code[0] < '1' || code[0] > '5' || !is_digit(code[1]) || !is_digit(code[2]))
        return -1;
    if (length > 12 && code[3] != ' ')
        return -1;
    parser->http_minor = line[7] - '0';
    parser->status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    return 0;
}

static int name_is(const char *name, size_t length, const char *wanted)
{
    return length == strlen(wanted) && strncasecmp(name, wanted, length) == 0;
}

/* Calls each(token) for the comma-separated list in value (OWS trimmed,
 * empty elements skipped, as RFC 9110 5.6.1 asks of a recipient). */
static void each_token(const char *value, size_t length, struct head_fields *fields,
                       void (*each)(const char *, size_t, struct head_fields *))
{
    size_t at = 0;
    while (at < length) {
        while (at < length && (is_space(value[at]) || value[at] == ','))
            at++;
        size_t start = at;
        while (at < length && value[at] != ',')
            at++;
        size_t end = at;
        while (end > start && is_space(value[end - 1]))
            end--;
        if (end > start)
            each(value + start, end - start, fields);
    }
}

static void connection_token(const char *token, size_t length, struct head_fields *fields)
{
    if (name_is(token, length, "close"))
        fields->connection_close = 1;
    else if (name_is(token, length, "keep-alive"))
        fields->connection_keep_alive = 1;
}

static void transfer_coding(const char *token, size_t length, struct head_fields *fields)
{
    fields->has_transfer_coding = 1;
    fields->chunked_last = name_is(token, length, "chunked");
}

/* "123", or a list of one value repeated ("123, 123", RFC 9110 8.6);
 * anything else is an unreadable frame, not a guess. */
static int read_content_length(const char *value, size_t length, struct head_fields *fields)
{
    size_t at = 0;
    do {
        while (at < length && (is_space(value[at]) || value[at] == ','))
            at++;
        uint64_t number = 0;
        size_t digits = 0;
        for (; at < length && is_digit(value[at]); at++, digits++) {
            if (digits == 19)
                return -1; /* past any size this reader could hold */
            number = number * 10 + (uint64_t)(value[at] - '0');
        }
        while (at < length && is_space(value[at]))
            at++;
        if (digits == 0 || (at < length && value[at] != ','))
            return -1;
        if (fields->has_length && fields->length != number)
            return -1;
        fields->has_length = 1;
        fields->length = number;
    } while (at < length);
    return 0;
}

/* An HTTP-date as seconds from now (0 when past), as base/http.c reads it. */
static long seconds_until(const char *value, size_t length)
{
    char text[128];
    if (length >= sizeof text)
        return -1;
    memcpy(text, value, length);
    text[length] = '\0';
    time_t when = curl_getdate(text, NULL);
    if (when < 0)
        return -1;
    time_t now = time(NULL);
    return when > now ? (long)(when - now) : 0;
}

/* delta-seconds or an HTTP-date (RFC 9110 10.2.3), capped at a day. */
static void read_retry_after(const char *value, size_t length, struct head_fields *fields)
{
    static const long day_s = 86400;
    long seconds = 0;
    if (length == 0)
        return;
    for (size_t at = 0; at < length && seconds >= 0; at++) {
        if (!is_digit(value[at]))
            seconds = -1;
        else if (seconds < day_s)
            seconds = seconds * 10 + (value[at] - '0');
    }
    if (seconds < 0)
        seconds = seconds_until(value, length);
    if (seconds >= 0)
        fields->retry_after_s = seconds > day_s ? day_s : seconds;
}

static int read_field(const char *line, size_t length, struct head_fields *fields)
{
    const char *colon = memchr(line, ':', length);
    if (colon == NULL || colon == line)
        return -1;
    size_t name_length = (size_t)(colon - line);
    for (size_t i = 0; i < name_length; i++)
        if (is_space(line[i]) || (unsigned char)line[i] < 0x21)
            return -1; /* RFC 9112 5.1: no whitespace before the colon */
    const char *value = colon + 1;
    size_t value_length = length - name_length - 1;
    while (value_length > 0 && is_space(value[0]))
        value++, value_length--;
    while (value_length > 0 && is_space(value[value_length - 1]))
        value_length--;
    if (name_is(line, name_length, "content-length"))
        return read_content_length(value, value_length, fields);
    if (name_is(line, name_length, "transfer-encoding"))
        each_token(value, value_length, fields, transfer_coding);
    else if (name_is(line, name_length, "connection"))
        each_token(value, value_length, fields, connection_token);
    else if (name_is(line, name_length, "retry-after"))
        read_retry_after(value, value_length, fields);
    return 0;
}

/* RFC 9112 5.2: a line starting with SP or HTAB continues the field above;
 * a recipient reads the fold as spaces. */
static void unfold(char *head, size_t length)
{
    for (size_t i = 1; i + 1 < length; i++) {
        if (head[i] != '\n' || !is_space(head[i + 1]))
            continue;
        head[i] = ' ';
        if (head[i - 1] == '\r')
            head[i - 1] = ' ';
    }
}

/* 0 with *fields filled and the status line read, or -1. */
static int read_head(struct http_response_parser *parser, struct head_fields *fields)
{
    char *head = parser->line.data;
    size_t length = parser->line.length;
    unfold(head, length);
    memset(fields, 0, sizeof *fields);
    fields->retry_after_s = -1;
    int first = 1;
    for (size_t at = 0; at < length;) {
        const char *lf = memchr(head + at, '\n', length - at);
        size_t line_length = (size_t)(lf - (head + at)) + 1; /* the head ends in LF */
        size_t content = content_length_of_line(head + at, line_length);
        if (content > 0) {
            int read = first ? read_status_line(parser, head + at, content)
                             : read_field(head + at, content, fields);
            if (read != 0)
                return -1;
            first = 0;
        }
        at += line_length;
    }
    return first ? -1 : 0;
}

/* RFC 9112 6.3, for the answer to a POST: no body for 204 and 304, then
 * Transfer-Encoding over Content-Length, else the body runs to the close. */
static void choose_framing(struct http_response_parser *parser, const struct head_fields *fields)
{
    /* HTTP/1.1 keeps the connection unless told otherwise, 1.0 only when asked */
    if (parser->http_minor >= 1)
        parser->keep_alive = !fields->connection_close;
    else
        parser->keep_alive = fields->connection_keep_alive && !fields->connection_close;
    parser->retry_after_s = fields->retry_after_s;
    if (parser->status == 204 || parser->status == 304) {
        parser->state = STATE_DONE;
        return;
    }
    if (fields->has_transfer_coding) {
        /* both fields: a smuggling sign, so the connection is not reused */
        if (fields->has_length)
            parser->keep_alive = 0;
        if (fields->chunked_last) {
            parser->line.length = 0;
            parser->state = STATE_CHUNK_SIZE;
            return;
        }
        parser->keep_alive = 0;
        parser->state = STATE_BODY_CLOSE;
        return;
    }
    if (fields->has_length) {
        if (fields->length > parser->body.limit) {
            fail_too_large(parser);
            return;
        }
        parser->remaining = fields->length;
        parser->state = fields->length == 0 ? STATE_DONE : STATE_BODY_LENGTH;
        return;
    }
    parser->keep_alive = 0;
    parser->state = STATE_BODY_CLOSE;
}

static void head_complete(struct http_response_parser *parser)
{
    struct head_fields fields;
    if (read_head(parser, &fields) != 0) {
        fail(parser, "malformed status line or header");
        return;
    }
    if (parser->status == 101) {
        fail(parser, "unexpected protocol switch");
        return;
    }
    if (parser->status < 200) {
        start_head(parser); /* an interim answer: the real one follows */
        return;
    }
    choose_framing(parser, &fields);
}

static size_t step_head(struct http_response_parser *parser, const char *data, size_t length)
{
    size_t taken = 0;
    int complete = gather_line(parser, data, length, &taken, HEAD_LIMIT);
    if (complete < 0) {
        fail(parser, "answer head too large");
        return taken;
    }
    if (complete == 0)
        return taken;
    const char *line = parser->line.data + parser->line_start;
    size_t line_length = parser->line.length - parser->line_start;
    if (content_length_of_line(line, line_length) > 0) {
        parser->line_start = parser->line.length;
        return taken;
    }
    if (parser->line_start == 0) {
        parser->line.length = 0; /* a stray blank line before the status line */
        return taken;
    }
    head_complete(parser);
    return taken;
}

static size_t step_body(struct http_response_parser *parser, const char *data, size_t length)
{
    size_t take = length;
    if (parser->state != STATE_BODY_CLOSE && parser->remaining < take)
        take = (size_t)parser->remaining;
    if (byte_buffer_append(&parser->body, data, take) != 0) {
        if (parser->body.over_limit)
            fail_too_large(parser);
        else
            fail(parser, "out of memory");
        return take;
    }
    if (parser->state == STATE_BODY_CLOSE)
        return take;
    parser->remaining -= take;
    if (parser->remaining == 0)
        parser->state = parser->state == STATE_CHUNK_DATA ? STATE_CHUNK_END : STATE_DONE;
    if (parser->state == STATE_CHUNK_END)
        parser->line.length = 0;
    return take;
}

static int hex_value(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* chunk-size [BWS ";" extensions]: the extensions are read past, unused. */
static void read_chunk_size(struct http_response_parser *parser, const char *line, size_t length)
{
    uint64_t size = 0;
    size_t at = 0;
    for (; at < length && hex_value(line[at]) >= 0; at++) {
        if (at == 15) {
            fail_too_large(parser);
            return;
        }
        size = size * 16 + (uint64_t)hex_value(line[at]);
    }
    size_t digits = at;
    while (at < length && is_space(line[at]))
        at++;
    if (digits == 0 || (at < length && line[at] != ';')) {
        fail(parser, "malformed chunk size");
        return;
    }
    if (size > parser->body.limit - parser->body.length) {
        fail_too_large(parser);
        return;
    }
    parser->line.length = 0;
    parser->remaining = size;
    parser->state = size > 0 ? STATE_CHUNK_DATA : STATE_TRAILERS;
}

static size_t step_chunk_line(struct http_response_parser *parser, const char *data, size_t length)
{
    size_t taken = 0;
    size_t limit = HEAD_LIMIT; /* a trailer line */
    if (parser->state == STATE_CHUNK_SIZE)
        limit = CHUNK_LINE_LIMIT;
    else if (parser->state == STATE_CHUNK_END)
        limit = 2; /* the CRLF after the data */
    int complete = gather_line(parser, data, length, &taken, limit);
    if (complete < 0) {
        fail(parser, parser->state == STATE_CHUNK_END ? "chunk longer than its size"
                                                      : "chunk line too long");
        return taken;
    }
    if (complete == 0)
        return taken;
    size_t content = content_length_of_line(parser->line.data, parser->line.length);
    if (parser->state == STATE_CHUNK_SIZE) {
        read_chunk_size(parser, parser->line.data, content);
    } else if (parser->state == STATE_CHUNK_END) {
        if (content != 0)
            fail(parser, "chunk longer than its size");
        parser->line.length = 0;
        if (content == 0)
            parser->state = STATE_CHUNK_SIZE;
    } else {
        /* a trailer field: nothing jarvis reads arrives in one */
        parser->trailer_bytes += parser->line.length;
        parser->line.length = 0;
        if (content == 0)
            parser->state = STATE_DONE;
        else if (parser->trailer_bytes > HEAD_LIMIT)
            fail(parser, "trailers too large");
    }
    return taken;
}

static enum http_parse_result result_of(const struct http_response_parser *parser)
{
    if (parser->state == STATE_DONE)
        return HTTP_PARSE_DONE;
    return parser->state == STATE_ERROR ? HTTP_PARSE_ERROR : HTTP_PARSE_MORE;
}

enum http_parse_result http_response_parser_feed(struct http_response_parser *parser,
                                                 const char *data, size_t length, size_t *used)
{
    size_t at = 0;
    while (at < length && parser->state != STATE_DONE && parser->state != STATE_ERROR) {
        const char *rest = data + at;
        size_t left = length - at;
        switch (parser->state) {
            case STATE_HEAD: at += step_head(parser, rest, left); break;
            case STATE_BODY_LENGTH:
            case STATE_BODY_CLOSE:
            case STATE_CHUNK_DATA: at += step_body(parser, rest, left); break;
            default: at += step_chunk_line(parser, rest, left); break;
        }
    }
    *used = at;
    return result_of(parser);
}

enum http_parse_result http_response_parser_end(struct http_response_parser *parser)
{
    if (parser->state == STATE_BODY_CLOSE)
        parser->state = STATE_DONE;
    else if (parser->state != STATE_DONE && parser->state != STATE_ERROR)
        fail(parser, "connection closed before the answer was complete");
    return result_of(parser);
}
