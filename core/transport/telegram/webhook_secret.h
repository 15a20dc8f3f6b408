/* The webhook's secret_token: which one (configured, or generated once and
 * kept in the state store so that a restart, or another host sharing the
 * store, tells Telegram the same), and its comparison in constant time. */
#ifndef JARVIS_WEBHOOK_SECRET_H
#define JARVIS_WEBHOOK_SECRET_H

#include <stddef.h>

struct config;
struct store;

#define WEBHOOK_SECRET_SIZE 257 /* Telegram's 256 characters and the NUL */

/* [webhook] secret, else the stored one, else a new one (48 characters of
 * A-Z a-z 0-9 _ -, from getrandom) written to the store. 0 with out filled
 * and registered with the log's redaction; -1 (logged) when the store or
 * the random source fails. */
int webhook_secret_resolve(const struct config *config, struct store *store, char *out,
                           size_t size);

/* 1 when given equals expected. The time taken depends on given's length
 * only, never on where the first difference is. given may be NULL (0). */
int webhook_secret_matches(const char *expected, const char *given);

#endif
