/* hello: the smallest useful jarvis plugin, to read. /ping answers "pong",
 * /echo repeats its text; an optional periodic job ("tick N") exists only
 * when [hello] tick_interval_ms is set. To start a plugin of your own, run
 * `jarvis new-plugin NAME`: a copy of this file would register /ping and
 * /echo again, and the host refuses a second owner of a command. */
#include <jarvis/format.h>
#include <jarvis/plugin.h>

#include <stdatomic.h>
#include <stdio.h>

/* The table stays valid until the plugin unloads, so keeping it is allowed. */
static const jv_host_api *api;

/* Jobs may run on different workers; an atomic keeps the count exact
 * without a lock, which is what lets this plugin declare itself concurrent. */
static atomic_long tick_count;
static int64_t tick_chat;

static int on_ping(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    return api->reply(message, "pong");
}

static int on_echo(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    /* The host already trimmed args; an empty one means the user forgot the text. */
    if (!message->args || message->args[0] == '\0')
        return api->reply(message, "usage: /echo <text>");
    /* An older host has no HTML: plain text is safe there as it is. */
    if (!JV_API_HAS(api, reply_with))
        return api->reply(message, message->args);
    /* What the user typed is escaped, so no text of theirs can make
     * Telegram refuse the answer ("can't parse entities"). */
    char *escaped = jv_html_escape_dup(api, message->args);
    if (escaped == NULL)
        return JV_E_NOMEM;
    jv_outgoing content = {.struct_size = sizeof content, .text = escaped, .flags = JV_FORMAT_HTML};
    int status = api->reply_with(message, &content, NULL);
    api->free(escaped);
    return status;
}

static int on_tick(jv_plugin *self, void *user_data)
{
    (void)user_data;
    char text[32];
    snprintf(text, sizeof text, "tick %ld", atomic_fetch_add(&tick_count, 1) + 1);
    return api->send_message(self, tick_chat, text);
}

/* Optional: only a configured interval turns the job on, so the default
 * setup never sends anything unasked. */
static int register_tick(jv_plugin *self)
{
    int64_t interval_ms = api->config_get_int(self, "tick_interval_ms", 0);
    if (interval_ms <= 0)
        return JV_OK;
    tick_chat = api->config_get_int(self, "tick_chat", 1); /* 1: the console chat */
    jv_job_spec job = {
        .name = "tick",
        .interval_ms = interval_ms,
        .initial_delay_ms = interval_ms,
        .run = on_tick,
    };
    return JV_REGISTER_JOB(api, self, &job);
}

static int hello_init(jv_plugin *self, const jv_host_api *host, char *err, size_t err_length)
{
    api = host;
    atomic_store(&tick_count, 0);
    /* Specs may live on the stack: the host copies them, strings included. */
    jv_command_spec ping = {
        .name = "ping",
        .usage = "/ping",
        .help = "check that the bot is alive",
        .handler = on_ping,
    };
    jv_command_spec echo = {
        .name = "echo",
        .usage = "/echo <text>",
        .help = "repeat the text",
        .handler = on_echo,
    };
    int status = JV_REGISTER_COMMAND(api, self, &ping);
    if (status == JV_OK)
        status = JV_REGISTER_COMMAND(api, self, &echo);
    if (status == JV_OK)
        status = register_tick(self);
    /* On failure the host undoes what was registered; we only explain why. */
    if (status != JV_OK)
        snprintf(err, err_length, "registration failed: %s", api->strerror(status));
    return status;
}

JV_PLUGIN_DEFINE("hello", "1.0.0", "ping, echo and an optional tick: the example plugin",
                 JV_PLUGIN_CONCURRENT, hello_init, NULL, NULL);
