/* Webhook mode (webhook_ingress.h): the secret, recovery, the listener,
 * setWebhook with retries, then a wait for the stop that keeps the
 * watchdog fed and stands down when the instance lock is lost. */
#include "transport/telegram/webhook_ingress.h"

#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "base/core_keys.h"
#include "base/backoff.h"
#include "base/clock.h"
#include "config/config.h"
#include "config/config_webhook.h"
#include "plugin/host.h"
#include "instance/instance.h"
#include "base/lifecycle.h"
#include "base/listen_address.h"
#include "base/log.h"
#include "instance/notify.h"
#include "dispatch/pipeline.h"
#include "transport/telegram/telegram_api.h"
#include "transport/telegram/telegram_update.h"
#include "transport/telegram/webhook_secret.h"
#include "transport/telegram/webhook_server.h"
#include "transport/telegram/webhook_setup.h"

#define SEEN_PREFIX "webhook.seen."
/* Telegram keeps an update for 24 hours at most: an older record of it
 * is no retry (ids may be reused after a week without updates). */
#define SEEN_VALID_MS (24LL * 3600 * 1000)
/* Retries come soon and near the newest ids; records further away go. */
#define SEEN_WINDOW 10000
#define PRUNE_EVERY 256
#define CONNECTION_HEADROOM 8 /* above max_connections: the proxy's health checks */

struct ingress_state {
    const struct webhook_ingress *ingress;
    atomic_long accepted;
};

static void seen_key(int64_t update_id, char *out, size_t size)
{
    snprintf(out, size, SEEN_PREFIX "%020" PRId64, update_id < 0 ? 0 : update_id);
}

/* Keeps the records within SEEN_WINDOW ids of the newest (either side:
 * Telegram may renumber lower), so the store does not grow for ever. */
static void prune_seen(struct store *store, int64_t update_id)
{
    char from[64], to[64];
    seen_key(0, from, sizeof from);
    seen_key(update_id > SEEN_WINDOW ? update_id - SEEN_WINDOW : 0, to, sizeof to);
    store_delete_range(store, CORE_SPACE, from, to);
    if (update_id < INT64_MAX - SEEN_WINDOW - 1) {
        seen_key(update_id + SEEN_WINDOW + 1, from, sizeof from);
        store_delete_range(store, CORE_SPACE, from, SEEN_PREFIX "~");
    }
}

static int accept_update(void *context, const struct incoming_message *message)
{
    struct ingress_state *state = context;
    char key[64];
    seen_key(message->update_id, key, sizeof key);
    int64_t now = wall_ms();
    int result =
        pipeline_accept_once(state->ingress->pipeline, message, key, now, now - SEEN_VALID_MS);
    if (result == 0 && atomic_fetch_add(&state->accepted, 1) % PRUNE_EVERY == PRUNE_EVERY - 1)
        prune_seen(state->ingress->host->store, message->update_id);
    return result;
}

/* 0 set, EX_CONFIG refused for good, -1 stopped. */
static int register_webhook(const struct webhook_ingress *ingress, const char *secret)
{
    const struct config *config = ingress->host->config;
    int failures = 0;
    for (;;) {
        struct telegram_result result;
        webhook_setup_set(ingress->api, ingress->host->store, config, secret, &result);
        enum telegram_outcome outcome = result.outcome;
        int64_t retry_after_s = result.retry_after_s;
        char description[sizeof result.description];
        snprintf(description, sizeof description, "%s", result.description);
        telegram_result_release(&result);
        if (outcome == TELEGRAM_OK) {
            log_info("webhook: Telegram delivers updates to %s (setWebhook done%s)",
                     config->webhook_url, failures > 0 ? " after retries" : "");
            backoff_reset(ingress->backoff);
            return 0;
        }
        if (outcome == TELEGRAM_UNAUTHORIZED) {
            log_error("Telegram rejected the bot token (401 Unauthorized)");
            return EX_CONFIG;
        }
        if (outcome == TELEGRAM_REJECTED || outcome == TELEGRAM_MIGRATED ||
            outcome == TELEGRAM_CONFLICT_WEBHOOK || outcome == TELEGRAM_CONFLICT_POLLER) {
            log_error("webhook: Telegram refused setWebhook for [webhook] url %s (%s)",
                      config->webhook_url, description);
            return EX_CONFIG;
        }
        if (outcome == TELEGRAM_ABORTED || lifecycle_stop_requested())
            return -1;
        if (outcome == TELEGRAM_RETRY_AFTER) {
            if (notify_sleep(retry_after_s * 1000))
                return -1;
            continue;
        }
        if (failures++ == 0)
            log_warn("webhook: setWebhook failing (%s); retrying with backoff", description);
        if (notify_sleep(backoff_next_delay(ingress->backoff)))
            return -1;
    }
}

/* Hosts sharing a postgres store own the rows they take; each renews its
 * claim here and takes over those of a host that stopped (docs/webhook.md). */
static int shares_store(const struct webhook_ingress *ingress)
{
    return ingress->host->config->state_backend == STATE_BACKEND_POSTGRES;
}

/* 1 when this run must stand down: its claim lapsed (it stalled, or the
 * database was out of reach longer than lease_s) and other hosts may have
 * taken over rows it still holds in memory. */
static int take_over(const struct webhook_ingress *ingress, int *failing)
{
    int result = pipeline_take_over(ingress->pipeline);
    if (result == 1) {
        log_error("webhook: this host's claim on its rows lapsed (more than [state] lease_s "
                  "without renewal), so another host may handle them; stopping (exit %d) so "
                  "that the supervisor restarts it",
                  INSTANCE_EXIT_LOCK_LOST);
        return 1;
    }
    int failed = result != 0;
    if (failed && !*failing)
        log_warn("webhook: cannot renew this host's claim or take over a stopped host's rows "
                 "(the state store failed); retrying");
    else if (!failed && *failing)
        log_info("webhook: this host's claim is renewed again");
    *failing = failed;
    return 0;
}

static int serve_until_stopped(const struct webhook_ingress *ingress)
{
    const struct config *config = ingress->host->config;
    int64_t step_ms = config->lease_s > 0 ? config->lease_s * 1000LL / 4 : 1000;
    if (step_ms > 1000)
        step_ms = 1000;
    int failing = 0;
    while (!lifecycle_stop_requested()) {
        if (ingress->host->lock != NULL && !instance_still_held(ingress->host->lock))
            return INSTANCE_EXIT_LOCK_LOST;
        if (shares_store(ingress) && take_over(ingress, &failing))
            return INSTANCE_EXIT_LOCK_LOST;
        notify_sleep(step_ms);
    }
    return 0;
}

int webhook_ingress_run(const struct webhook_ingress *ingress)
{
    const struct config *config = ingress->host->config;
    char secret[WEBHOOK_SECRET_SIZE];
    if (webhook_secret_resolve(config, ingress->host->store, secret, sizeof secret) != 0)
        return 1;
    struct listen_address address;
    char problem[128], path[512];
    if (listen_address_parse(config->webhook_listen, &address, problem, sizeof problem) != 0) {
        log_error("webhook: [webhook] listen: %s", problem); /* config_load checked it */
        return EX_CONFIG;
    }
    config_webhook_path(config, path, sizeof path);
    /* our claim first, so that no other host takes over what we left;
     * what the last run left is handled before anything new is taken */
    if (shares_store(ingress) && pipeline_renew_claim(ingress->pipeline, 1) != 0)
        log_error("webhook: cannot renew this host's claim on its rows in the state store");
    if (pipeline_recover(ingress->pipeline) != 0)
        log_error("webhook: cannot read the inbox and outbox of the last run");
    struct ingress_state state = {.ingress = ingress};
    atomic_init(&state.accepted, 0);
    struct webhook_server_settings settings = {
        .address = &address,
        .listen_text = config->webhook_listen,
        .path = path,
        .secret = secret,
        .connections = (unsigned int)config->webhook_max_connections + CONNECTION_HEADROOM,
        .bot_user_id = ingress->bot_user_id,
        .parse_flags = config->handle_edited_messages ? TELEGRAM_PARSE_EDITS : 0,
        .accept = accept_update,
        .context = &state};
    struct webhook_server *server = webhook_server_start(&settings);
    if (server == NULL)
        return 1;
    int result = register_webhook(ingress, secret);
    if (result == 0)
        result = serve_until_stopped(ingress);
    webhook_server_stop(server);
    memset(secret, 0, sizeof secret);
    return result < 0 ? 0 : result;
}
