/* Counts Telegram call results into the metrics: getUpdates failures by
 * kind, sendMessage parts delivered and failures by kind. The kinds are
 * fixed words and status codes, never a description (which may quote
 * Telegram's text). */
#ifndef JARVIS_TELEGRAM_METRICS_H
#define JARVIS_TELEGRAM_METRICS_H

#include "transport/telegram/telegram_api.h"

void telegram_metrics_poll(const struct telegram_result *result);
void telegram_metrics_send(const struct telegram_result *result);

#endif
