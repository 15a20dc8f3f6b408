/* core/base/http_response_parser.c: every response is fed whole, byte by
 * byte, split at every point in two, and in random pieces, and must read
 * the same each time: framing by Content-Length, chunked coding (extensions,
 * trailers), the close; 1xx skipped; limits and malformed input refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/http_response_parser.h"

#define LIMIT (1024u * 1024u)

struct reading {
    enum http_parse_result result;
    int status;
    char *body;
    size_t body_length;
    int keep_alive;
    long retry_after_s;
    int too_large;
    size_t used; /* bytes of the input that belonged to the response */
};

static void reading_release(struct reading *reading)
{
    free(reading->body);
    reading->body = NULL;
}

/* Feeds text in pieces ending at the offsets in cuts (ascending, the last
 * one the length), then the end of the connection when eof is set. */
static struct reading feed_in_pieces(const char *text, size_t length, const size_t *cuts,
                                     size_t cut_count, int eof, size_t limit)
{
    struct http_response_parser parser;
    http_response_parser_init(&parser, limit);
    struct reading reading = {.result = HTTP_PARSE_MORE};
    assert_true(cut_count == 0 || cuts[cut_count - 1] == length);
    size_t at = 0;
    for (size_t i = 0; i < cut_count && reading.result == HTTP_PARSE_MORE; i++) {
        size_t used = 0;
        reading.result = http_response_parser_feed(&parser, text + at, cuts[i] - at, &used);
        assert_true(used <= cuts[i] - at);
        if (reading.result == HTTP_PARSE_MORE)
            assert_int_equal(used, cuts[i] - at); /* all taken while it needs more */
        reading.used += used;
        at = cuts[i];
    }
    if (reading.result == HTTP_PARSE_MORE && eof)
        reading.result = http_response_parser_end(&parser);
    reading.status = parser.status;
    reading.keep_alive = parser.keep_alive;
    reading.retry_after_s = parser.retry_after_s;
    reading.too_large = parser.too_large;
    if (reading.result == HTTP_PARSE_ERROR)
        assert_non_null(parser.error);
    if (reading.result == HTTP_PARSE_DONE) {
        reading.body_length = parser.body.length;
        reading.body = malloc(parser.body.length + 1);
        assert_non_null(reading.body);
        if (parser.body.length > 0)
            memcpy(reading.body, parser.body.data, parser.body.length);
        reading.body[parser.body.length] = '\0';
    }
    http_response_parser_release(&parser);
    return reading;
}

static void assert_same(const struct reading *expected, const struct reading *got, const char *how)
{
    /* where an error shows depends on the pieces; where an answer ends does not */
    int used_differs = expected->result != HTTP_PARSE_ERROR && got->used != expected->used;
    if (got->result != expected->result || used_differs || got->status != expected->status ||
        got->keep_alive != expected->keep_alive || got->retry_after_s != expected->retry_after_s ||
        got->too_large != expected->too_large)
        fail_msg("fed %s: result %d used %zu status %d keep %d retry %ld large %d, whole: %d %zu "
                 "%d %d %ld %d",
                 how, got->result, got->used, got->status, got->keep_alive, got->retry_after_s,
                 got->too_large, expected->result, expected->used, expected->status,
                 expected->keep_alive, expected->retry_after_s, expected->too_large);
    if (expected->result != HTTP_PARSE_DONE)
        return;
    if (got->body_length != expected->body_length ||
        memcmp(got->body, expected->body, got->body_length) != 0)
        fail_msg("fed %s: body differs", how);
}

/* The reading of text fed whole, checked to be the same in every split. */
static struct reading read_every_way(const char *text, size_t length, int eof, size_t limit)
{
    size_t whole_cut = length;
    struct reading whole = feed_in_pieces(text, length, &whole_cut, 1, eof, limit);
    size_t *cuts = malloc((length + 1) * sizeof *cuts);
    assert_non_null(cuts);
    for (size_t i = 0; i < length; i++)
        cuts[i] = i + 1;
    struct reading got = feed_in_pieces(text, length, cuts, length, eof, limit);
    assert_same(&whole, &got, "byte by byte");
    reading_release(&got);
    for (size_t split = 0; split <= length && length < 4096; split++) {
        size_t two[2] = {split, length};
        got = feed_in_pieces(text, length, two, 2, eof, limit);
        char how[64];
        snprintf(how, sizeof how, "in two at %zu", split);
        assert_same(&whole, &got, how);
        reading_release(&got);
    }
    srand(7);
    for (int round = 0; round < 50; round++) {
        size_t count = 0;
        for (size_t at = 0; at < length;) {
            at += 1 + (size_t)rand() % 13;
            cuts[count++] = at < length ? at : length;
        }
        got = feed_in_pieces(text, length, cuts, count, eof, limit);
        assert_same(&whole, &got, "in random pieces");
        reading_release(&got);
    }
    free(cuts);
    return whole;
}

static struct reading read_text(const char *text, int eof)
{
    return read_every_way(text, strlen(text), eof, LIMIT);
}

static void assert_done(const struct reading *reading, int status, const char *body)
{
    assert_int_equal(reading->result, HTTP_PARSE_DONE);
    assert_int_equal(reading->status, status);
    assert_int_equal(reading->body_length, strlen(body));
    assert_string_equal(reading->body, body);
}

static void content_length_body(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       "content-LENGTH:  11 \r\n\r\n{\"ok\":true}";
    struct reading reading = read_text(text, 0);
    assert_done(&reading, 200, "{\"ok\":true}");
    assert_int_equal(reading.used, strlen(text));
    assert_int_equal(reading.keep_alive, 1);
    assert_int_equal(reading.retry_after_s, -1);
    reading_release(&reading);
}

/* The next answer's bytes are not this one's. */
static void stops_at_the_end_of_the_body(void **state)
{
    (void)state;
    const char *first = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    char text[256];
    snprintf(text, sizeof text, "%sHTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", first);
    struct reading reading = read_text(text, 0);
    assert_done(&reading, 200, "ok");
    assert_int_equal(reading.used, strlen(first));
    reading_release(&reading);
}

static void chunked_with_extensions_and_trailers(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "4;ext=1\r\n{\"ok\r\n"
                       "a ; name=\"q;v\" ;x\r\n\":true,\"re\r\n"
                       "00B\r\nsult\":[1,2]\r\n"
                       "17\r\n,\"two hex digits\":\"17\"}\r\n"
                       "0;last\r\nX-Trailer: a\r\nOther: b\r\n\r\n";
    struct reading reading = read_text(text, 0);
    assert_done(&reading, 200, "{\"ok\":true,\"result\":[1,2],\"two hex digits\":\"17\"}");
    assert_int_equal(reading.used, strlen(text));
    assert_int_equal(reading.keep_alive, 1);
    reading_release(&reading);

    const char *no_trailers = "HTTP/1.1 429 Too Many Requests\r\ntransfer-encoding: Chunked\r\n"
                              "Retry-After: 7\r\n\r\n2\r\nab\r\n0\r\n\r\n";
    reading = read_text(no_trailers, 0);
    assert_done(&reading, 429, "ab");
    assert_int_equal(reading.retry_after_s, 7);
    reading_release(&reading);
}

/* RFC 9112 6.1: with both, chunked frames the body; the connection is not
 * trusted for another request. */
static void chunked_wins_over_content_length(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    struct reading reading = read_text(text, 0);
    assert_done(&reading, 200, "abc");
    assert_int_equal(reading.keep_alive, 0);
    reading_release(&reading);
}

static void body_delimited_by_the_close(void **state)
{
    (void)state;
    const char *text = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"ok\":true}";
    struct reading open = read_text(text, 0);
    assert_int_equal(open.result, HTTP_PARSE_MORE); /* could go on */
    reading_release(&open);
    struct reading closed = read_text(text, 1);
    assert_done(&closed, 200, "{\"ok\":true}");
    assert_int_equal(closed.keep_alive, 0);
    reading_release(&closed);
    /* HTTP/1.1 without a length is framed the same way */
    struct reading eleven = read_text("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nxyz", 1);
    assert_done(&eleven, 200, "xyz");
    assert_int_equal(eleven.keep_alive, 0);
    reading_release(&eleven);
}

static void connection_reuse_by_version_and_field(void **state)
{
    (void)state;
    struct {
        const char *text;
        int keep_alive;
    } cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 0},
        {"HTTP/1.1 200 OK\r\nconnection: Keep-Alive, CLOSE\r\nContent-Length: 0\r\n\r\n", 0},
        {"HTTP/1.1 200 OK\r\nConnection: upgrade\r\nContent-Length: 0\r\n\r\n", 1},
        {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 0},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct reading reading = read_text(cases[i].text, 0);
        assert_done(&reading, 200, "");
        if (reading.keep_alive != cases[i].keep_alive)
            fail_msg("case %zu: keep_alive %d", i, reading.keep_alive);
        reading_release(&reading);
    }
}

static void interim_answers_skipped(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 100 Continue\r\n\r\n"
                       "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\nRetry-After: 9\r\n\r\n"
                       "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    struct reading reading = read_text(text, 0);
    assert_done(&reading, 201, "ok");
    assert_int_equal(reading.retry_after_s,
                     -1); /* the interim answer's field is not the answer's */
    assert_int_equal(reading.used, strlen(text));
    reading_release(&reading);
    struct reading switched = read_text("HTTP/1.1 101 Switching Protocols\r\n\r\n", 0);
    assert_int_equal(switched.result, HTTP_PARSE_ERROR);
    reading_release(&switched);
}

static void no_body_for_204_and_304(void **state)
{
    (void)state;
    const char *head = "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n";
    char text[128];
    snprintf(text, sizeof text, "%sHTTP/", head);
    struct reading reading = read_text(text, 0);
    assert_done(&reading, 204, "");
    assert_int_equal(reading.used, strlen(head));
    reading_release(&reading);
    reading = read_text("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", 0);
    assert_done(&reading, 304, "");
    reading_release(&reading);
}

static void lenient_where_the_rfc_allows(void **state)
{
    (void)state;
    /* bare LF ends a line (RFC 9112 2.2); no reason phrase; a stray blank line first */
    struct reading reading = read_text("\r\nHTTP/1.1 200\nContent-Length: 2\n\nok", 0);
    assert_done(&reading, 200, "ok");
    reading_release(&reading);
    /* obs-fold: the folded line continues the field */
    reading = read_text("HTTP/1.1 200 OK\r\nX-Long: a\r\n b\r\nContent-Length:\r\n 2\r\n\r\nok", 0);
    assert_done(&reading, 200, "ok");
    reading_release(&reading);
    /* a repeated identical length (RFC 9110 8.6) */
    reading =
        read_text("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok", 0);
    assert_done(&reading, 200, "ok");
    reading_release(&reading);
    /* a chunked body whose last chunk line ends in bare LF */
    reading = read_text("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\n0\n\n", 0);
    assert_done(&reading, 200, "x");
    reading_release(&reading);
}

static void retry_after_seconds_or_date(void **state)
{
    (void)state;
    struct reading reading =
        read_text("HTTP/1.1 429 Too Many\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n", 0);
    assert_int_equal(reading.retry_after_s, 30);
    reading_release(&reading);
    /* an HTTP-date: long past is "now", far ahead is capped at a day */
    reading = read_text("HTTP/1.1 429 Too Many\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
                        "Content-Length: 0\r\n\r\n",
                        0);
    assert_int_equal(reading.retry_after_s, 0);
    reading_release(&reading);
    reading = read_text("HTTP/1.1 503 Later\r\nRetry-After: Fri, 01 Jan 2100 00:00:00 GMT\r\n"
                        "Content-Length: 0\r\n\r\n",
                        0);
    assert_int_equal(reading.retry_after_s, 86400);
    reading_release(&reading);
    reading =
        read_text("HTTP/1.1 429 Too Many\r\nRetry-After: soon\r\nContent-Length: 0\r\n\r\n", 0);
    assert_int_equal(reading.retry_after_s, -1);
    reading_release(&reading);
    reading = read_text(
        "HTTP/1.1 429 Too Many\r\nRetry-After: 99999999999999\r\nContent-Length: 0\r\n\r\n", 0);
    assert_int_equal(reading.retry_after_s, 86400);
    reading_release(&reading);
}

static void assert_refused(const char *text, int eof)
{
    struct reading reading = read_text(text, eof);
    if (reading.result != HTTP_PARSE_ERROR)
        fail_msg("read as %d (status %d): %s", reading.result, reading.status, text);
    reading_release(&reading);
}

static void malformed_status_lines_refused(void **state)
{
    (void)state;
    assert_refused("HTTP/2 200 OK\r\n\r\n", 0);
    assert_refused("HTTP/1.1 20 OK\r\n\r\n", 0);
    assert_refused("HTTP/1.1 200OK\r\n\r\n", 0);
    assert_refused("HTTP/1.1 2000 OK\r\n\r\n", 0);
    assert_refused("HTTP/1.1 600 Odd\r\n\r\n", 0);
    assert_refused("HTTP/1.1 099 Odd\r\n\r\n", 0);
    assert_refused("http/1.1 200 OK\r\n\r\n", 0);
    assert_refused("ICY 200 OK\r\n\r\n", 0);
    assert_refused("HTTP/1.1  200 OK\r\n\r\n", 0);
    assert_refused("{\"ok\":true}\n\n", 0);
}

static void malformed_fields_refused(void **state)
{
    (void)state;
    assert_refused("HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n", 0);
    assert_refused("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0);
    assert_refused("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", 0);
    assert_refused("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", 0);
    assert_refused("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 0);
    assert_refused("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", 0);
    assert_refused("HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok", 0);
    assert_refused("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", 0);
    assert_refused("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", 0);
}

static void malformed_chunks_refused(void **state)
{
    (void)state;
    const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const char *bodies[] = {
        "4\r\nabcdX\r\n0\r\n\r\n",  /* data longer than its size */
        "zz\r\nab\r\n0\r\n\r\n",    /* not hex */
        "\r\nab\r\n0\r\n\r\n",      /* no size */
        "4 x\r\nabcd\r\n0\r\n\r\n", /* junk after the size */
        "4\r\nabcd",                /* the connection ends in the chunk */
        "4\r\nabcd\r\n0\r\n",       /* ... in the trailers */
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "%s%s", head, bodies[i]);
        assert_refused(text, 1);
    }
}

static void cut_short_by_the_close(void **state)
{
    (void)state;
    assert_refused("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 1);
    assert_refused("HTTP/1.1 200 OK\r\nContent-Le", 1);
    assert_refused("", 1);
}

static void over_the_limit_refused_before_buffering(void **state)
{
    (void)state;
    const char *announced = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n";
    char text[256];
    snprintf(text, sizeof text, "%s0123456789a", announced);
    struct reading reading = read_every_way(text, strlen(text), 0, 10);
    assert_int_equal(reading.result, HTTP_PARSE_ERROR);
    assert_int_equal(reading.too_large, 1);
    assert_int_equal(reading.used, strlen(announced)); /* refused at the head */
    reading_release(&reading);
    /* exactly the limit is fine */
    snprintf(text, sizeof text, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789");
    reading = read_every_way(text, strlen(text), 0, 10);
    assert_done(&reading, 200, "0123456789");
    reading_release(&reading);

    const char *chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "6\r\n012345\r\n5\r\n6789a\r\n0\r\n\r\n";
    reading = read_every_way(chunked, strlen(chunked), 0, 10);
    assert_int_equal(reading.too_large, 1);
    reading_release(&reading);
    const char *huge = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "fffffffffffffffffffff\r\n";
    reading = read_every_way(huge, strlen(huge), 0, 10);
    assert_int_equal(reading.too_large, 1);
    reading_release(&reading);
    const char *closed = "HTTP/1.0 200 OK\r\n\r\n0123456789a";
    reading = read_every_way(closed, strlen(closed), 1, 10);
    assert_int_equal(reading.too_large, 1);
    reading_release(&reading);
}

static void garbage_refused(void **state)
{
    (void)state;
    /* a head that never ends is refused at its limit, not buffered forever */
    size_t length = 70 * 1024;
    char *endless = malloc(length);
    assert_non_null(endless);
    memset(endless, 'x', length);
    memcpy(endless, "HTTP/1.1 200 OK\r\nX: ", 20);
    size_t cut = length;
    struct reading reading = feed_in_pieces(endless, length, &cut, 1, 0, LIMIT);
    assert_int_equal(reading.result, HTTP_PARSE_ERROR);
    reading_release(&reading);
    free(endless);
    /* random bytes: never an answer */
    srand(11);
    for (int round = 0; round < 200; round++) {
        char noise[300];
        for (size_t i = 0; i < sizeof noise; i++)
            noise[i] = (char)(rand() % 256);
        reading = feed_in_pieces(noise, sizeof noise, &(size_t){sizeof noise}, 1, 1, LIMIT);
        assert_int_equal(reading.result, HTTP_PARSE_ERROR);
        reading_release(&reading);
    }
}

static void reset_reads_the_next_answer(void **state)
{
    (void)state;
    struct http_response_parser parser;
    http_response_parser_init(&parser, LIMIT);
    const char *first =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    const char *second = "HTTP/1.1 400 Bad\r\nContent-Length: 1\r\n\r\nz";
    size_t used = 0;
    assert_int_equal(http_response_parser_feed(&parser, first, strlen(first), &used),
                     HTTP_PARSE_DONE);
    assert_string_equal(parser.body.data, "abc");
    http_response_parser_reset(&parser);
    assert_int_equal(http_response_parser_feed(&parser, second, strlen(second), &used),
                     HTTP_PARSE_DONE);
    assert_int_equal(parser.status, 400);
    assert_string_equal(parser.body.data, "z");
    /* nothing more is taken after the end */
    assert_int_equal(http_response_parser_feed(&parser, "x", 1, &used), HTTP_PARSE_DONE);
    assert_int_equal(used, 0);
    http_response_parser_release(&parser);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(content_length_body),
        cmocka_unit_test(stops_at_the_end_of_the_body),
        cmocka_unit_test(chunked_with_extensions_and_trailers),
        cmocka_unit_test(chunked_wins_over_content_length),
        cmocka_unit_test(body_delimited_by_the_close),
        cmocka_unit_test(connection_reuse_by_version_and_field),
        cmocka_unit_test(interim_answers_skipped),
        cmocka_unit_test(no_body_for_204_and_304),
        cmocka_unit_test(lenient_where_the_rfc_allows),
        cmocka_unit_test(retry_after_seconds_or_date),
        cmocka_unit_test(malformed_status_lines_refused),
        cmocka_unit_test(malformed_fields_refused),
        cmocka_unit_test(malformed_chunks_refused),
        cmocka_unit_test(cut_short_by_the_close),
        cmocka_unit_test(over_the_limit_refused_before_buffering),
        cmocka_unit_test(garbage_refused),
        cmocka_unit_test(reset_reads_the_next_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
