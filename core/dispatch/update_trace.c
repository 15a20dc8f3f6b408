/* One line per handled update (see update_trace.h): text "update 12 chat 5:
 * command /ping, plugin hello, 3.1 ms, replied", and in JSON lines the
 * same as fields. The trace lives on the worker's stack and is reached
 * through a thread-local pointer by the callback runner. */
#include "dispatch/update_trace.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/text.h"
#include "state/unit_of_work.h"
#include "dispatch/command_text.h"

/* The histogram's command label of free-text handlers. */
#define MESSAGE_HANDLER_LABEL "(message handler)"

static _Thread_local struct update_trace *current_trace;

void update_trace_begin(struct update_trace *trace, const struct incoming_message *message,
                        const char *bot_username)
{
    memset(trace, 0, sizeof *trace);
    trace->update_id = message->update_id;
    trace->chat_id = message->chat_id;
    trace->text = message->text != NULL ? message->text : "";
    trace->kind =
        command_parse(trace->text, bot_username, trace->command, sizeof trace->command, NULL);
    trace->started_ns = monotonic_ns();
    current_trace = trace;
}

void update_trace_callback(const char *plugin, const char *command, int64_t elapsed_ns, int result)
{
    double seconds = (double)elapsed_ns / 1e9;
    metrics_observe(METRIC_HANDLER_DURATION, plugin,
                    command != NULL ? command : MESSAGE_HANDLER_LABEL, seconds);
    struct update_trace *trace = current_trace;
    if (trace == NULL)
        return;
    text_join(trace->plugin, sizeof trace->plugin, plugin, "");
    if (result < 0)
        trace->failed = 1;
}

static const char *outcome_of(const struct update_trace *trace, const struct jv_context *work)
{
    if (trace->kind < 0)
        return "ignored";
    if (work->deferred)
        return "deferred";
    if (trace->failed)
        return "failed";
    return work->reply_count > 0 ? "replied" : "no reply";
}

/* Commands nobody registered and the built-ins are answered by the core. */
static const char *plugin_of(const struct update_trace *trace)
{
    if (trace->plugin[0] != '\0')
        return trace->plugin;
    return trace->kind == 1 ? "core" : "none";
}

void update_trace_end(struct update_trace *trace, const struct jv_context *work)
{
    current_trace = NULL;
    if (!log_enabled(LOG_INFO))
        return; /* the line below is all it does: not even its words are made */
    double duration_ms = (double)(monotonic_ns() - trace->started_ns) / 1e6;
    const char *outcome = outcome_of(trace, work);
    const char *plugin = plugin_of(trace);
    const char *text = log_enabled(LOG_DEBUG) ? trace->text : NULL;
    char what[UPDATE_TRACE_NAME_MAX + 16];
    if (trace->kind < 0)
        snprintf(what, sizeof what, "a command for another bot");
    else if (trace->kind == 1)
        snprintf(what, sizeof what, "command /%s", trace->command);
    else
        snprintf(what, sizeof what, "text for message handlers");
    struct log_field fields[] = {
        {.key = "update_id", .kind = LOG_FIELD_INTEGER, .integer = trace->update_id},
        {.key = "chat_id", .kind = LOG_FIELD_INTEGER, .integer = trace->chat_id},
        {.key = "command", .text = trace->kind == 1 ? trace->command : NULL},
        {.key = "handler", .text = trace->kind != 0 ? "command" : "message"},
        {.key = "plugin", .text = plugin},
        {.key = "duration_ms", .kind = LOG_FIELD_REAL, .real = duration_ms},
        {.key = "outcome", .text = outcome},
        {.key = "text", .text = text},
    };
    log_write_fields(LOG_INFO, NULL, fields, sizeof fields / sizeof *fields,
                     "update %lld chat %lld: %s, plugin %s, %.1f ms, %s%s%s%s",
                     (long long)trace->update_id, (long long)trace->chat_id, what, plugin,
                     duration_ms, outcome, text != NULL ? ", text \"" : "",
                     text != NULL ? text : "", text != NULL ? "\"" : "");
}
