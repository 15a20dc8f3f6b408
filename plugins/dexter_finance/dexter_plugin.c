/* dexter_finance: the plugin descriptor, configuration, /ask and the handler
 * for plain questions addressed to the bot. The work happens in intent.c
 * (reading the question), market.c (data), indicators.c, verdict.c and
 * answer.c; this file wires them to the host and the sentiment services. */
#include <jarvis/plugin.h>
#include <jarvis/svc/sentiment_score.h>
#include <jarvis/svc/sentiment_weight.h>

#include <dlfcn.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "answer.h"
#include "chart_answer.h"
#include "follow_up.h"
#include "intent.h"
#include "market.h"
#include "outlook_buttons.h"
#include "registry.h"
#include "text.h"

#define DEFAULT_BASE_URL "https://api.coingecko.com/api/v3"
/* CoinGecko rejects a pro key on the demo root (errors 10010/10011). */
#define DEFAULT_PRO_BASE_URL "https://pro-api.coingecko.com/api/v3"
#define DATA_FILE_NEXT_TO_SO "dexter_finance/sample_market.json"
#define PATH_MAX_LENGTH 4096

typedef struct dexter_state {
    jv_plugin *self;
    const jv_host_api *api;
    dexter_token_map tokens;
    jv_token_registry_api registry; /* the token.registry vtable over tokens */
    dexter_market *market;
    dexter_analysis_params params;
    int narrative;
    dexter_follow_ups *follow_ups; /* the last question per chat */

    pthread_mutex_t services_lock; /* guards the two service pointers */
    const jv_sentiment_weight_api *weight;
    const jv_sentiment_score_api *score;
} dexter_state;

static dexter_state *plugin_state;

/* ---- configuration ---------------------------------------------------- */

/* The directory of this .so + "/dexter_finance/sample_market.json". */
static void default_data_file(char *out, size_t out_length)
{
    Dl_info info;
    memset(&info, 0, sizeof info);
    if (!dladdr((void *)default_data_file, &info) || !info.dli_fname) {
        snprintf(out, out_length, "plugins/%s", DATA_FILE_NEXT_TO_SO);
        return;
    }
    /* The host may load us as /proc/self/fd/N (it keeps that fd open):
     * realpath follows the link to the real file. */
    char *resolved = realpath(info.dli_fname, NULL);
    const char *path = resolved ? resolved : info.dli_fname;
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, out_length, "%s", DATA_FILE_NEXT_TO_SO);
    else
        snprintf(out, out_length, "%.*s/%s", (int)(slash - path), path, DATA_FILE_NEXT_TO_SO);
    free(resolved);
}

static int read_provider(dexter_state *state, dexter_provider *provider, char *err,
                         size_t err_length)
{
    const char *name = state->api->config_get(state->self, "provider", "file");
    if (strcasecmp(name, "file") == 0) {
        *provider = DEXTER_PROVIDER_FILE;
        return 0;
    }
    if (strcasecmp(name, "coingecko") == 0) {
        *provider = DEXTER_PROVIDER_COINGECKO;
        return 0;
    }
    snprintf(err, err_length, "[dexter_finance] provider: \"%.40s\" is not file or coingecko",
             name);
    return JV_E_INVAL;
}

static int read_analysis(dexter_state *state, char *err, size_t err_length)
{
    const jv_host_api *api = state->api;
    int64_t fast = api->config_get_int(state->self, "sma_fast", 7);
    int64_t slow = api->config_get_int(state->self, "sma_slow", 25);
    if (fast < 1 || slow < 2 || fast >= slow || slow > 500) {
        snprintf(err, err_length,
                 "[dexter_finance] sma_fast/sma_slow: need 1 <= fast < slow <= 500, got %lld/%lld",
                 (long long)fast, (long long)slow);
        return JV_E_INVAL;
    }
    const char *basis = api->config_get(state->self, "indicator_basis", "daily");
    if (strcasecmp(basis, "daily") != 0 && strcasecmp(basis, "points") != 0) {
        snprintf(err, err_length,
                 "[dexter_finance] indicator_basis: \"%.20s\" is not daily or points", basis);
        return JV_E_INVAL;
    }
    state->params.sma_fast = (size_t)fast;
    state->params.sma_slow = (size_t)slow;
    state->params.rsi_period = 14;
    state->params.daily_basis = strcasecmp(basis, "daily") == 0;
    state->narrative = api->config_get_bool(state->self, "narrative", 1);
    int64_t follow_up_s = api->config_get_int(state->self, "follow_up_s", 600);
    if (follow_up_s < 0 || follow_up_s > 86400) {
        snprintf(err, err_length, "[dexter_finance] follow_up_s: need 0 .. 86400, got %lld",
                 (long long)follow_up_s);
        return JV_E_INVAL;
    }
    state->follow_ups = dexter_follow_ups_create(follow_up_s * 1000);
    if (!state->follow_ups) {
        snprintf(err, err_length, "[dexter_finance] out of memory");
        return JV_E_NOMEM;
    }
    return JV_OK;
}

static int read_tokens(dexter_state *state, char *err, size_t err_length)
{
    if (dexter_token_map_add(&state->tokens, dexter_default_tokens, err, err_length) != 0)
        return JV_E_INTERNAL;
    const char *configured = state->api->config_get(state->self, "tokens", "");
    char reason[200];
    if (dexter_token_map_add(&state->tokens, configured, reason, sizeof reason) != 0) {
        snprintf(err, err_length, "[dexter_finance] %s", reason);
        return JV_E_INVAL;
    }
    return JV_OK;
}

static int create_market(dexter_state *state, char *err, size_t err_length)
{
    const jv_host_api *api = state->api;
    dexter_market_config config;
    memset(&config, 0, sizeof config);
    int rc = read_provider(state, &config.provider, err, err_length);
    if (rc != JV_OK)
        return rc;
    const char *plan = api->config_get(state->self, "api_plan", "demo");
    if (strcasecmp(plan, "demo") != 0 && strcasecmp(plan, "pro") != 0) {
        snprintf(err, err_length, "[dexter_finance] api_plan: \"%.20s\" is not demo or pro", plan);
        return JV_E_INVAL;
    }
    char data_file[PATH_MAX_LENGTH];
    default_data_file(data_file, sizeof data_file);
    if (access(data_file, F_OK) != 0)
        data_file[0] = '\0'; /* "": the sample compiled into this .so */
    config.pro_plan = strcasecmp(plan, "pro") == 0;
    config.base_url = api->config_get(state->self, "base_url",
                                      config.pro_plan ? DEFAULT_PRO_BASE_URL : DEFAULT_BASE_URL);
    config.api_key = api->config_get(state->self, "api_key", "");
    config.data_file = api->config_get(state->self, "data_file", data_file);
    config.cache_ttl_s = api->config_get_int(state->self, "cache_ttl", 120);
    config.timeout_ms = api->config_get_int(state->self, "timeout_ms", 10000);
    config.default_retry_after_s = api->config_get_int(state->self, "retry_after_default", 60);
    if (config.cache_ttl_s < 0 || config.timeout_ms < 100) {
        snprintf(err, err_length, "[dexter_finance] cache_ttl must be >= 0 and timeout_ms >= 100");
        return JV_E_INVAL;
    }
    if (config.data_file[0] == '\0')
        config.data_file = data_file;
    state->market = dexter_market_create(&config, state->self, api);
    if (!state->market) {
        snprintf(err, err_length, "[dexter_finance] out of memory");
        return JV_E_NOMEM;
    }
    api->log(state->self, JV_LOG_INFO, "market data: %s%s%s",
             config.provider == DEXTER_PROVIDER_FILE ? "file " : "coingecko at ",
             config.provider != DEXTER_PROVIDER_FILE ? config.base_url
             : config.data_file[0]                   ? config.data_file
                                                     : "(built-in sample)",
             config.api_key[0] ? " (with API key)" : "");
    const char *problem = dexter_market_problem(state->market);
    if (problem)
        api->log(state->self, JV_LOG_WARN, "%s; every answer will say market data is unavailable",
                 problem);
    return JV_OK;
}

/* ---- services --------------------------------------------------------- */

/* Services are acquired on first use and kept until shutdown: a provider
 * loaded after us, or not at all, is fine. */
static void current_services(dexter_state *state, dexter_answer_context *context)
{
    pthread_mutex_lock(&state->services_lock);
    if (!state->weight) {
        const jv_sentiment_weight_api *weight = state->api->acquire_service(
            state->self, JV_SVC_SENTIMENT_WEIGHT, JV_SVC_SENTIMENT_WEIGHT_VERSION);
        /* narrate2 is the last member this plugin calls */
        if (weight && !JV_STRUCT_HAS(weight, jv_sentiment_weight_api, narrate2)) {
            state->api->release_service(state->self, JV_SVC_SENTIMENT_WEIGHT);
            weight = NULL;
        }
        state->weight = weight;
    }
    if (!state->score) {
        const jv_sentiment_score_api *score = state->api->acquire_service(
            state->self, JV_SVC_SENTIMENT_SCORE, JV_SVC_SENTIMENT_SCORE_VERSION);
        if (score && !JV_STRUCT_HAS(score, jv_sentiment_score_api, token_snapshot2)) {
            state->api->release_service(state->self, JV_SVC_SENTIMENT_SCORE);
            score = NULL;
        }
        state->score = score;
    }
    context->weight = state->weight;
    context->score = state->score;
    pthread_mutex_unlock(&state->services_lock);
}

static void release_services(dexter_state *state)
{
    if (state->weight)
        state->api->release_service(state->self, JV_SVC_SENTIMENT_WEIGHT);
    if (state->score)
        state->api->release_service(state->self, JV_SVC_SENTIMENT_SCORE);
    state->weight = NULL;
    state->score = NULL;
}

/* ---- handlers --------------------------------------------------------- */

static void log_warning(void *user, const char *format, ...)
{
    dexter_state *state = user;
    char line[400];
    va_list args;
    va_start(args, format);
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    state->api->log(state->self, JV_LOG_WARN, "%s", line);
}

static void make_context(dexter_state *state, dexter_answer_context *context)
{
    memset(context, 0, sizeof *context);
    context->log = log_warning;
    context->log_user = state;
    context->market = state->market;
    context->tokens = &state->tokens;
    context->params = state->params;
    context->narrative = state->narrative;
    current_services(state, context);
}

static int send_reply(dexter_state *state, const jv_message *message, char *text)
{
    if (!text) {
        state->api->log(state->self, JV_LOG_ERROR,
                        "out of memory composing an answer (update %lld)",
                        (long long)message->update_id);
        return JV_E_NOMEM;
    }
    int rc = state->api->reply(message, text);
    free(text);
    if (rc < 0)
        state->api->log(state->self, JV_LOG_WARN, "replying to update %lld failed: %s",
                        (long long)message->update_id, state->api->strerror(rc));
    return rc < 0 ? rc : JV_HANDLED;
}

/* Buttons, edits and pictures came with ABI 1.2; an older host gets plain
 * text. The #if keeps this file building against the 1.1 header; a host
 * whose table has the member but not the function yet counts as older. */
static int host_sends_rich(const jv_host_api *api)
{
#if JV_ABI_MINOR >= 2
    return JV_API_HAS(api, answer_callback) && api->reply_with && api->edit_message &&
           api->answer_callback;
#else
    (void)api;
    return 0;
#endif
}

/* The [Chart] button charts the window the answer shows; 30 days (the
 * outlook's own) when the question named none of the buttons' windows. */
static const char *chart_period_of(const dexter_intent *intent)
{
    if (intent->period_explicit && intent->period_hours == 24)
        return "24h";
    if (intent->period_explicit && intent->period_hours == 24 * 7)
        return "7d";
    return "30d";
}

#if JV_ABI_MINOR >= 2
static int send_outlook(dexter_state *state, const jv_message *message, const dexter_intent *intent,
                        char *text)
{
    if (!text)
        return send_reply(state, message, text);
    dexter_outlook_buttons keyboard;
    dexter_outlook_buttons_build(intent->tokens[0], chart_period_of(intent), &keyboard);
    jv_outgoing content = {.struct_size = sizeof content,
                           .text = text,
                           .buttons = keyboard.buttons,
                           .button_count = DEXTER_OUTLOOK_BUTTON_COUNT};
    int rc = state->api->reply_with(message, &content, NULL);
    free(text);
    if (rc < 0)
        state->api->log(state->self, JV_LOG_WARN, "replying to update %lld failed: %s",
                        (long long)message->update_id, state->api->strerror(rc));
    return rc < 0 ? rc : JV_HANDLED;
}
#else
static int send_outlook(dexter_state *state, const jv_message *message, const dexter_intent *intent,
                        char *text)
{
    (void)intent;
    return send_reply(state, message, text);
}
#endif

/* Reads the question and completes a follow-up ("and ETH?", "what about
 * its volume") from the chat's last question. */
static dexter_parse_status read_question(dexter_state *state, const jv_message *message,
                                         const char *text, dexter_intent *intent)
{
    dexter_parse_status status = dexter_parse_question(text, &state->tokens, intent);
    int64_t now = state->api->now_ms();
    if ((status == DEXTER_PARSE_NO_TOKEN || (status == DEXTER_PARSE_OK && intent->follow_up)) &&
        dexter_follow_ups_complete(state->follow_ups, message->chat_id, intent, now) &&
        intent->token_count > 0)
        status = DEXTER_PARSE_OK;
    return status;
}

static int answer(dexter_state *state, const jv_message *message, dexter_parse_status status,
                  const dexter_intent *intent)
{
    dexter_answer_context context;
    make_context(state, &context);
    if (status == DEXTER_PARSE_UNKNOWN_TOKEN)
        return send_reply(
            state, message,
            dexter_answer_unknown_token(&context, intent->unknown, intent->suggestion));
    dexter_follow_ups_remember(state->follow_ups, message->chat_id, intent, state->api->now_ms());
    char *text = dexter_answer_intent(&context, intent);
    if (!dexter_outlook_has_buttons(intent) || !host_sends_rich(state->api))
        return send_reply(state, message, text);
    return send_outlook(state, message, intent, text);
}

static int on_ask(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    dexter_state *state = user_data;
    const char *question = message->args ? message->args : "";
    dexter_intent intent;
    dexter_parse_status status = read_question(state, message, question, &intent);
    if (status == DEXTER_PARSE_OK || status == DEXTER_PARSE_UNKNOWN_TOKEN)
        return answer(state, message, status, &intent);
    dexter_answer_context context;
    make_context(state, &context);
    if (status == DEXTER_PARSE_NO_TOKEN)
        return send_reply(state, message,
                          dexter_answer_help(&context, "I could not find a token I know in that."));
    return send_reply(state, message,
                      dexter_answer_help(&context, question[0]
                                                       ? "I did not understand that question."
                                                       : "Usage: /ask <question>, for "
                                                         "example /ask Is SOL bullish right "
                                                         "now?"));
}

/* A press is no message to reply to: its chart goes to the press's chat. */
static int send_chart(dexter_state *state, const jv_message *message,
                      const dexter_chart_answer *chart, int from_press)
{
#if JV_ABI_MINOR >= 2
    jv_outgoing photo = {
        .struct_size = sizeof photo,
        .text = chart->caption,
        .file_kind = JV_FILE_PHOTO,
        .file = chart->png.data,
        .file_length = chart->png.length,
        .file_name = "chart.png",
    };
    int rc = from_press ? state->api->send_with(state->self, message->chat_id, &photo, NULL)
                        : state->api->reply_with(message, &photo, NULL);
    if (rc < 0)
        state->api->log(state->self, JV_LOG_WARN, "sending the chart for update %lld failed: %s",
                        (long long)message->update_id, state->api->strerror(rc));
    return rc < 0 ? rc : JV_HANDLED;
#else
    (void)state, (void)message, (void)chart, (void)from_press;
    return JV_E_STATE;
#endif
}

static int chart_answer(dexter_state *state, const jv_message *message,
                        const dexter_chart_request *request, int from_press)
{
    dexter_answer_context context;
    make_context(state, &context);
    int photos = host_sends_rich(state->api);
    dexter_chart_answer chart;
    int built = dexter_chart_answer_build(&context, request, photos, &chart);
    int rc;
    if (built == 0 && photos && chart.caption) {
        rc = send_chart(state, message, &chart, from_press);
    } else if (built == 0 && chart.caption) {
        dexter_text text = {0};
        dexter_text_append(&text,
                           "Charts need a newer jarvis host (plugin ABI 1.2, which "
                           "sends pictures). The figures:\n%s",
                           chart.caption);
        rc = send_reply(state, message, dexter_text_take(&text));
    } else if (from_press && chart.caption) {
        rc = state->api->send_message(state->self, message->chat_id, chart.caption);
    } else {
        rc = send_reply(state, message, chart.caption);
        chart.caption = NULL; /* send_reply freed it */
    }
    dexter_chart_answer_free(&chart);
    return rc;
}

static int on_chart(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    dexter_state *state = user_data;
    dexter_answer_context context;
    make_context(state, &context);
    dexter_chart_request request;
    char *reply = NULL;
    if (dexter_chart_read_request(&context, message->argc, message->argv, &request, &reply) != 0)
        return send_reply(state, message, reply);
    return chart_answer(state, message, &request, 0);
}

#if JV_ABI_MINOR >= 2
/* [24h] [7d] [30d]: the answer the button is on becomes that window's
 * outlook, keeping its keyboard (whose [Chart] now charts that window). */
static int edit_to_window(dexter_state *state, const jv_message *press, const dexter_press *pressed)
{
    dexter_intent intent;
    dexter_press_intent(pressed, &intent);
    dexter_answer_context context;
    make_context(state, &context);
    char *text = dexter_answer_intent(&context, &intent);
    if (!text)
        return JV_E_NOMEM;
    dexter_outlook_buttons keyboard;
    dexter_outlook_buttons_build(pressed->token, pressed->period, &keyboard);
    jv_outgoing content = {.struct_size = sizeof content,
                           .text = text,
                           .buttons = keyboard.buttons,
                           .button_count = DEXTER_OUTLOOK_BUTTON_COUNT};
    int rc = state->api->edit_message(state->self, press->chat_id, press->message_id, &content);
    free(text);
    return rc;
}

static int on_press(jv_plugin *self, const jv_message *press, void *user_data)
{
    (void)self;
    dexter_state *state = user_data;
    dexter_press pressed;
    if (dexter_press_read(press->callback_data, &state->tokens, &pressed) != 0)
        return JV_E_NOTFOUND;
    char toast[64];
    snprintf(toast, sizeof toast, "%s %s %s", pressed.token->symbol, pressed.period,
             pressed.kind == DEXTER_PRESS_CHART ? "chart" : "outlook");
    state->api->answer_callback(press, toast, 0);
    if (pressed.kind == DEXTER_PRESS_OUTLOOK)
        return edit_to_window(state, press, &pressed);
    dexter_chart_request request = {.token = pressed.token, .period_days = pressed.period_days};
    snprintf(request.period, sizeof request.period, "%s", pressed.period);
    int rc = chart_answer(state, press, &request, 1);
    return rc < 0 ? rc : JV_OK;
}

static int register_press(dexter_state *state, char *err, size_t err_length)
{
    if (!host_sends_rich(state->api))
        return JV_OK;
    jv_callback_spec press = {
        .prefix = DEXTER_CALLBACK_PREFIX, .handler = on_press, .user_data = state};
    int rc = JV_REGISTER_CALLBACK(state->api, state->self, &press);
    if (rc != JV_OK)
        snprintf(err, err_length, "cannot register the outlook buttons: %s",
                 state->api->strerror(rc));
    return rc;
}
#else
static int register_press(dexter_state *state, char *err, size_t err_length)
{
    (void)state, (void)err, (void)err_length;
    return JV_OK;
}
#endif

static int addressed_to_bot(const jv_message *message)
{
    return message->is_private || message->mentions_bot || message->is_reply_to_bot;
}

static int on_message(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    dexter_state *state = user_data;
    if (message->command || !message->text || !addressed_to_bot(message))
        return JV_CONTINUE;
    dexter_intent intent;
    dexter_parse_status status = read_question(state, message, message->text, &intent);
    if (status != DEXTER_PARSE_OK && status != DEXTER_PARSE_UNKNOWN_TOKEN)
        return JV_CONTINUE;
    /* "SOL to the moon", "what a great day for SOL": an opinion, left to the
     * chat (and to the sentiment watcher), in a private chat too */
    if (!intent.is_question && !intent.is_request)
        return JV_CONTINUE;
    answer(state, message, status, &intent);
    /* answered (or tried to): lower handlers such as the sentiment watcher
     * must not take the question for chat */
    return JV_HANDLED;
}

/* ---- lifecycle -------------------------------------------------------- */

static void destroy_state(dexter_state *state)
{
    if (!state)
        return;
    release_services(state);
    dexter_market_destroy(state->market);
    dexter_follow_ups_destroy(state->follow_ups);
    dexter_token_map_free(&state->tokens);
    pthread_mutex_destroy(&state->services_lock);
    free(state);
}

static int register_handlers(dexter_state *state, char *err, size_t err_length)
{
    jv_command_spec ask = {
        .name = "ask",
        .usage = "/ask <question>",
        .help = "finance questions: \"Is SOL bullish right now?\", \"price of BTC\", \"SOL vs ETH "
                "30d\"",
        .handler = on_ask,
        .user_data = state,
    };
    int rc = JV_REGISTER_COMMAND(state->api, state->self, &ask);
    if (rc != JV_OK) {
        snprintf(err, err_length, "cannot register /ask: %s", state->api->strerror(rc));
        return rc;
    }
    jv_command_spec chart = {
        .name = "chart",
        .usage = DEXTER_CHART_USAGE,
        .help = "a price chart with the fast and slow SMA and the period's high and low: \"/chart "
                "SOL 30d\"",
        .handler = on_chart,
        .user_data = state,
    };
    rc = JV_REGISTER_COMMAND(state->api, state->self, &chart);
    if (rc != JV_OK) {
        snprintf(err, err_length, "cannot register /chart: %s", state->api->strerror(rc));
        return rc;
    }
    rc = register_press(state, err, err_length);
    if (rc != JV_OK)
        return rc;
    jv_message_handler_spec questions = {
        .priority = 0,
        .handler = on_message,
        .user_data = state,
    };
    rc = JV_REGISTER_MESSAGE_HANDLER(state->api, state->self, &questions);
    if (rc != JV_OK) {
        snprintf(err, err_length, "cannot register the question handler: %s",
                 state->api->strerror(rc));
        return rc;
    }
    /* the one token list every plugin reads (the map is fixed from here on) */
    dexter_registry_init(&state->registry, &state->tokens);
    rc = state->api->provide_service(state->self, JV_SVC_TOKEN_REGISTRY,
                                     JV_SVC_TOKEN_REGISTRY_VERSION, &state->registry);
    if (rc != JV_OK)
        snprintf(err, err_length, "cannot provide %s: %s", JV_SVC_TOKEN_REGISTRY,
                 state->api->strerror(rc));
    return rc;
}

static int dexter_init(jv_plugin *self, const jv_host_api *api, char *err, size_t err_length)
{
    dexter_state *state = calloc(1, sizeof *state);
    if (!state) {
        snprintf(err, err_length, "out of memory");
        return JV_E_NOMEM;
    }
    state->self = self;
    state->api = api;
    pthread_mutex_init(&state->services_lock, NULL);
    int rc = read_tokens(state, err, err_length);
    if (rc == JV_OK)
        rc = read_analysis(state, err, err_length);
    if (rc == JV_OK)
        rc = create_market(state, err, err_length);
    if (rc == JV_OK)
        rc = register_handlers(state, err, err_length);
    if (rc != JV_OK) {
        destroy_state(state);
        return rc;
    }
    plugin_state = state;
    return JV_OK;
}

static void dexter_shutdown(jv_plugin *self)
{
    (void)self;
    destroy_state(plugin_state);
    plugin_state = NULL;
    dexter_chart_release_caches(); /* no handler runs during shutdown */
}

JV_PLUGIN_DEFINE("dexter_finance", "1.0.0",
                 "answers finance questions: outlook, price, change, comparison",
                 JV_PLUGIN_CONCURRENT, dexter_init, NULL, dexter_shutdown);
