/* The sentiment plugin: descriptor, init and shutdown. It scores text with a
 * VADER-family lexicon scorer, watches chats for token mentions, answers
 * /sentiment, sends periodic reports and provides sentiment.score_text. */
#include <jarvis/plugin.h>
#include <jarvis/svc/token_registry.h>
#include <jarvis/svc/sentiment_score.h>

#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "report.h"
#include "service.h"
#include "settings.h"
#include "state.h"
#include "subscribe.h"
#include "subscribe_keyboard.h"

/* Last: it only looks, never consumes, and so never sees a message that a
 * plugin answered (dexter_finance's questions are not chat opinions). */
#define WATCH_PRIORITY -100
#define PRUNE_FIRST_DELAY_MS 2000

static sentiment_state plugin_state;

static int register_commands(sentiment_state *state, char *error, size_t error_size)
{
    static const struct {
        const char *name;
        const char *usage;
        const char *help;
        jv_command_fn handler;
        uint32_t flags;
    } commands[] = {
        {"sentiment", "/sentiment <text> | /sentiment <SYMBOL>",
         "score text, or show what chats say about a token (e.g. /sentiment SOL)",
         sentiment_command, 0},
        {"subscribe", "/subscribe",
         "get a periodic token sentiment report in this chat; its buttons pick the tokens and "
         "how often",
         sentiment_subscribe_command, JV_COMMAND_GROUP_ADMIN},
        {"unsubscribe", "/unsubscribe", "stop the periodic sentiment report in this chat",
         sentiment_unsubscribe_command, JV_COMMAND_GROUP_ADMIN},
    };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        jv_command_spec spec = {.name = commands[i].name,
                                .usage = commands[i].usage,
                                .help = commands[i].help,
                                .flags = commands[i].flags,
                                .handler = commands[i].handler,
                                .user_data = state};
        int result = JV_REGISTER_COMMAND(state->api, state->self, &spec);
        if (result != JV_OK) {
            snprintf(error, error_size, "cannot register /%s: %s", commands[i].name,
                     state->api->strerror(result));
            return result;
        }
    }
    return JV_OK;
}

static int register_job(sentiment_state *state, const char *name, int64_t interval_ms,
                        int64_t first_delay_ms, jv_job_fn run, char *error, size_t error_size)
{
    jv_job_spec spec = {.name = name,
                        .interval_ms = interval_ms,
                        .initial_delay_ms = first_delay_ms,
                        .run = run,
                        .user_data = state};
    int result = JV_REGISTER_JOB(state->api, state->self, &spec);
    if (result != JV_OK)
        snprintf(error, error_size, "cannot register job %s: %s", name,
                 state->api->strerror(result));
    return result;
}

/* JV_OK, or the result with "cannot register <what>: <reason>" in error. */
static int registered(sentiment_state *state, int result, const char *what, char *error,
                      size_t error_size)
{
    if (result != JV_OK)
        snprintf(error, error_size, "cannot register %s: %s", what, state->api->strerror(result));
    return result;
}

static int register_handlers(sentiment_state *state, char *error, size_t error_size)
{
    jv_message_handler_spec watcher = {
        .priority = WATCH_PRIORITY, .handler = sentiment_watch_message, .user_data = state};
    int result = registered(state, JV_REGISTER_MESSAGE_HANDLER(state->api, state->self, &watcher),
                            "the chat watcher", error, error_size);
    if (result != JV_OK)
        return result;
    /* a press changes the chat's subscription: the same rule as /subscribe */
    jv_callback_spec press = {.prefix = SENTIMENT_CALLBACK_PREFIX,
                              .flags = JV_COMMAND_GROUP_ADMIN,
                              .handler = sentiment_subscribe_press,
                              .user_data = state};
    return registered(state, JV_REGISTER_CALLBACK(state->api, state->self, &press),
                      "the subscription buttons", error, error_size);
}

static int register_everything(sentiment_state *state, char *error, size_t error_size)
{
    int result = register_commands(state, error, error_size);
    if (result == JV_OK)
        result = register_handlers(state, error, error_size);
    if (result != JV_OK)
        return result;
    result = register_job(state, "report", state->report_check_ms, 0, sentiment_report_job, error,
                          error_size);
    if (result == JV_OK)
        result = register_job(state, "prune", state->prune_interval_ms, PRUNE_FIRST_DELAY_MS,
                              sentiment_prune_job, error, error_size);
    if (result != JV_OK)
        return result;
    result =
        state->api->provide_service(state->self, JV_SVC_SENTIMENT_SCORE,
                                    JV_SVC_SENTIMENT_SCORE_VERSION, sentiment_service_vtable());
    if (result != JV_OK)
        snprintf(error, error_size, "cannot provide %s: %s", JV_SVC_SENTIMENT_SCORE,
                 state->api->strerror(result));
    return result;
}

static void release_state(sentiment_state *state)
{
    sentiment_lexicon_free(state->lexicon);
    state->lexicon = NULL;
    pthread_mutex_destroy(&state->lock);
}

static int sentiment_init(jv_plugin *self, const jv_host_api *api, char *error, size_t error_size)
{
    sentiment_state *state = &plugin_state;
    memset(state, 0, sizeof *state);
    state->self = self;
    state->api = api;
    state->started_ms = api->now_ms();
    pthread_mutex_init(&state->lock, NULL);
    int result = sentiment_settings_load(state, error, error_size);
    if (result == JV_OK)
        result = register_everything(state, error, error_size);
    if (result != JV_OK) {
        release_state(state);
        return result;
    }
    if (state->retention_ms < 2 * state->window_ms)
        api->log(self, JV_LOG_WARN,
                 "[sentiment] retention_s is shorter than two windows: trends will lack data");
    sentiment_service_open(state);
    api->log(self, JV_LOG_INFO, "lexicon %s: %zu entries; watching %zu token symbols",
             state->lexicon_path, sentiment_lexicon_size(state->lexicon), state->tokens.count);
    return JV_OK;
}

/* Tokens another plugin's registry knows are tracked too, so a token known
 * to one plugin is known to all; without the registry the built-in list
 * (the registry's default symbols) stands. Runs before any dispatch. */
static void adopt_registry_tokens(sentiment_state *state)
{
    const jv_token_registry_api *registry = state->api->acquire_service(
        state->self, JV_SVC_TOKEN_REGISTRY, JV_SVC_TOKEN_REGISTRY_VERSION);
    if (registry == NULL) {
        state->api->log(state->self, JV_LOG_INFO,
                        "token.registry not available: watching the built-in token list");
        return;
    }
    size_t added = sentiment_tokens_add_registry(&state->tokens, registry);
    state->api->release_service(state->self, JV_SVC_TOKEN_REGISTRY);
    if (added > 0)
        state->api->log(state->self, JV_LOG_INFO,
                        "token.registry: now watching %zu token symbols (%zu added)",
                        state->tokens.count, added);
}

static int sentiment_post_init(jv_plugin *self)
{
    adopt_registry_tokens(&plugin_state);
    if (sentiment_state_weight(&plugin_state) == NULL)
        plugin_state.api->log(self, JV_LOG_INFO,
                              "sentiment.weight not available (grok_weighting not loaded): "
                              "token sentiment shows the chat score alone");
    return JV_OK;
}

static void sentiment_shutdown(jv_plugin *self)
{
    (void)self;
    sentiment_service_close();
    sentiment_state_release_weight(&plugin_state);
    release_state(&plugin_state);
}

JV_PLUGIN_DEFINE("sentiment", "1.0.0",
                 "VADER-family chat sentiment with crypto words; token reports",
                 JV_PLUGIN_CONCURRENT, sentiment_init, sentiment_post_init, sentiment_shutdown);
