/* The checks of [bot] mode = webhook and the [webhook] keys that need more
 * than one key or more than a type (the public URL is https, the secret is
 * what Telegram accepts, the listener address parses and is loopback unless
 * allowed), run once the whole file is read. */
#ifndef JARVIS_CONFIG_WEBHOOK_H
#define JARVIS_CONFIG_WEBHOOK_H

#include <stddef.h>

struct config;

/* Telegram's rule for secret_token: 1-256 of A-Z a-z 0-9 _ -. */
#define WEBHOOK_SECRET_MAX 256
int webhook_secret_is_valid(const char *secret);

/* Calls report once per problem with the section and key it concerns
 * (for the line) and one sentence that never quotes the secret. */
typedef void (*config_problem_fn)(void *context, const char *section, const char *key,
                                  const char *problem);
void config_webhook_check(const struct config *config, config_problem_fn report, void *context);

/* The path the listener serves: [webhook] path, else the path of url
 * ("/" when it has none). Written to out (cut to size). */
void config_webhook_path(const struct config *config, char *out, size_t size);

#endif
