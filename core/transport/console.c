/* The console transport: every stdin line is a message from one local user
 * (chat 1, private, an admin) and every reply is one stdout line block, so
 * `printf '/ping\n' | jarvis` works in scripts. Lines go through the same
 * inbox and outbox as Telegram's updates. stdin is polled together with the
 * lifecycle wake fd, so SIGTERM stops reading at once. */
#include "transport/console.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <jarvis/plugin.h>
#include <jarvis/utf8.h>
#include <sys/stat.h>

#include "config/config.h"
#include "dispatch/dispatch.h"
#include "plugin/host.h"
#include "base/lifecycle.h"
#include "base/log.h"
#include "dispatch/pipeline.h"
#include "state/store.h"
#include "transport/transport.h"
#include "base/core_keys.h"

#define CONSOLE_CHAT_ID 1
#define CONSOLE_USER_ID 1
#define READ_CHUNK 4096
#define DRAIN_STEP_MS 100
#define CURSOR_KEY "console.update_id" /* the last line's update id, in space "core" */
#define BUTTONS_MAX 64
#define FILES_DIR "console-files" /* under [bot] state_dir: photos and documents sent */

/* A button of the last keyboard printed: "#N" presses it. */
struct console_button {
    char *data; /* NULL: a URL button */
    int64_t message_id;
};

struct console {
    pthread_mutex_t output_lock;
    struct host *host;
    struct pipeline *pipeline;
    const char *user_name;
    int64_t line_number;
    int64_t update_id; /* continues across runs: the inbox may hold older ones */
    struct console_button buttons[BUTTONS_MAX];
    size_t button_count;
    int64_t printed; /* the console's message id of what it printed last */
    char *pending;   /* bytes read but not yet ended by '\n' */
    size_t pending_length;
    size_t pending_capacity;
};

/* ---- input ---- */

static int is_blank(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r')
            return 0;
    return 1;
}

static void submit_line(struct console *console, struct host *host, char *line, size_t length)
{
    console->line_number++;
    line[length] = '\0';
    if (length > 0 && line[length - 1] == '\r')
        line[--length] = '\0';
    if (is_blank(line, length))
        return;
    if (!jv_utf8_is_valid(line, length)) {
        log_warn("stdin:%lld: not valid UTF-8, line ignored", (long long)console->line_number);
        return;
    }
    if (console->update_id == INT64_MAX) {
        log_error("stdin:%lld: no update id left; line ignored", (long long)console->line_number);
        return;
    }
    char press_id[48] = "";
    const char *press_data = NULL;
    int64_t pressed_message = console->line_number;
    if (line[0] == '#' && line[1] >= '0' && line[1] <= '9') {
        long number = strtol(line + 1, NULL, 10);
        pthread_mutex_lock(&console->output_lock);
        if (number >= 1 && (size_t)number <= console->button_count &&
            console->buttons[number - 1].data != NULL) {
            press_data = strdup(console->buttons[number - 1].data);
            pressed_message = console->buttons[number - 1].message_id;
        }
        pthread_mutex_unlock(&console->output_lock);
        if (press_data == NULL) {
            fprintf(stdout, "(no button [%ld] to press)\n", number);
            fflush(stdout);
            return;
        }
        snprintf(press_id, sizeof press_id, "console-%lld", (long long)console->line_number);
    }
    struct incoming_message message = {
        .callback_id = press_data != NULL ? press_id : NULL,
        .callback_data = press_data,
        .update_id = console->update_id + 1,
        .chat_id = CONSOLE_CHAT_ID,
        .user_id = CONSOLE_USER_ID,
        .message_id = pressed_message,
        .chat_type = "private",
        .user_name = console->user_name,
        .text = line,
        .is_reply_to_bot = 0,
    };
    (void)host;
    int accepted = pipeline_accept(console->pipeline, &message, 1, CURSOR_KEY, message.update_id);
    free((char *)press_data);
    if (accepted != 0) {
        log_error("stdin:%lld: cannot store the line in the inbox; line ignored",
                  (long long)console->line_number);
        return;
    }
    console->update_id = message.update_id;
}

static int append_pending(struct console *console, const char *bytes, size_t length)
{
    if (console->pending_length + length + 1 > console->pending_capacity) {
        size_t capacity = console->pending_capacity ? console->pending_capacity : READ_CHUNK;
        while (capacity < console->pending_length + length + 1)
            capacity *= 2;
        char *grown = realloc(console->pending, capacity);
        if (grown == NULL)
            return -1;
        console->pending = grown;
        console->pending_capacity = capacity;
    }
    memcpy(console->pending + console->pending_length, bytes, length);
    console->pending_length += length;
    console->pending[console->pending_length] = '\0';
    return 0;
}

/* Submits every complete line in the buffer and keeps the unfinished tail. */
static void submit_complete_lines(struct console *console, struct host *host)
{
    size_t start = 0;
    for (;;) {
        char *newline = memchr(console->pending + start, '\n', console->pending_length - start);
        if (newline == NULL)
            break;
        *newline = '\0';
        size_t length = (size_t)(newline - (console->pending + start));
        submit_line(console, host, console->pending + start, length);
        start += length + 1;
    }
    memmove(console->pending, console->pending + start, console->pending_length - start);
    console->pending_length -= start;
    console->pending[console->pending_length] = '\0';
}

/* 1: got bytes, 0: end of input, -1: stop requested or a read error. */
static int read_some(struct console *console, struct host *host)
{
    struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                            {.fd = lifecycle_wake_fd(), .events = POLLIN}};
    nfds_t count = fds[1].fd >= 0 ? 2 : 1;
    if (poll(fds, count, -1) < 0)
        return errno == EINTR ? 1 : -1; /* the caller re-checks the stop flag */
    if (count == 2 && (fds[1].revents & POLLIN))
        return -1;
    if (fds[0].revents & POLLNVAL)
        return 0; /* stdin closed before we started (jarvis <&-): no input at all */
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
        return 1;
    char chunk[READ_CHUNK];
    ssize_t got = read(STDIN_FILENO, chunk, sizeof chunk);
    if (got < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : -1;
    if (got == 0)
        return 0;
    if (append_pending(console, chunk, (size_t)got) != 0) {
        log_error("stdin: out of memory reading a line");
        return -1;
    }
    submit_complete_lines(console, host);
    return 1;
}

/* End of input: wait for every reply (scripts pipe in a file and expect all
 * answers), but stay interruptible by SIGTERM, after which main's bounded
 * drain takes over. */
static void wait_for_replies(struct console *console, struct host *host)
{
    while (!lifecycle_stop_requested() && (dispatch_drain(host->dispatch, DRAIN_STEP_MS) > 0 ||
                                           pipeline_unhandled(console->pipeline) > 0)) {
    }
}

/* ---- transport interface ---- */

/* Telegram HTML as a terminal shows it: tags dropped, entities decoded. */
static void print_html(FILE *out, const char *text)
{
    static const struct {
        const char *entity;
        char plain;
    } entities[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}};
    for (const char *c = text; *c;) {
        if (*c == '<' && strchr(c, '>') != NULL) {
            c = strchr(c, '>') + 1;
            continue;
        }
        size_t i = 0;
        for (; *c == '&' && i < sizeof entities / sizeof entities[0]; i++)
            if (strncmp(c, entities[i].entity, strlen(entities[i].entity)) == 0)
                break;
        if (*c == '&' && i < sizeof entities / sizeof entities[0]) {
            fputc(entities[i].plain, out);
            c += strlen(entities[i].entity);
            continue;
        }
        fputc(*c++, out);
    }
}

static void forget_buttons(struct console *console)
{
    for (size_t i = 0; i < console->button_count; i++)
        free(console->buttons[i].data);
    console->button_count = 0;
}

/* "[1] 24h  [2] 7d" a row per line; the numbers are what "#N" presses. */
static void print_keyboard(struct console *console, json_t *markup, int64_t message_id)
{
    json_t *rows = json_object_get(markup, "inline_keyboard");
    if (!json_is_array(rows))
        return;
    forget_buttons(console);
    size_t index;
    json_t *row;
    json_array_foreach(rows, index, row)
    {
        size_t column;
        json_t *button;
        json_array_foreach(row, column, button)
        {
            if (console->button_count == BUTTONS_MAX)
                break;
            const char *data = json_string_value(json_object_get(button, "callback_data"));
            const char *url = json_string_value(json_object_get(button, "url"));
            struct console_button *kept = &console->buttons[console->button_count++];
            kept->data = data != NULL ? strdup(data) : NULL;
            kept->message_id = message_id;
            fprintf(stdout, "%s[%zu] %s", column > 0 ? "  " : "", console->button_count,
                    json_string_value(json_object_get(button, "text")));
            if (url != NULL)
                fprintf(stdout, " (%s)", url);
        }
        fputc('\n', stdout);
    }
}

/* A photo or document lands under the state dir; its path is printed. */
static void save_file(struct console *console, const struct outbox_row *row)
{
    const char *state_dir = console->host->config ? console->host->config->state_dir : ".";
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", state_dir, FILES_DIR);
    mkdir(path, 0700);
    const char *base = strrchr(row->file_name, '/');
    snprintf(path, sizeof path, "%s/%s/%lld-%s", state_dir, FILES_DIR, (long long)row->id,
             base != NULL ? base + 1 : row->file_name);
    FILE *file = fopen(path, "wb");
    int written = file != NULL && fwrite(row->file, 1, row->file_length, file) == row->file_length;
    if (file != NULL && fclose(file) != 0)
        written = 0;
    if (written)
        fprintf(stdout, "[%s saved: %s]\n",
                strcmp(row->method, "sendPhoto") == 0 ? "photo" : "document", path);
    else
        fprintf(stdout, "[file not saved: cannot write %s]\n", path);
}

/* Under the output lock: one outbox part as the terminal shows it. */
static void print_row(struct console *console, const struct outbox_row *row)
{
    const char *method = row->method != NULL && row->method[0] ? row->method : "sendMessage";
    json_t *options =
        row->options != NULL && row->options[0] ? json_loads(row->options, 0, NULL) : NULL;
    int html = json_is_string(json_object_get(options, "parse_mode"));
    if (strcmp(method, "answerCallbackQuery") == 0) {
        const char *toast = json_string_value(json_object_get(options, "text"));
        if (toast != NULL && toast[0] != '\0')
            fprintf(stdout, "(%s) %s\n",
                    json_is_true(json_object_get(options, "show_alert")) ? "alert" : "toast",
                    toast);
        json_decref(options);
        return;
    }
    int64_t message_id = row->target != 0 ? row->target : ++console->printed;
    if (row->target != 0)
        fprintf(stdout, "(edited) ");
    if (row->chat_id != CONSOLE_CHAT_ID)
        fprintf(stdout, "[chat %lld] ", (long long)row->chat_id);
    if (row->file != NULL && row->file_length > 0)
        save_file(console, row);
    if (strcmp(method, "editMessageReplyMarkup") != 0 && row->text[0] != '\0') {
        if (html)
            print_html(stdout, row->text);
        else
            fputs(row->text, stdout);
        fputc('\n', stdout);
    }
    print_keyboard(console, json_object_get(options, "reply_markup"), message_id);
    json_decref(options);
}

/* Replies are printed as they are committed, on the worker that handled
 * the line, so they come out in the order of the lines. */
static int print_part(void *context, const struct outbox_row *row)
{
    struct console *console = context;
    pthread_mutex_lock(&console->output_lock);
    print_row(console, row);
    int failed = ferror(stdout);
    int flushed = fflush(stdout);
    pthread_mutex_unlock(&console->output_lock);
    if (failed || flushed != 0)
        return JV_E_IO;
    pipeline_sent(console->pipeline, row);
    return JV_OK;
}

static int64_t read_cursor(struct store *store)
{
    char *value = NULL;
    size_t length = 0;
    int64_t cursor = 0;
    if (store_get(store, CORE_SPACE, CURSOR_KEY, &value, &length) == 0) {
        char *end = NULL;
        long long parsed = strtoll(value, &end, 10);
        if (end != value && parsed > 0)
            cursor = parsed;
    }
    free(value);
    return cursor;
}

/* The console user is whoever runs the process: make it an admin so admin
 * commands can be tried locally. 0, or -1 out of memory. */
static int grant_console_admin(struct config *config)
{
    if (config == NULL || config_is_admin(config, CONSOLE_USER_ID))
        return 0;
    int64_t *admins = realloc(config->admins, (config->admin_count + 1) * sizeof *admins);
    if (admins == NULL)
        return -1;
    admins[config->admin_count++] = CONSOLE_USER_ID;
    config->admins = admins;
    return 0;
}

static void console_adjust_config(struct transport *transport, struct config *config)
{
    (void)transport;
    if (grant_console_admin(config) != 0)
        log_error("console: out of memory; the console user is no admin after this reload");
}

static int console_start(struct transport *transport, struct host *host)
{
    struct console *console = transport->state;
    console->host = host;
    struct pipeline_delivery delivery = {.deliver = print_part, .context = console};
    console->pipeline = pipeline_create(host, &delivery);
    if (console->pipeline == NULL)
        return 1;
    host->pipeline = console->pipeline;
    console->update_id = read_cursor(host->store);
    if (grant_console_admin(host->config) != 0)
        return 1;
    if (dispatch_set_help_note(host->dispatch, "Buttons are shown as [1] [2] ...: type #1 to "
                                               "press the first.") != JV_OK)
        return 1;
    log_info("console mode: one line per message on stdin, replies on stdout");
    return 0;
}

static int console_run(struct transport *transport, struct host *host)
{
    struct console *console = transport->state;
    if (pipeline_recover(console->pipeline) != 0)
        log_error("console: cannot read the inbox and outbox of the last run");
    int status = 1;
    while (!lifecycle_stop_requested() && (status = read_some(console, host)) > 0) {
    }
    if (!lifecycle_stop_requested() && status == 0) {
        if (console->pending_length > 0) /* last line without '\n' */
            submit_line(console, host, console->pending, console->pending_length);
        console->pending_length = 0;
        wait_for_replies(console, host);
    }
    return 0;
}

static const char *console_bot_username(struct transport *transport)
{
    (void)transport;
    return "";
}

static void console_destroy(struct transport *transport)
{
    if (transport == NULL)
        return;
    struct console *console = transport->state;
    if (console->host != NULL && console->host->pipeline == console->pipeline)
        console->host->pipeline = NULL;
    pipeline_destroy(console->pipeline);
    forget_buttons(console);
    pthread_mutex_destroy(&console->output_lock);
    free(console->pending);
    free(console);
    free(transport);
}

struct transport *console_transport_create(void)
{
    struct transport *transport = calloc(1, sizeof *transport);
    struct console *console = calloc(1, sizeof *console);
    if (transport == NULL || console == NULL) {
        free(transport);
        free(console);
        return NULL;
    }
    pthread_mutex_init(&console->output_lock, NULL);
    const char *user = getenv("USER");
    console->user_name = user != NULL && user[0] != '\0' ? user : "console";
    transport->name = "console";
    transport->state = console;
    transport->start = console_start;
    transport->run = console_run;
    transport->bot_username = console_bot_username;
    transport->adjust_config = console_adjust_config;
    transport->destroy = console_destroy;
    return transport;
}
