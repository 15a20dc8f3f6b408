/* Reads one HTTP/1.x response from bytes in whatever pieces they arrive:
 * status line, headers, the body framed by Content-Length, chunked coding or
 * the connection's close, interim 1xx answers skipped. No I/O of its own. */
#ifndef JARVIS_HTTP_RESPONSE_PARSER_H
#define JARVIS_HTTP_RESPONSE_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "base/byte_buffer.h"

enum http_parse_result { HTTP_PARSE_MORE, HTTP_PARSE_DONE, HTTP_PARSE_ERROR };

struct http_response_parser {
    /* the answer, once HTTP_PARSE_DONE */
    int status;              /* 200, 429...; 0 until the final status line */
    struct byte_buffer body; /* NUL-terminated; released by http_response_parser_release */
    int keep_alive;          /* the connection may carry the next request */
    long retry_after_s;      /* Retry-After in seconds (a date: from now); -1 when absent */
    /* HTTP_PARSE_ERROR: why, in a few words (static text); too_large when
     * the body would pass the limit */
    const char *error;
    int too_large;

    /* the reader's own */
    int state;
    int framing;
    int http_minor;
    struct byte_buffer line; /* the head, or a chunk-size or trailer line, until its LF */
    size_t line_start;       /* in line: where the head's current line began */
    size_t trailer_bytes;
    uint64_t remaining; /* body or chunk bytes still to come */
};

/* Ready for a response whose body may hold up to body_limit bytes. */
void http_response_parser_init(struct http_response_parser *parser, size_t body_limit);
/* Ready for the next response on the same connection; keeps the buffers. */
void http_response_parser_reset(struct http_response_parser *parser);
void http_response_parser_release(struct http_response_parser *parser);

/* Takes the next bytes. *used: how many belonged to this response (the rest,
 * after HTTP_PARSE_DONE, is not part of it). After DONE or ERROR it takes
 * nothing more until a reset. */
enum http_parse_result http_response_parser_feed(struct http_response_parser *parser,
                                                 const char *data, size_t length, size_t *used);
/* The connection ended: DONE for a body delimited by the close, else ERROR
 * (or the state it was already in). */
enum http_parse_result http_response_parser_end(struct http_response_parser *parser);

#endif
