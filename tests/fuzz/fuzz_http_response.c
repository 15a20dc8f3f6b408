/* libFuzzer target: the bytes a server (or anything on the path to it)
 * may send in answer to a Bot API call. Read whole and read in two pieces
 * split where the first byte says, with the connection's end after when
 * the second byte is odd: both readings agree, an answer is a final status
 * whose body fits the limit, and nothing past the input is used. */
#include "fuzz_common.h"
#include "base/http_response_parser.h"

#define FUZZ_BODY_LIMIT 4096u

struct reading {
    enum http_parse_result result;
    size_t used;
    int status;
    size_t body_length;
    int keep_alive;
};

static struct reading read_answer(const char *data, size_t size, size_t split, int eof,
                                  struct http_response_parser *parser)
{
    struct reading reading = {.result = HTTP_PARSE_MORE};
    size_t used = 0;
    reading.result = http_response_parser_feed(parser, data, split, &used);
    FUZZ_REQUIRE(used <= split);
    reading.used = used;
    if (reading.result == HTTP_PARSE_MORE) {
        FUZZ_REQUIRE(used == split);
        reading.result = http_response_parser_feed(parser, data + split, size - split, &used);
        FUZZ_REQUIRE(used <= size - split);
        reading.used += used;
    }
    if (reading.result == HTTP_PARSE_MORE && eof)
        reading.result = http_response_parser_end(parser);
    reading.status = parser->status;
    reading.body_length = parser->body.length;
    reading.keep_alive = parser->keep_alive;
    return reading;
}

static void check_answer(const struct reading *reading, const struct http_response_parser *parser)
{
    if (reading->result == HTTP_PARSE_ERROR) {
        FUZZ_REQUIRE(parser->error != NULL && parser->error[0] != '\0');
        return;
    }
    if (reading->result != HTTP_PARSE_DONE)
        return;
    FUZZ_REQUIRE(reading->status >= 200 && reading->status <= 599);
    FUZZ_REQUIRE(reading->body_length <= FUZZ_BODY_LIMIT);
    if (reading->status == 204 || reading->status == 304)
        FUZZ_REQUIRE(reading->body_length == 0);
    if (reading->body_length > 0)
        FUZZ_REQUIRE(parser->body.data[reading->body_length] == '\0');
    FUZZ_REQUIRE(parser->retry_after_s >= -1 && parser->retry_after_s <= 86400);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet_log();
    if (size < 2)
        return 0;
    size_t split_seed = data[0];
    int eof = data[1] & 1;
    const char *stream = (const char *)data + 2;
    size_t length = size - 2;
    size_t split = length > 0 ? split_seed % (length + 1) : 0;

    struct http_response_parser whole_parser, split_parser;
    http_response_parser_init(&whole_parser, FUZZ_BODY_LIMIT);
    http_response_parser_init(&split_parser, FUZZ_BODY_LIMIT);
    struct reading whole = read_answer(stream, length, length, eof, &whole_parser);
    struct reading pieces = read_answer(stream, length, split, eof, &split_parser);
    check_answer(&whole, &whole_parser);
    check_answer(&pieces, &split_parser);
    FUZZ_REQUIRE(whole.result == pieces.result);
    if (whole.result == HTTP_PARSE_DONE) {
        FUZZ_REQUIRE(whole.used == pieces.used && whole.status == pieces.status);
        FUZZ_REQUIRE(whole.keep_alive == pieces.keep_alive);
        FUZZ_REQUIRE(whole.body_length == pieces.body_length);
        FUZZ_REQUIRE(whole.body_length == 0 ||
                     memcmp(whole_parser.body.data, split_parser.body.data, whole.body_length) ==
                         0);
    }
    http_response_parser_release(&whole_parser);
    http_response_parser_release(&split_parser);
    return 0;
}
