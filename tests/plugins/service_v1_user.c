/* A consumer built against the service headers as they were before the
 * context members were appended (frozen copies in tests/fixtures/svc-1/,
 * put first on the include path by the Makefile): every later provider must
 * still answer it through the old, context-free members. Each command
 * prints what one version 1 call returned. */
#include <jarvis/plugin.h>
#include <jarvis/svc/sentiment_score.h>
#include <jarvis/svc/sentiment_weight.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

_Static_assert(JV_SVC_SENTIMENT_SCORE_VERSION == 1, "built against the frozen version 1 header");
_Static_assert(JV_SVC_SENTIMENT_WEIGHT_VERSION == 2, "built against the frozen version 2 header");

static const jv_host_api *api;

__attribute__((format(printf, 2, 3))) static void reply_line(const jv_message *message, const char *format, ...)
{
    char line[512];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(line, sizeof line, format, arguments);
    va_end(arguments);
    api->reply(message, line);
}

/* The old consumers' rule: a vtable at least as long as the one they know. */
static const jv_sentiment_score_api *score_service(jv_plugin *self)
{
    const jv_sentiment_score_api *score =
        api->acquire_service(self, JV_SVC_SENTIMENT_SCORE, JV_SVC_SENTIMENT_SCORE_VERSION);
    return score && score->struct_size >= sizeof *score ? score : NULL;
}

static const jv_sentiment_weight_api *weight_service(jv_plugin *self)
{
    const jv_sentiment_weight_api *weight =
        api->acquire_service(self, JV_SVC_SENTIMENT_WEIGHT, JV_SVC_SENTIMENT_WEIGHT_VERSION);
    return weight && weight->struct_size >= sizeof *weight ? weight : NULL;
}

static int on_score(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)user_data;
    const jv_sentiment_score_api *score = score_service(self);
    if (!score)
        return api->reply(message, "v1 score_text: no service");
    double compound = 99;
    int rc = score->score_text(message->args, &compound);
    reply_line(message, "v1 score_text: %s %+.3f", api->strerror(rc), compound);
    return JV_OK;
}

static int on_snapshot(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)user_data;
    const jv_sentiment_score_api *score = score_service(self);
    if (!score)
        return api->reply(message, "v1 token_snapshot: no service");
    jv_token_sentiment snapshot = {0};
    int rc = score->token_snapshot(message->args, &snapshot);
    reply_line(message, "v1 token_snapshot %s: %s samples=%" PRId64 " window_s=%" PRId64,
               message->args, api->strerror(rc), snapshot.samples, snapshot.window_s);
    return JV_OK;
}

static int on_combine(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)user_data;
    const jv_sentiment_weight_api *weight = weight_service(self);
    if (!weight)
        return api->reply(message, "v1 combine: no service");
    jv_weight_component components[2] = {
        {.name = "chat", .present = 1, .score = 0.5, .samples = 10},
        {.name = "grok", .present = 0},
    };
    jv_weight_result result = {0};
    int rc = weight->combine(components, 2, &result);
    reply_line(message, "v1 combine: %s composite=%+.3f weight=%.2f/%.2f label=%s used=%zu",
               api->strerror(rc), result.composite, result.weight[0], result.weight[1],
               result.label, result.sources_used);
    return JV_OK;
}

static int on_grok(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)user_data;
    const jv_sentiment_weight_api *weight = weight_service(self);
    if (!weight)
        return api->reply(message, "v1 grok_rate: no service");
    jv_grok_rating rating = {0};
    int rc = weight->grok_rate(message->args, &rating);
    reply_line(message, "v1 grok_rate %s: %s available=%d reason=%s", message->args,
               api->strerror(rc), rating.available, rating.reason);
    return JV_OK;
}

static int service_v1_user_init(jv_plugin *self, const jv_host_api *host, char *err,
                                size_t err_length)
{
    (void)err;
    (void)err_length;
    api = host;
    static const struct {
        const char *name;
        jv_command_fn handler;
    } commands[] = {
        {"v1_score", on_score},
        {"v1_snapshot", on_snapshot},
        {"v1_combine", on_combine},
        {"v1_grok", on_grok},
    };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        jv_command_spec spec = {.name = commands[i].name,
                                .usage = commands[i].name,
                                .help = "a version 1 service call",
                                .handler = commands[i].handler};
        int rc = JV_REGISTER_COMMAND(api, self, &spec);
        if (rc != JV_OK)
            return rc;
    }
    return JV_OK;
}

JV_PLUGIN_DEFINE("service_v1_user", "1.0.0", "calls services through their version 1 members",
                 0, service_v1_user_init, NULL, NULL);
