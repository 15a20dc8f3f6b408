/* Telegram results as metric labels: "429", "conflict", "401", "5xx",
 * "timeout", "network", "malformed", or the 4xx status itself (a bounded
 * set: 400..499). OK and aborted calls are not errors. */
#include "transport/telegram/telegram_metrics.h"

#include <stdio.h>

#include "base/metrics.h"

/* NULL for a result that is no error. */
static const char *error_kind(const struct telegram_result *result, char *buffer, size_t size)
{
    long code = result->error_code;
    switch (result->outcome) {
        case TELEGRAM_OK:
        case TELEGRAM_ABORTED: return NULL;
        case TELEGRAM_RETRY_AFTER: return "429";
        case TELEGRAM_UNAUTHORIZED: return "401";
        case TELEGRAM_CONFLICT_WEBHOOK:
        case TELEGRAM_CONFLICT_POLLER: return "conflict";
        case TELEGRAM_TRANSIENT:
            if (code >= 500 && code <= 599)
                return "5xx";
            if (code == 0)
                return result->timed_out ? "timeout" : "network";
            return "malformed";
        case TELEGRAM_MIGRATED:
        case TELEGRAM_REJECTED: break;
    }
    if (code < 400 || code > 499)
        return "rejected";
    snprintf(buffer, size, "%ld", code);
    return buffer;
}

void telegram_metrics_poll(const struct telegram_result *result)
{
    char buffer[16];
    const char *kind = error_kind(result, buffer, sizeof buffer);
    if (kind != NULL)
        metrics_count(METRIC_POLL_ERRORS, kind, NULL);
}

void telegram_metrics_send(const struct telegram_result *result)
{
    char buffer[16];
    if (result->outcome == TELEGRAM_OK) {
        metrics_count(METRIC_MESSAGES_SENT, NULL, NULL);
        return;
    }
    const char *kind = error_kind(result, buffer, sizeof buffer);
    if (kind != NULL)
        metrics_count(METRIC_SEND_ERRORS, kind, NULL);
}
