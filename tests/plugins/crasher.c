/* crasher: a test plugin for the Telegram transport tests. /crash kills the
 * whole process with SIGSEGV (a poison update), /abort with abort(); /long N replies with a text
 * of N UTF-16 units in lines of varied length, with emoji (split tests);
 * /emoji N replies with N emoji and no spaces (cuts between characters). */
#include <jarvis/plugin.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const jv_host_api *api;

/* A real fault, so the host's crash attribution sees it as the crash of
 * this plugin's handler. */
static int on_crash(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)message;
    (void)user_data;
    raise(SIGSEGV);
    return JV_OK;
}

static int on_abort(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)message;
    (void)user_data;
    abort();
}

static long requested_count(const jv_message *message, long fallback)
{
    long count = message->args && message->args[0] ? strtol(message->args, NULL, 10) : fallback;
    return count > 0 && count < 2000000 ? count : fallback;
}

/* Lines "line K: xxx... 😀" of varied length; the emoji counts 2 units. */
static int on_long(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    long units = requested_count(message, 10000);
    char *text = malloc((size_t)units * 4 + 64);
    if (text == NULL)
        return JV_E_NOMEM;
    size_t used = 0;
    long counted = 0;
    for (long line = 1; counted < units; line++) {
        int written = sprintf(text + used, "line %ld: ", line);
        used += (size_t)written;
        counted += written;
        for (long i = 0; i < (line * 37) % 150 && counted < units; i++, counted++)
            text[used++] = (char)('a' + i % 26);
        memcpy(text + used, "\xF0\x9F\x98\x80\n", 5); /* U+1F600 and a newline */
        used += 5;
        counted += 3;
    }
    text[used] = '\0';
    int status = api->reply(message, text);
    free(text);
    return status;
}

static int on_emoji(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    long count = requested_count(message, 3000);
    char *text = malloc((size_t)count * 4 + 1);
    if (text == NULL)
        return JV_E_NOMEM;
    for (long i = 0; i < count; i++)
        memcpy(text + i * 4, "\xF0\x9F\x8E\x89", 4); /* U+1F389 */
    text[count * 4] = '\0';
    int status = api->reply(message, text);
    free(text);
    return status;
}

static int add(jv_plugin *self, const char *name, const char *help, jv_command_fn handler)
{
    jv_command_spec spec = {.struct_size = sizeof spec, .name = name, .usage = name,
                            .help = help, .handler = handler};
    return api->register_command(self, &spec, sizeof spec);
}

static int crasher_init(jv_plugin *self, const jv_host_api *host, char *err, size_t err_length)
{
    api = host;
    int status = add(self, "crash", "kill the bot (test only)", on_crash);
    if (status == JV_OK)
        status = add(self, "abort", "abort() the bot (test only)", on_abort);
    if (status == JV_OK)
        status = add(self, "long", "reply with N UTF-16 units of lines", on_long);
    if (status == JV_OK)
        status = add(self, "emoji", "reply with N emoji", on_emoji);
    if (status != JV_OK)
        snprintf(err, err_length, "registration failed: %s", api->strerror(status));
    return status;
}

JV_PLUGIN_DEFINE("crasher", "1.0.0", "test plugin: crash, long and emoji replies",
                 JV_PLUGIN_CONCURRENT, crasher_init, NULL, NULL);
