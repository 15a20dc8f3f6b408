/* What a POST to the webhook listener means, decided without I/O (so the
 * fuzzer reaches it): the request line and secret header first, before any
 * body is read, then the body as one Telegram Update. */
#ifndef JARVIS_WEBHOOK_REQUEST_H
#define JARVIS_WEBHOOK_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "transport/telegram/telegram_update.h"

#define WEBHOOK_SECRET_HEADER "X-Telegram-Bot-Api-Secret-Token"
/* Telegram's largest update (a 4096-character text with entities, a
 * quoted reply, a keyboard) is far below this. */
#define WEBHOOK_BODY_LIMIT (1024 * 1024)

enum webhook_verdict {
    WEBHOOK_TAKE,         /* a text update (or the request may go on to its body) */
    WEBHOOK_SKIP,         /* an update of a kind not handled, or unreadable but for its id: 200 */
    WEBHOOK_MALFORMED,    /* 400: the body is not one update with an update_id */
    WEBHOOK_NO_SECRET,    /* 401: the secret header is missing */
    WEBHOOK_WRONG_SECRET, /* 403: the secret header does not match */
    WEBHOOK_NOT_FOUND,    /* 404: another path */
    WEBHOOK_WRONG_METHOD, /* 405: not POST */
    WEBHOOK_TOO_LARGE     /* 413: the body is over WEBHOOK_BODY_LIMIT */
};

/* The HTTP status answered for a verdict. */
unsigned int webhook_verdict_status(enum webhook_verdict verdict);

/* Before the body: path (without the query), method, then the secret
 * (header value or NULL). WEBHOOK_TAKE: read the body. */
enum webhook_verdict webhook_request_check(const char *method, const char *path,
                                           const char *secret_header, const char *served_path,
                                           const char *secret);

struct webhook_update {
    json_t *root;                /* owned; the message's strings point into it */
    struct parsed_update parsed; /* update_id -1 when MALFORMED */
};

/* The body: TAKE (parsed.kind UPDATE_TEXT), SKIP (ignored or bad: parsed
 * says which) or MALFORMED (parsed.problem says why). Release it after,
 * whatever the verdict. */
enum webhook_verdict webhook_request_decode(const char *body, size_t length, int64_t bot_user_id,
                                            unsigned parse_flags, struct webhook_update *update);
void webhook_update_release(struct webhook_update *update);

#endif
