/* libFuzzer target: a request to the webhook listener as anyone could send
 * it. The input's first line is the method, the second the path, the third
 * the secret header ("-" for none), the rest the body. The request check,
 * then the body decoded as one update: no crash, and the verdicts are
 * coherent (only the right secret on the right path passes; a TAKE is a
 * text update with its id, a refusal names why). */
#include "fuzz_common.h"
#include "transport/telegram/webhook_request.h"
#include "transport/telegram/webhook_secret.h"

#define FUZZ_SECRET "fuzz-Secret_0123456789"
#define FUZZ_PATH "/hook"

static const char *next_line(char **cursor)
{
    char *line = *cursor;
    if (line == NULL)
        return NULL;
    char *end = strchr(line, '\n');
    if (end == NULL) {
        *cursor = NULL;
        return line;
    }
    *end = '\0';
    *cursor = end + 1;
    return line;
}

static void check_head(const char *method, const char *path, const char *secret)
{
    enum webhook_verdict verdict =
        webhook_request_check(method, path, secret, FUZZ_PATH, FUZZ_SECRET);
    int right = method != NULL && strcmp(method, "POST") == 0 && path != NULL &&
                strcmp(path, FUZZ_PATH) == 0 && secret != NULL &&
                strcmp(secret, FUZZ_SECRET) == 0;
    FUZZ_REQUIRE((verdict == WEBHOOK_TAKE) == right);
    FUZZ_REQUIRE(webhook_secret_matches(FUZZ_SECRET, secret) ==
                 (secret != NULL && strcmp(secret, FUZZ_SECRET) == 0));
    unsigned int status = webhook_verdict_status(verdict);
    FUZZ_REQUIRE(status == 200 || (status >= 400 && status < 500));
}

static void check_body(const char *body, size_t length)
{
    struct webhook_update update;
    enum webhook_verdict verdict = webhook_request_decode(body, length, 777000111, 0, &update);
    const struct parsed_update *parsed = &update.parsed;
    switch (verdict) {
    case WEBHOOK_TAKE:
        FUZZ_REQUIRE(parsed->kind == UPDATE_TEXT && parsed->update_id >= 0);
        FUZZ_REQUIRE(parsed->message.update_id == parsed->update_id);
        FUZZ_REQUIRE(parsed->message.text != NULL);
        break;
    case WEBHOOK_SKIP:
        FUZZ_REQUIRE(parsed->update_id >= 0 && parsed->kind != UPDATE_TEXT);
        break;
    case WEBHOOK_MALFORMED:
        FUZZ_REQUIRE(parsed->update_id == -1 && parsed->problem[0] != '\0');
        FUZZ_REQUIRE(memchr(parsed->problem, '\0', sizeof parsed->problem) != NULL);
        FUZZ_REQUIRE(strchr(parsed->problem, '\n') == NULL);
        break;
    default:
        FUZZ_REQUIRE(!"a body verdict outside TAKE, SKIP, MALFORMED");
    }
    webhook_update_release(&update);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet_log();
    char *text = fuzz_text(data, size);
    char *cursor = text;
    const char *method = next_line(&cursor);
    const char *path = next_line(&cursor);
    const char *secret = next_line(&cursor);
    if (secret != NULL && strcmp(secret, "-") == 0)
        secret = NULL;
    check_head(method, path, secret);
    /* the body as bytes: it may hold NULs the lines above could not */
    size_t offset = cursor != NULL ? (size_t)(cursor - text) : size;
    check_body((const char *)data + offset, size - offset);
    /* the whole input as a body too: every byte reaches the decoder */
    check_body((const char *)data, size);
    free(text);
    return 0;
}
