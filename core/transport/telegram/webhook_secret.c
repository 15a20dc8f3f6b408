/* The webhook secret: resolved at start (config, store or getrandom) and
 * checked on every POST without an early exit (webhook_secret.h). */
#include "transport/telegram/webhook_secret.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "config/config.h"
#include "config/config_webhook.h"
#include "base/core_keys.h"
#include "base/log.h"
#include "state/store.h"

#define SECRET_KEY "webhook.secret"
#define GENERATED_LENGTH 48

/* 64 symbols: a random byte's low 6 bits pick one without bias. */
static const char secret_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

int webhook_secret_matches(const char *expected, const char *given)
{
    if (expected == NULL || given == NULL)
        return 0;
    size_t expected_length = strlen(expected);
    size_t given_length = strlen(given);
    volatile unsigned char difference = expected_length != given_length;
    for (size_t i = 0; i < given_length; i++) {
        unsigned char want = i < expected_length ? (unsigned char)expected[i] : 0;
        difference |= (unsigned char)(want ^ (unsigned char)given[i]);
    }
    return expected_length > 0 && difference == 0;
}

static int generate(char *out, size_t size)
{
    unsigned char random_bytes[GENERATED_LENGTH];
    size_t filled = 0;
    while (filled < sizeof random_bytes) {
        ssize_t got = getrandom(random_bytes + filled, sizeof random_bytes - filled, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        filled += (size_t)got;
    }
    if (size <= GENERATED_LENGTH)
        return -1;
    for (size_t i = 0; i < GENERATED_LENGTH; i++)
        out[i] = secret_alphabet[random_bytes[i] & 63];
    out[GENERATED_LENGTH] = '\0';
    memset(random_bytes, 0, sizeof random_bytes);
    return 0;
}

static int load_stored(struct store *store, char *out, size_t size)
{
    char *value = NULL;
    size_t length = 0;
    int found = store_get(store, CORE_SPACE, SECRET_KEY, &value, &length);
    if (found != 0)
        return found; /* 1 absent, -1 error */
    int usable = length < size && webhook_secret_is_valid(value);
    if (usable)
        memcpy(out, value, length + 1);
    memset(value, 0, length);
    free(value);
    if (!usable)
        log_warn("webhook: the secret kept in the state store is unusable; generating a new one");
    return usable ? 0 : 1;
}

int webhook_secret_resolve(const struct config *config, struct store *store, char *out, size_t size)
{
    if (config->webhook_secret[0] != '\0') {
        snprintf(out, size, "%s", config->webhook_secret);
        log_add_secret(out);
        return 0;
    }
    int stored = load_stored(store, out, size);
    if (stored == 0) {
        log_add_secret(out);
        return 0;
    }
    if (stored < 0) {
        log_error("webhook: cannot read the generated secret from the state store");
        return -1;
    }
    if (generate(out, size) != 0) {
        log_error("webhook: cannot generate a secret (getrandom failed: %s)", strerror(errno));
        return -1;
    }
    log_add_secret(out);
    if (store_set(store, CORE_SPACE, SECRET_KEY, out, strlen(out)) != 0) {
        log_error("webhook: cannot keep the generated secret in the state store");
        return -1;
    }
    log_info("webhook: generated a secret_token and kept it in the state store ([webhook] "
             "secret is empty)");
    return 0;
}
