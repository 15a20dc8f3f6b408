/* The webhook request's verdicts (webhook_request.h): pure functions of the
 * request, the served path and the secret. */
#include "transport/telegram/webhook_request.h"

#include <stdio.h>
#include <string.h>

#include "transport/telegram/webhook_secret.h"

unsigned int webhook_verdict_status(enum webhook_verdict verdict)
{
    switch (verdict) {
        case WEBHOOK_TAKE:
        case WEBHOOK_SKIP: return 200;
        case WEBHOOK_MALFORMED: return 400;
        case WEBHOOK_NO_SECRET: return 401;
        case WEBHOOK_WRONG_SECRET: return 403;
        case WEBHOOK_NOT_FOUND: return 404;
        case WEBHOOK_WRONG_METHOD: return 405;
        case WEBHOOK_TOO_LARGE: return 413;
    }
    return 500;
}

enum webhook_verdict webhook_request_check(const char *method, const char *path,
                                           const char *secret_header, const char *served_path,
                                           const char *secret)
{
    if (path == NULL || served_path == NULL || strcmp(path, served_path) != 0)
        return WEBHOOK_NOT_FOUND;
    if (method == NULL || strcmp(method, "POST") != 0)
        return WEBHOOK_WRONG_METHOD;
    if (secret_header == NULL)
        return WEBHOOK_NO_SECRET;
    if (!webhook_secret_matches(secret, secret_header))
        return WEBHOOK_WRONG_SECRET;
    return WEBHOOK_TAKE;
}

static enum webhook_verdict malformed(struct webhook_update *update, const char *why)
{
    update->parsed.update_id = -1;
    update->parsed.kind = UPDATE_BAD;
    snprintf(update->parsed.problem, sizeof update->parsed.problem, "%s", why);
    return WEBHOOK_MALFORMED;
}

enum webhook_verdict webhook_request_decode(const char *body, size_t length, int64_t bot_user_id,
                                            unsigned parse_flags, struct webhook_update *update)
{
    memset(update, 0, sizeof *update);
    if (body == NULL || length == 0)
        return malformed(update, "empty body");
    if (length > WEBHOOK_BODY_LIMIT)
        return malformed(update, "body over the size limit");
    update->root = telegram_decode_update_leniently(body, length);
    if (update->root == NULL)
        return malformed(update, "the body is not one JSON object");
    telegram_parse_update_with(update->root, bot_user_id, parse_flags, &update->parsed);
    if (update->parsed.update_id < 0) {
        char why[sizeof update->parsed.problem];
        snprintf(why, sizeof why, "%s", update->parsed.problem);
        return malformed(update, why);
    }
    return update->parsed.kind == UPDATE_TEXT ? WEBHOOK_TAKE : WEBHOOK_SKIP;
}

void webhook_update_release(struct webhook_update *update)
{
    if (update == NULL)
        return;
    json_decref(update->root);
    update->root = NULL;
}
