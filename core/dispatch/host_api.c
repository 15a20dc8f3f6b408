/* The jv_host_api table handed to every plugin's init: thin, argument-checking
 * wrappers over the core modules (log, config, registry, store, http, host_send).
 * A plugin's misuse (NULL, wrong sizes, wrong moment) gets an error code, never a crash. */
#include "dispatch/host_api.h"

#include "plugin/registry.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/error_text.h"
#include "config/config.h"
#include "plugin/host.h"
#include "base/http.h"
#include "base/log.h"
#include "base/metrics.h"
#include "dispatch/outgoing_content.h"
#include "dispatch/pipeline.h"
#include "plugin/plugin_record.h"
#include "state/store.h"
#include "state/unit_of_work.h"
#include "plugin/registration.h"
#include "plugin/services.h"
#include "config/config_schema.h"
#include "dispatch/host_send.h"

static struct host *plugin_host(const jv_plugin *self)
{
    return registry_plugin_is_valid(self) ? registry_host(self->registry) : NULL;
}

/* ---- memory ---- */

static void *api_alloc(size_t size)
{
    return malloc(size ? size : 1);
}

static void api_free(void *pointer)
{
    free(pointer);
}

static char *api_strdup(const char *text)
{
    return text ? strdup(text) : NULL;
}

static const char *api_strerror(int code)
{
    return error_text(code);
}

/* ---- logging ---- */

static void api_log(jv_plugin *self, int level, const char *format, ...)
{
    if (!format)
        return;
    if (level < JV_LOG_ERROR)
        level = JV_LOG_ERROR;
    if (level > JV_LOG_DEBUG)
        level = JV_LOG_DEBUG;
    const char *origin = registry_plugin_is_valid(self) ? self->name : "unknown plugin";
    va_list args;
    va_start(args, format);
    log_writev((enum log_level)level, origin, format, args);
    va_end(args);
}

/* ---- configuration ---- */

static const char *lookup(jv_plugin *self, const char *key)
{
    struct host *host = plugin_host(self);
    if (!host || !host->config || !key)
        return NULL;
    return config_lookup(host->config, self->name, key);
}

/* Values are never logged: they may be secrets resolved from env:VAR. */
static void log_unparsable(jv_plugin *self, const char *key, const char *expected)
{
    const struct config *config = plugin_host(self)->config;
    log_warn("%s:%d: [%s] %s: expected %s; using the default",
             config->path ? config->path : "plugins.ini",
             config_lookup_line(config, self->name, key), self->name, key, expected);
}

static const char *api_config_get(jv_plugin *self, const char *key, const char *fallback)
{
    const char *value = lookup(self, key);
    return value ? value : fallback;
}

static int64_t api_config_get_int(jv_plugin *self, const char *key, int64_t fallback)
{
    const char *value = lookup(self, key);
    if (!value || !*value)
        return fallback;
    char *end = NULL;
    errno = 0;
    long long parsed = strtoll(value, &end, 10);
    while (end && (*end == ' ' || *end == '\t'))
        end++;
    if (errno != 0 || end == value || *end != '\0') {
        log_unparsable(self, key, "an integer");
        return fallback;
    }
    return (int64_t)parsed;
}

static double api_config_get_double(jv_plugin *self, const char *key, double fallback)
{
    const char *value = lookup(self, key);
    if (!value || !*value)
        return fallback;
    char *end = NULL;
    errno = 0;
    double parsed = strtod(value, &end);
    while (end && (*end == ' ' || *end == '\t'))
        end++;
    if (errno != 0 || end == value || *end != '\0' || !isfinite(parsed)) {
        log_unparsable(self, key, "a number");
        return fallback;
    }
    return parsed;
}

static int api_config_get_bool(jv_plugin *self, const char *key, int fallback)
{
    const char *value = lookup(self, key);
    if (!value || !*value)
        return fallback;
    int parsed = 0;
    if (config_parse_boolean(value, &parsed) == 0)
        return parsed;
    log_unparsable(self, key, "true or false");
    return fallback;
}

/* ---- registration and services ---- */

static int api_register_command(jv_plugin *self, const jv_command_spec *spec, size_t spec_size)
{
    if (!registry_plugin_is_valid(self) || !spec)
        return JV_E_INVAL;
    return registry_register_command(self, spec, spec_size);
}

static int api_register_message_handler(jv_plugin *self, const jv_message_handler_spec *spec,
                                        size_t spec_size)
{
    if (!registry_plugin_is_valid(self) || !spec)
        return JV_E_INVAL;
    return registry_register_message_handler(self, spec, spec_size);
}

static int api_register_job(jv_plugin *self, const jv_job_spec *spec, size_t spec_size)
{
    if (!registry_plugin_is_valid(self) || !spec)
        return JV_E_INVAL;
    return registry_register_job(self, spec, spec_size);
}

static int api_provide_service(jv_plugin *self, const char *name, uint32_t version,
                               const void *vtable)
{
    if (!registry_plugin_is_valid(self) || !name || !vtable)
        return JV_E_INVAL;
    return registry_provide_service(self, name, version, vtable);
}

static const void *api_acquire_service(jv_plugin *self, const char *name, uint32_t min_version)
{
    if (!registry_plugin_is_valid(self) || !name)
        return NULL;
    return registry_acquire_service(self, name, min_version);
}

static void api_release_service(jv_plugin *self, const char *name)
{
    if (registry_plugin_is_valid(self) && name)
        registry_release_service(self, name);
}

/* ---- messaging ---- */

/* A reply lands in the message's forum topic; send_message (jobs, reports)
 * never names one. */
static int api_reply(const jv_message *message, const char *text)
{
    if (!message || !text)
        return JV_E_INVAL;
    struct jv_context *work = unit_of_work_of(message);
    if (!work)
        return JV_E_STATE; /* not a message the host handed out (or a copy) */
    return unit_of_work_reply(work, work->chat_id, work->thread_id, text);
}

static jv_deferred *api_defer_reply(const jv_message *message)
{
    struct jv_context *work = unit_of_work_of(message);
    return work ? pipeline_defer(work) : NULL;
}

static int api_deferred_reply(jv_deferred *deferred, const char *text)
{
    return pipeline_deferred_reply(deferred, text);
}

static int api_deferred_finish(jv_deferred *deferred)
{
    return pipeline_deferred_finish(deferred);
}

static int api_send_message(jv_plugin *self, int64_t chat_id, const char *text)
{
    if (!registry_plugin_is_valid(self) || !text)
        return JV_E_INVAL;
    return host_send(plugin_host(self), chat_id, text);
}

/* ---- rich messages (since 1.2) ---- */

static void log_refused_content(const char *plugin, const char *what, const char *problem)
{
    log_warn("plugin '%s': %s refused: %s", plugin, what, problem);
}

/* A reference only for a caller that takes it: nobody can edit a message
 * by a reference never handed out, and each one costs a sent_message row
 * written when the message goes out (and its message_id read). */
static int64_t new_reference_if_asked(const int64_t *reference)
{
    return reference != NULL ? pipeline_new_reference() : 0;
}

static int api_reply_with(const jv_message *message, const jv_outgoing *content, int64_t *reference)
{
    if (!message || !content)
        return JV_E_INVAL;
    struct jv_context *work = unit_of_work_of(message);
    if (!work)
        return JV_E_STATE;
    struct pending_reply reply;
    char problem[160];
    int status =
        outgoing_build(&reply, content, work->chat_id, work->thread_id, 0, problem, sizeof problem);
    if (status != JV_OK) {
        log_refused_content("(reply)", "reply_with", problem);
        return status;
    }
    reply.quote_message_id = (content->flags & JV_NO_QUOTE) ? 0 : work->quote_message_id;
    reply.reference = new_reference_if_asked(reference);
    int64_t given = reply.reference;
    status = unit_of_work_add(work, &reply);
    if (status == JV_OK && reference)
        *reference = given;
    return status;
}

/* Outside a handler: committed at once; on a handler's thread: with it. */
static int send_or_buffer(jv_plugin *self, struct pending_reply *reply)
{
    struct jv_context *work = unit_of_work_current();
    if (work)
        return unit_of_work_add(work, reply);
    struct host *host = plugin_host(self);
    int status = host && host->pipeline ? pipeline_send_reply(host->pipeline, reply) : JV_E_STATE;
    pending_reply_free(reply);
    return status;
}

static int api_send_with(jv_plugin *self, int64_t chat_id, const jv_outgoing *content,
                         int64_t *reference)
{
    if (!registry_plugin_is_valid(self) || !content)
        return JV_E_INVAL;
    struct pending_reply reply;
    char problem[160];
    int status = outgoing_build(&reply, content, chat_id, 0, 0, problem, sizeof problem);
    if (status != JV_OK) {
        log_refused_content(self->name, "send_with", problem);
        return status;
    }
    reply.reference = new_reference_if_asked(reference);
    int64_t given = reply.reference;
    status = send_or_buffer(self, &reply);
    if (status == JV_OK && reference)
        *reference = given;
    return status;
}

static int api_edit_message(jv_plugin *self, int64_t chat_id, int64_t message,
                            const jv_outgoing *content)
{
    if (!registry_plugin_is_valid(self) || !content || message <= 0)
        return JV_E_INVAL;
    struct pending_reply reply;
    char problem[160];
    int status = outgoing_build(&reply, content, chat_id, 0, message, problem, sizeof problem);
    if (status != JV_OK) {
        log_refused_content(self->name, "edit_message", problem);
        return status;
    }
    return send_or_buffer(self, &reply);
}

static int api_register_callback(jv_plugin *self, const jv_callback_spec *spec, size_t spec_size)
{
    if (!registry_plugin_is_valid(self) || !spec)
        return JV_E_INVAL;
    return registry_register_callback(self, spec, spec_size);
}

static int api_answer_callback(const jv_message *press, const char *text, int show_alert)
{
    struct jv_context *work = unit_of_work_of(press);
    if (!work || !work->callback_query_id)
        return JV_E_STATE; /* not a button press the host handed out */
    if (work->callback_answered)
        return JV_E_EXISTS;
    struct pending_reply answer;
    if (outgoing_callback_answer(&answer, work->chat_id, work->callback_query_id, text,
                                 show_alert) != JV_OK)
        return JV_E_NOMEM;
    int status = unit_of_work_add(work, &answer);
    if (status == JV_OK)
        work->callback_answered = 1;
    return status;
}

/* ---- key-value store ---- */

/* The store, or NULL when there is none (jarvis check runs without one). */
static struct store *plugin_store(jv_plugin *self)
{
    struct host *host = plugin_host(self);
    return host ? host->store : NULL;
}

static int api_kv_set(jv_plugin *self, const char *key, const void *value, size_t value_length)
{
    if (!registry_plugin_is_valid(self) || !key || !*key || (!value && value_length > 0))
        return JV_E_INVAL;
    struct store *store = plugin_store(self);
    if (!store)
        return JV_E_STATE;
    struct jv_context *work = unit_of_work_current();
    int status = work ? unit_of_work_kv_set(work, self->name, key, value ? value : "", value_length)
                      : store_set(store, self->name, key, value ? value : "", value_length);
    return status == 0 ? JV_OK : JV_E_IO;
}

static int api_kv_get(jv_plugin *self, const char *key, char **value, size_t *value_length)
{
    if (!registry_plugin_is_valid(self) || !key || !*key || !value)
        return JV_E_INVAL;
    *value = NULL;
    if (value_length)
        *value_length = 0;
    struct store *store = plugin_store(self);
    if (!store)
        return JV_E_STATE;
    size_t length = 0;
    struct jv_context *work = unit_of_work_current();
    int status = work ? unit_of_work_kv_get(work, store, self->name, key, value, &length)
                      : store_get(store, self->name, key, value, &length);
    if (status == 1)
        return JV_E_NOTFOUND;
    if (status != 0)
        return JV_E_IO;
    if (value_length)
        *value_length = length;
    return JV_OK;
}

static int api_kv_delete(jv_plugin *self, const char *key)
{
    if (!registry_plugin_is_valid(self) || !key || !*key)
        return JV_E_INVAL;
    struct store *store = plugin_store(self);
    if (!store)
        return JV_E_STATE;
    struct jv_context *work = unit_of_work_current();
    int status = work ? unit_of_work_kv_delete(work, store, self->name, key)
                      : store_delete(store, self->name, key);
    if (status == 1)
        return JV_E_NOTFOUND;
    return status == 0 ? JV_OK : JV_E_IO;
}

static int api_kv_list(jv_plugin *self, const char *prefix, jv_kv_visit_fn visit, void *user_data)
{
    if (!registry_plugin_is_valid(self) || !visit)
        return JV_E_INVAL;
    struct store *store = plugin_store(self);
    if (!store)
        return JV_E_STATE;
    struct jv_context *work = unit_of_work_current();
    int status =
        work ? unit_of_work_kv_list(work, store, self->name, prefix ? prefix : "", visit, user_data)
             : store_list(store, self->name, prefix ? prefix : "", visit, user_data);
    return status == 0 ? JV_OK : JV_E_IO;
}

/* ---- HTTP and time ---- */

/* jarvis_plugin_http_requests_total: "2xx".."5xx", or "error" when no
 * answer came (timeout, refused connection, too large a body). */
static void count_http_request(const char *plugin, int result, const jv_http_response *response)
{
    char status_class[8] = "error";
    if (result == JV_OK && response->status >= 100 && response->status <= 599)
        snprintf(status_class, sizeof status_class, "%ldxx", response->status / 100);
    metrics_count(METRIC_PLUGIN_HTTP, plugin, status_class);
}

static int api_http_request(jv_plugin *self, const jv_http_request *request,
                            jv_http_response *response)
{
    if (!registry_plugin_is_valid(self) || !request || !response)
        return JV_E_INVAL;
    if (request->struct_size < sizeof(jv_http_request)) {
        log_error("plugin '%s': http request struct_size %zu, expected at least %zu; rebuild "
                  "against include/jarvis/plugin.h",
                  self->name, request->struct_size, sizeof(jv_http_request));
        return JV_E_ABI;
    }
    /* A newer plugin's extra members are beyond what this host knows: ignore them. */
    jv_http_request known = *request;
    known.struct_size = sizeof known;
    if (!known.method || !known.url)
        return JV_E_INVAL;
    int result = http_perform(&known, response);
    count_http_request(self->name, result, response);
    return result;
}

static void api_http_response_free(jv_http_response *response)
{
    if (response)
        http_response_release(response);
}

static const jv_host_api host_api = {
    .struct_size = sizeof(jv_host_api),
    .abi_major = JV_ABI_MAJOR,
    .abi_minor = JV_ABI_MINOR,
    .alloc = api_alloc,
    .free = api_free,
    .strdup = api_strdup,
    .strerror = api_strerror,
    .log = api_log,
    .config_get = api_config_get,
    .config_get_int = api_config_get_int,
    .config_get_double = api_config_get_double,
    .config_get_bool = api_config_get_bool,
    .register_command = api_register_command,
    .register_message_handler = api_register_message_handler,
    .register_job = api_register_job,
    .provide_service = api_provide_service,
    .acquire_service = api_acquire_service,
    .release_service = api_release_service,
    .reply = api_reply,
    .send_message = api_send_message,
    .kv_set = api_kv_set,
    .kv_get = api_kv_get,
    .kv_delete = api_kv_delete,
    .kv_list = api_kv_list,
    .http_request = api_http_request,
    .http_response_free = api_http_response_free,
    .defer_reply = api_defer_reply,
    .deferred_reply = api_deferred_reply,
    .deferred_finish = api_deferred_finish,
    .now_ms = wall_ms,
    .reply_with = api_reply_with,
    .send_with = api_send_with,
    .edit_message = api_edit_message,
    .register_callback = api_register_callback,
    .answer_callback = api_answer_callback,
};

const jv_host_api *host_api_table(void)
{
    return &host_api;
}
