/* fake_botapi: a fast fake Telegram Bot API for bench/side_by_side.py. One
 * thread, epoll, HTTP/1.1 keep-alive; it injects N /echo or /ping updates over
 * K chats, times each one from injection to its reply and prints a JSON summary.
 *
 * Usage: fake_botapi [--port 0] [--token T] [--count N] [--chats K]
 *                    [--rate R (msg/s, 0 = all at once)] [--command echo|ping]
 *                    [--deadline S] [--result FILE]
 * First stdout line: "PORT <n>". When every update is answered or the deadline
 * passes (counted from /control/start) it prints "RESULT <json>" and keeps
 * serving until SIGTERM or SIGINT.
 *
 * Bot API at /bot<token>/<method>, parameters from the query string, a form
 * body or a JSON body: getMe, getUpdates (offset confirms and drops; limit
 * 1..100; a long poll is held up to timeout; a newer poll ends an older held
 * one with Telegram's 409), sendMessage, setMyCommands, getMyCommands,
 * deleteWebhook, getWebhookInfo, sendChatAction, answerCallbackQuery.
 * Rate limits are not enforced: the bots' own limiters are what is measured.
 * Replies pair with updates by the echoed "m<i>" (or, for /ping, in order per
 * chat, so a second pong shows as unmatched, not as a duplicate); the summary
 * is a snapshot taken when the run ends.
 * Control (no token): /control/start, /control/status, /control/result. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define UPDATE_ID_BASE 100001
#define CHAT_ID_BASE 5000001
#define BOT_ID 777000111
#define MAX_HEADER_BYTES 65536
#define MAX_BODY_BYTES (1 << 20)
#define MAX_PARAMS 24
#define TEXT_LIMIT_UTF16 4096

static const char CONFLICT_POLLER[] =
    "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running";

/* A growable byte string; every buffer of the server is one. */
typedef struct {
    char *data;
    size_t length;
    size_t capacity;
} text_buffer;

typedef struct {
    int fd;
    text_buffer in;
    text_buffer out;
    bool sent_continue;
    bool close_after_write;
    bool watching_out;      /* EPOLLOUT is in the connection's epoll interest */
    bool polling;           /* a getUpdates held open */
    int64_t poll_deadline_ns;
    int poll_limit;
} connection;

typedef struct {
    char key[32];
    char *value;
} parameter;

typedef struct {
    parameter items[MAX_PARAMS];
    int count;
} parameter_list;

static const char *const METHOD_NAMES[] = {
    "getMe", "getUpdates", "sendMessage", "setMyCommands", "getMyCommands",
    "deleteWebhook", "getWebhookInfo", "sendChatAction", "answerCallbackQuery", "other",
};
#define METHOD_COUNT (sizeof METHOD_NAMES / sizeof METHOD_NAMES[0])

/* The run: what is injected, what came back, and the counters of the summary. */
static struct {
    const char *token;
    long count;
    long chats;
    double rate;
    bool ping;
    double deadline_s;
    const char *result_path;

    bool started;
    bool done;
    int64_t start_ns;
    long injected;
    long confirmed;         /* index of the first unconfirmed update */
    int64_t *inject_ns;
    int64_t *reply_ns;
    uint32_t *deliveries;
    long *ping_replies;     /* per chat: pongs seen so far, to pair them in order */
    long answered;
    long replies;
    long duplicates;
    long unmatched;
    long redeliveries;
    long polls;
    long overlaps;
    int64_t last_reply_ns;
    long next_bot_message_id;
    long calls[METHOD_COUNT];
    char *commands_json;
    char *summary;
    text_buffer unmatched_examples; /* the first few, as JSON, to tell why */
    int unmatched_shown;
} run;

static connection **connections; /* indexed by fd */
static int connection_slots;
static int epoll_fd;
static volatile sig_atomic_t stop_requested;

static int64_t now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "fake_botapi: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void buffer_reserve(text_buffer *buffer, size_t extra)
{
    if (buffer->length + extra + 1 <= buffer->capacity)
        return;
    size_t capacity = buffer->capacity ? buffer->capacity : 4096;
    while (capacity < buffer->length + extra + 1)
        capacity *= 2;
    char *grown = realloc(buffer->data, capacity);
    if (!grown)
        die("out of memory");
    buffer->data = grown;
    buffer->capacity = capacity;
}

static void buffer_append(text_buffer *buffer, const char *data, size_t length)
{
    buffer_reserve(buffer, length);
    memcpy(buffer->data + buffer->length, data, length);
    buffer->length += length;
    buffer->data[buffer->length] = '\0';
}

static void buffer_printf(text_buffer *buffer, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void buffer_printf(text_buffer *buffer, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    va_list copy;
    va_copy(copy, arguments);
    int needed = vsnprintf(NULL, 0, format, copy);
    va_end(copy);
    buffer_reserve(buffer, (size_t)needed);
    vsnprintf(buffer->data + buffer->length, (size_t)needed + 1, format, arguments);
    buffer->length += (size_t)needed;
    va_end(arguments);
}

static void buffer_puts(text_buffer *buffer, const char *text)
{
    buffer_append(buffer, text, strlen(text));
}

static void buffer_consume(text_buffer *buffer, size_t length)
{
    memmove(buffer->data, buffer->data + length, buffer->length - length);
    buffer->length -= length;
    if (buffer->data)
        buffer->data[buffer->length] = '\0';
}

/* Appends text as a JSON string (quotes included); UTF-8 passes through. */
static void buffer_json_string(text_buffer *buffer, const char *text)
{
    buffer_append(buffer, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '"' || *c == '\\') {
            char escaped[2] = {'\\', (char)*c};
            buffer_append(buffer, escaped, 2);
        } else if (*c < 0x20) {
            buffer_printf(buffer, "\\u%04x", *c);
        } else {
            buffer_append(buffer, (const char *)c, 1);
        }
    }
    buffer_append(buffer, "\"", 1);
}

/* ---- parameters: query string, form body, JSON body ---- */

static void parameters_free(parameter_list *list)
{
    for (int i = 0; i < list->count; i++)
        free(list->items[i].value);
    list->count = 0;
}

static void parameters_put(parameter_list *list, const char *key, size_t key_length,
                           char *value)
{
    if (key_length >= sizeof list->items[0].key || list->count == MAX_PARAMS) {
        free(value);
        return;
    }
    for (int i = 0; i < list->count; i++) {
        if (strlen(list->items[i].key) == key_length &&
            memcmp(list->items[i].key, key, key_length) == 0) {
            free(list->items[i].value); /* the later value wins, as in Telegram */
            list->items[i].value = value;
            return;
        }
    }
    memcpy(list->items[list->count].key, key, key_length);
    list->items[list->count].key[key_length] = '\0';
    list->items[list->count].value = value;
    list->count++;
}

static const char *parameters_get(const parameter_list *list, const char *key)
{
    for (int i = 0; i < list->count; i++)
        if (strcmp(list->items[i].key, key) == 0)
            return list->items[i].value;
    return NULL;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static char *url_decode(const char *text, size_t length)
{
    char *decoded = malloc(length + 1);
    if (!decoded)
        die("out of memory");
    size_t out = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] == '+') {
            decoded[out++] = ' ';
        } else if (text[i] == '%' && i + 2 < length && hex_value(text[i + 1]) >= 0 &&
                   hex_value(text[i + 2]) >= 0) {
            decoded[out++] = (char)(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            decoded[out++] = text[i];
        }
    }
    decoded[out] = '\0';
    return decoded;
}

static void parse_urlencoded(const char *text, size_t length, parameter_list *list)
{
    const char *end = text + length;
    while (text < end) {
        const char *pair_end = memchr(text, '&', (size_t)(end - text));
        if (!pair_end)
            pair_end = end;
        const char *equals = memchr(text, '=', (size_t)(pair_end - text));
        const char *key_end = equals ? equals : pair_end;
        char *key = url_decode(text, (size_t)(key_end - text));
        char *value = equals ? url_decode(equals + 1, (size_t)(pair_end - equals - 1))
                             : url_decode("", 0);
        parameters_put(list, key, strlen(key), value);
        free(key);
        text = pair_end + 1;
    }
}

static const char *skip_space(const char *c, const char *end)
{
    while (c < end && (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r'))
        c++;
    return c;
}

static void put_utf8(text_buffer *out, uint32_t code)
{
    char bytes[4];
    size_t length;
    if (code < 0x80) {
        bytes[0] = (char)code;
        length = 1;
    } else if (code < 0x800) {
        bytes[0] = (char)(0xC0 | (code >> 6));
        bytes[1] = (char)(0x80 | (code & 0x3F));
        length = 2;
    } else if (code < 0x10000) {
        bytes[0] = (char)(0xE0 | (code >> 12));
        bytes[1] = (char)(0x80 | ((code >> 6) & 0x3F));
        bytes[2] = (char)(0x80 | (code & 0x3F));
        length = 3;
    } else {
        bytes[0] = (char)(0xF0 | (code >> 18));
        bytes[1] = (char)(0x80 | ((code >> 12) & 0x3F));
        bytes[2] = (char)(0x80 | ((code >> 6) & 0x3F));
        bytes[3] = (char)(0x80 | (code & 0x3F));
        length = 4;
    }
    buffer_append(out, bytes, length);
}

static bool read_hex4(const char *c, const char *end, uint32_t *code)
{
    if (end - c < 4)
        return false;
    *code = 0;
    for (int i = 0; i < 4; i++) {
        int digit = hex_value(c[i]);
        if (digit < 0)
            return false;
        *code = *code * 16 + (uint32_t)digit;
    }
    return true;
}

/* Decodes the JSON string starting after its opening quote; returns the
 * position after the closing quote, or NULL when it is malformed. */
static const char *json_string(const char *c, const char *end, text_buffer *out)
{
    while (c < end && *c != '"') {
        if (*c != '\\') {
            buffer_append(out, c++, 1);
            continue;
        }
        if (++c >= end)
            return NULL;
        char escape = *c++;
        const char *simple = strchr("\"\\/bfnrt", escape);
        if (simple && escape) {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            buffer_append(out, &decoded[simple - "\"\\/bfnrt"], 1);
            continue;
        }
        uint32_t code;
        if (escape != 'u' || !read_hex4(c, end, &code))
            return NULL;
        c += 4;
        uint32_t low;
        if (code >= 0xD800 && code < 0xDC00 && end - c >= 6 && c[0] == '\\' && c[1] == 'u' &&
            read_hex4(c + 2, end, &low) && low >= 0xDC00 && low < 0xE000) {
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            c += 6;
        }
        put_utf8(out, code);
    }
    return c < end ? c + 1 : NULL;
}

/* Skips one object or array (strings inside may hold brackets). */
static const char *json_skip_composite(const char *c, const char *end)
{
    int depth = 0;
    for (; c < end; c++) {
        if (*c == '"') {
            for (c++; c < end && *c != '"'; c++)
                if (*c == '\\')
                    c++;
        } else if (*c == '{' || *c == '[') {
            depth++;
        } else if (*c == '}' || *c == ']') {
            if (--depth == 0)
                return c + 1;
        }
    }
    return NULL;
}

/* Top-level members of a JSON object; nested values are kept as raw JSON
 * text (commands arrays), strings decoded, scalars as written. */
static bool parse_json_object(const char *c, size_t length, parameter_list *list)
{
    const char *end = c + length;
    c = skip_space(c, end);
    if (c >= end || *c++ != '{')
        return false;
    for (;;) {
        c = skip_space(c, end);
        if (c < end && *c == '}')
            return true;
        if (c >= end || *c++ != '"')
            return false;
        text_buffer key = {0};
        c = json_string(c, end, &key);
        c = c ? skip_space(c, end) : NULL;
        if (!c || c >= end || *c++ != ':') {
            free(key.data);
            return false;
        }
        c = skip_space(c, end);
        text_buffer value = {0};
        const char *value_end = NULL;
        if (c < end && *c == '"') {
            value_end = json_string(c + 1, end, &value);
        } else if (c < end && (*c == '{' || *c == '[')) {
            value_end = json_skip_composite(c, end);
            if (value_end)
                buffer_append(&value, c, (size_t)(value_end - c));
        } else {
            value_end = c;
            while (value_end < end && !strchr(",} \t\r\n", *value_end))
                value_end++;
            buffer_append(&value, c, (size_t)(value_end - c));
        }
        if (!value_end || !key.data) {
            free(key.data);
            free(value.data);
            return false;
        }
        if (!value.data)
            buffer_append(&value, "", 0);
        parameters_put(list, key.data, key.length, value.data);
        free(key.data);
        c = skip_space(value_end, end);
        if (c < end && *c == ',') {
            c++;
            continue;
        }
        return c < end && *c == '}';
    }
}

static bool parse_int64(const char *text, int64_t *value)
{
    if (!text || !*text)
        return false;
    char *end;
    errno = 0;
    long long parsed = strtoll(text, &end, 10);
    if (errno || *end)
        return false;
    *value = parsed;
    return true;
}

/* ---- responses ---- */

static void respond(connection *conn, int status, const char *body, size_t length)
{
    const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request"
                       : status == 401 ? "Unauthorized" : status == 404 ? "Not Found"
                       : status == 409 ? "Conflict" : "Error";
    buffer_printf(&conn->out,
                  "HTTP/1.1 %d %s\r\nServer: nginx/1.18.0\r\nContent-Type: application/json\r\n"
                  "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
                  status, reason, length, conn->close_after_write ? "close" : "keep-alive");
    buffer_append(&conn->out, body, length);
}

static void respond_error(connection *conn, int code, const char *description)
{
    text_buffer body = {0};
    buffer_printf(&body, "{\"ok\":false,\"error_code\":%d,\"description\":", code);
    buffer_json_string(&body, description);
    buffer_append(&body, "}", 1);
    respond(conn, code, body.data, body.length);
    free(body.data);
}

static void respond_result(connection *conn, const char *result_json)
{
    text_buffer body = {0};
    buffer_printf(&body, "{\"ok\":true,\"result\":%s}", result_json);
    respond(conn, 200, body.data, body.length);
    free(body.data);
}

static void append_bot_user(text_buffer *out)
{
    buffer_printf(out, "{\"id\":%d,\"is_bot\":true,\"first_name\":\"Bench\","
                       "\"username\":\"BenchJarvisBot\"", BOT_ID);
}

static void append_update(text_buffer *out, long index)
{
    long chat = index % run.chats;
    long long chat_id = CHAT_ID_BASE + chat;
    long date = (long)time(NULL);
    char text[48];
    if (run.ping)
        snprintf(text, sizeof text, "/ping");
    else
        snprintf(text, sizeof text, "/echo m%ld", index);
    buffer_printf(out,
                  "{\"update_id\":%ld,\"message\":{\"message_id\":%ld,"
                  "\"from\":{\"id\":%lld,\"is_bot\":false,\"first_name\":\"User\","
                  "\"username\":\"user%ld\",\"language_code\":\"en\"},"
                  "\"chat\":{\"id\":%lld,\"first_name\":\"User\",\"username\":\"user%ld\","
                  "\"type\":\"private\"},\"date\":%ld,\"text\":\"%s\","
                  "\"entities\":[{\"offset\":0,\"length\":%d,\"type\":\"bot_command\"}]}}",
                  UPDATE_ID_BASE + index, index + 1, chat_id, chat, chat_id, chat, date, text,
                  5 /* "/echo" and "/ping" */);
}

/* Answers a held or new getUpdates with what is pending, at most limit. */
static void answer_poll(connection *conn, int limit)
{
    text_buffer body = {0};
    buffer_append(&body, "{\"ok\":true,\"result\":[", 21);
    long end = run.confirmed + limit < run.injected ? run.confirmed + limit : run.injected;
    for (long index = run.confirmed; index < end; index++) {
        if (index > run.confirmed)
            buffer_append(&body, ",", 1);
        if (run.deliveries[index]++ > 0)
            run.redeliveries++;
        append_update(&body, index);
    }
    buffer_append(&body, "]}", 2);
    respond(conn, 200, body.data, body.length);
    free(body.data);
    conn->polling = false;
}

static void flush_connection(connection *conn);
static void serve(connection *conn);

static void end_older_polls(connection *newer)
{
    for (int fd = 0; fd < connection_slots; fd++) {
        connection *older = connections[fd];
        if (!older || older == newer || !older->polling)
            continue;
        older->polling = false;
        run.overlaps++;
        respond_error(older, 409, CONFLICT_POLLER);
        flush_connection(older);
    }
}

static void api_get_updates(connection *conn, const parameter_list *params)
{
    int64_t offset = 0, limit = 100, timeout = 0;
    const char *text;
    if (((text = parameters_get(params, "offset")) && !parse_int64(text, &offset)) ||
        ((text = parameters_get(params, "limit")) && !parse_int64(text, &limit)) ||
        ((text = parameters_get(params, "timeout")) && !parse_int64(text, &timeout)))
        return respond_error(conn, 400, "Bad Request: wrong parameter value");
    limit = limit < 1 ? 1 : limit > 100 ? 100 : limit;
    run.polls++;
    end_older_polls(conn);
    if (offset > 0) {
        int64_t below = offset - UPDATE_ID_BASE;
        if (below > run.injected)
            below = run.injected;
        if (below > run.confirmed)
            run.confirmed = (long)below;
    } else if (offset < 0 && -offset < run.injected - run.confirmed) {
        run.confirmed = (long)(run.injected + offset); /* keeps the last -offset */
    }
    if (run.injected > run.confirmed || timeout <= 0)
        return answer_poll(conn, (int)limit);
    conn->polling = true;
    conn->poll_limit = (int)limit;
    conn->poll_deadline_ns = now_ns() + timeout * 1000000000LL;
}

static size_t utf16_length(const char *text)
{
    size_t units = 0;
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if ((*c & 0xC0) != 0x80)
            units++;
        if (*c >= 0xF0)
            units++; /* a 4-byte sequence is a surrogate pair */
    }
    return units;
}

static void finish_run(void);

static void count_unmatched(int64_t chat_id, const char *text)
{
    run.unmatched++;
    if (run.unmatched_shown == 3)
        return;
    buffer_printf(&run.unmatched_examples, "%s{\"chat_id\":%" PRId64 ",\"text\":",
                  run.unmatched_shown++ ? "," : "", chat_id);
    buffer_json_string(&run.unmatched_examples, text);
    buffer_append(&run.unmatched_examples, "}", 1);
}

/* Pairs a reply with the update it answers: /echo m<i> comes back as m<i>;
 * pongs pair with the chat's pings in order. */
static void record_reply(int64_t chat_id, const char *text)
{
    int64_t now = now_ns();
    run.replies++;
    long chat = (long)(chat_id - CHAT_ID_BASE);
    long index = -1;
    if (chat < 0 || chat >= run.chats || !run.started)
        return count_unmatched(chat_id, text);
    if (run.ping) {
        if (strcmp(text, "pong") == 0)
            index = chat + run.ping_replies[chat]++ * run.chats;
    } else if (text[0] == 'm') {
        char *end;
        long parsed = strtol(text + 1, &end, 10);
        if (*end == '\0' && end != text + 1 && parsed >= 0 && parsed % run.chats == chat)
            index = parsed;
    }
    if (index < 0 || index >= run.injected)
        return count_unmatched(chat_id, text);
    if (run.reply_ns[index]) {
        run.duplicates++;
        return;
    }
    run.reply_ns[index] = now;
    run.last_reply_ns = now;
    if (++run.answered == run.count)
        finish_run();
}

static void api_send_message(connection *conn, const parameter_list *params)
{
    const char *chat_text = parameters_get(params, "chat_id");
    const char *text = parameters_get(params, "text");
    int64_t chat_id;
    if (!chat_text || !*chat_text)
        return respond_error(conn, 400, "Bad Request: chat_id is empty");
    if (!text || !*text)
        return respond_error(conn, 400, "Bad Request: message text is empty");
    if (!parse_int64(chat_text, &chat_id))
        return respond_error(conn, 400, "Bad Request: chat not found");
    if (utf16_length(text) > TEXT_LIMIT_UTF16)
        return respond_error(conn, 400, "Bad Request: message is too long");
    record_reply(chat_id, text);
    text_buffer result = {0};
    buffer_printf(&result, "{\"message_id\":%ld,\"from\":", run.next_bot_message_id++);
    append_bot_user(&result);
    buffer_printf(&result, "},\"chat\":{\"id\":%" PRId64 ",\"first_name\":\"User\","
                           "\"type\":\"private\"},\"date\":%ld,\"text\":",
                  chat_id, (long)time(NULL));
    buffer_json_string(&result, text);
    buffer_append(&result, "}", 1);
    respond_result(conn, result.data);
    free(result.data);
}

static void api_set_my_commands(connection *conn, const parameter_list *params)
{
    const char *commands = parameters_get(params, "commands");
    const char *start = commands;
    while (start && isspace((unsigned char)*start))
        start++;
    if (!start || *start != '[')
        return respond_error(conn, 400, "Bad Request: field \"commands\" must be an Array");
    free(run.commands_json);
    run.commands_json = strdup(start);
    respond_result(conn, "true");
}

static void api_webhook_info(connection *conn)
{
    char result[160];
    snprintf(result, sizeof result,
             "{\"url\":\"\",\"has_custom_certificate\":false,\"pending_update_count\":%ld}",
             run.injected - run.confirmed);
    respond_result(conn, result);
}

static void count_call(const char *method)
{
    size_t i = 0;
    while (i + 1 < METHOD_COUNT && strcmp(METHOD_NAMES[i], method) != 0)
        i++;
    run.calls[i]++;
}

static void bot_api(connection *conn, const char *method, const parameter_list *params)
{
    count_call(method);
    if (strcmp(method, "getUpdates") == 0)
        return api_get_updates(conn, params);
    if (strcmp(method, "sendMessage") == 0)
        return api_send_message(conn, params);
    if (strcmp(method, "getMe") == 0) {
        text_buffer user = {0};
        append_bot_user(&user);
        buffer_puts(&user, ",\"can_join_groups\":true,\"can_read_all_group_messages\":false,"
                           "\"supports_inline_queries\":false}");
        respond_result(conn, user.data);
        free(user.data);
        return;
    }
    if (strcmp(method, "setMyCommands") == 0)
        return api_set_my_commands(conn, params);
    if (strcmp(method, "getMyCommands") == 0)
        return respond_result(conn, run.commands_json ? run.commands_json : "[]");
    if (strcmp(method, "getWebhookInfo") == 0)
        return api_webhook_info(conn);
    if (strcmp(method, "deleteWebhook") == 0 || strcmp(method, "sendChatAction") == 0 ||
        strcmp(method, "answerCallbackQuery") == 0)
        return respond_result(conn, "true");
    respond_error(conn, 404, "Not Found");
}

/* ---- the run: injection, summary ---- */

static int compare_int64(const void *a, const void *b)
{
    int64_t left = *(const int64_t *)a, right = *(const int64_t *)b;
    return (left > right) - (left < right);
}

static double percentile_ms(const int64_t *sorted, long count, double fraction)
{
    if (count == 0)
        return 0;
    long rank = (long)(fraction * (double)count + 0.999999) - 1; /* nearest rank */
    rank = rank < 0 ? 0 : rank >= count ? count - 1 : rank;
    return (double)sorted[rank] / 1e6;
}

static char *build_summary(void)
{
    int64_t *latencies = malloc(sizeof *latencies * (size_t)(run.answered + 1));
    if (!latencies)
        die("out of memory");
    long answered = 0;
    double total_ms = 0;
    for (long i = 0; i < run.injected; i++) {
        if (!run.reply_ns[i])
            continue;
        latencies[answered] = run.reply_ns[i] - run.inject_ns[i];
        total_ms += (double)latencies[answered++] / 1e6;
    }
    qsort(latencies, (size_t)answered, sizeof *latencies, compare_int64);
    double elapsed_s = run.last_reply_ns > run.start_ns
                           ? (double)(run.last_reply_ns - run.start_ns) / 1e9 : 0;
    text_buffer out = {0};
    buffer_printf(&out,
                  "{\"count\":%ld,\"chats\":%ld,\"rate\":%g,\"command\":\"%s\","
                  "\"complete\":%s,\"injected\":%ld,\"answered\":%ld,\"replies\":%ld,"
                  "\"duplicates\":%ld,\"unmatched\":%ld,\"redeliveries\":%ld,\"polls\":%ld,"
                  "\"overlaps\":%ld,\"elapsed_s\":%.4f,\"replies_per_s\":%.1f,"
                  "\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f,"
                  "\"mean\":%.3f},\"calls\":{",
                  run.count, run.chats, run.rate, run.ping ? "ping" : "echo",
                  run.answered == run.count ? "true" : "false", run.injected, answered,
                  run.replies, run.duplicates, run.unmatched, run.redeliveries, run.polls,
                  run.overlaps, elapsed_s, elapsed_s > 0 ? (double)answered / elapsed_s : 0,
                  percentile_ms(latencies, answered, 0.50),
                  percentile_ms(latencies, answered, 0.90),
                  percentile_ms(latencies, answered, 0.99),
                  percentile_ms(latencies, answered, 1.0),
                  answered ? total_ms / (double)answered : 0);
    for (size_t i = 0; i < METHOD_COUNT; i++)
        buffer_printf(&out, "%s\"%s\":%ld", i ? "," : "", METHOD_NAMES[i], run.calls[i]);
    buffer_printf(&out, "},\"unmatched_examples\":[%s]}",
                  run.unmatched_examples.data ? run.unmatched_examples.data : "");
    free(latencies);
    return out.data;
}

static void finish_run(void)
{
    if (run.done)
        return;
    run.done = true;
    run.summary = build_summary();
    printf("RESULT %s\n", run.summary);
    fflush(stdout);
    if (!run.result_path)
        return;
    FILE *file = fopen(run.result_path, "w");
    if (!file) {
        fprintf(stderr, "fake_botapi: %s: %s\n", run.result_path, strerror(errno));
        return;
    }
    fprintf(file, "%s\n", run.summary);
    fclose(file);
}

static void wake_polls(void)
{
    if (run.injected <= run.confirmed)
        return;
    for (int fd = 0; fd < connection_slots; fd++) {
        connection *conn = connections[fd];
        if (conn && conn->polling) {
            answer_poll(conn, conn->poll_limit);
            serve(conn);
        }
    }
}

/* Injects what is due by now; returns ms until the next injection (-1: none). */
static int inject_due(int64_t now)
{
    if (!run.started || run.done || run.injected == run.count)
        return -1;
    long due = run.count;
    if (run.rate > 0) {
        due = (long)((double)(now - run.start_ns) * run.rate / 1e9) + 1;
        due = due > run.count ? run.count : due;
    }
    for (; run.injected < due; run.injected++)
        run.inject_ns[run.injected] = now;
    wake_polls();
    if (run.injected == run.count)
        return -1;
    int64_t next_ns = run.start_ns + (int64_t)((double)run.injected * 1e9 / run.rate);
    return next_ns > now ? (int)((next_ns - now + 999999) / 1000000) : 0;
}

static void start_run(void)
{
    if (run.started)
        return;
    run.started = true;
    run.start_ns = now_ns();
    if (run.count == 0)
        finish_run();
}

static void control_api(connection *conn, const char *name)
{
    if (strcmp(name, "start") == 0) {
        start_run();
        inject_due(now_ns());
        return respond(conn, 200, "{\"ok\":true}", 11);
    }
    if (strcmp(name, "status") == 0) {
        char status[320];
        int length = snprintf(status, sizeof status,
                              "{\"started\":%s,\"done\":%s,\"polls\":%ld,\"injected\":%ld,"
                              "\"answered\":%ld,\"replies\":%ld,\"calls_getMe\":%ld}",
                              run.started ? "true" : "false", run.done ? "true" : "false",
                              run.polls, run.injected, run.answered, run.replies, run.calls[0]);
        return respond(conn, 200, status, (size_t)length);
    }
    if (strcmp(name, "result") == 0) {
        char *summary = run.summary ? run.summary : build_summary();
        respond(conn, 200, summary, strlen(summary));
        if (summary != run.summary)
            free(summary);
        return;
    }
    respond(conn, 404, "{\"error\":\"unknown control\"}", 27);
}

/* ---- HTTP/1.1 ---- */

static const char *header_value(const char *headers, const char *name, size_t *length)
{
    size_t name_length = strlen(name);
    for (const char *line = strstr(headers, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, name_length) == 0 && line[name_length] == ':') {
            const char *value = line + name_length + 1;
            while (*value == ' ' || *value == '\t')
                value++;
            const char *end = strstr(value, "\r\n");
            *length = end ? (size_t)(end - value) : strlen(value);
            return value;
        }
    }
    return NULL;
}

/* Decodes a chunked body; returns bytes of input used, 0 if incomplete, -1 bad. */
static long dechunk(const char *data, size_t length, text_buffer *body)
{
    size_t at = 0;
    for (;;) {
        const char *line_end = memmem(data + at, length - at, "\r\n", 2);
        if (!line_end)
            return 0;
        char *size_end;
        unsigned long size = strtoul(data + at, &size_end, 16);
        if (size_end == data + at || size > MAX_BODY_BYTES)
            return -1;
        at = (size_t)(line_end - data) + 2;
        if (size == 0) {
            const char *trailer_end = memmem(data + at - 2, length - at + 2, "\r\n\r\n", 4);
            return trailer_end ? (long)(trailer_end - data) + 4 : 0;
        }
        if (length - at < size + 2)
            return 0;
        buffer_append(body, data + at, size);
        at += size + 2;
    }
}

static void route(connection *conn, const char *target, const char *content_type,
                  size_t type_length, const char *body, size_t body_length)
{
    const char *query = strchr(target, '?');
    size_t path_length = query ? (size_t)(query - target) : strlen(target);
    if (path_length > 9 && strncmp(target, "/control/", 9) == 0) {
        char name[32] = {0};
        memcpy(name, target + 9, path_length - 9 < 31 ? path_length - 9 : 31);
        return control_api(conn, name);
    }
    size_t token_length = strlen(run.token);
    if (path_length < 5 || strncmp(target, "/bot", 4) != 0)
        return respond_error(conn, 404, "Not Found");
    const char *slash = memchr(target + 4, '/', path_length - 4);
    if (!slash)
        return respond_error(conn, 404, "Not Found");
    if ((size_t)(slash - target - 4) != token_length ||
        strncmp(target + 4, run.token, token_length) != 0)
        return respond_error(conn, 401, "Unauthorized");
    char method[64] = {0};
    size_t method_length = path_length - (size_t)(slash + 1 - target);
    memcpy(method, slash + 1, method_length < 63 ? method_length : 63);
    parameter_list params = {.count = 0};
    if (query)
        parse_urlencoded(query + 1, strlen(query + 1), &params);
    bool parsed = true;
    if (body_length && type_length >= 16 && strncasecmp(content_type, "application/json", 16) == 0)
        parsed = parse_json_object(body, body_length, &params);
    else if (body_length && type_length >= 33 &&
             strncasecmp(content_type, "application/x-www-form-urlencoded", 33) == 0)
        parse_urlencoded(body, body_length, &params);
    if (parsed)
        bot_api(conn, method, &params);
    else
        respond_error(conn, 400, "Bad Request: can't parse JSON");
    parameters_free(&params);
}

/* Handles the first complete request in conn->in; false when there is none yet. */
static bool handle_request(connection *conn)
{
    char *header_end = memmem(conn->in.data, conn->in.length, "\r\n\r\n", 4);
    if (!header_end) {
        if (conn->in.length > MAX_HEADER_BYTES)
            conn->close_after_write = true;
        return false;
    }
    size_t header_length = (size_t)(header_end - conn->in.data) + 4;
    *header_end = '\0';
    const char *headers = conn->in.data;
    size_t length;
    const char *value;
    bool chunked = (value = header_value(headers, "Transfer-Encoding", &length)) &&
                   length >= 7 && strncasecmp(value, "chunked", 7) == 0;
    size_t content_length = 0;
    if ((value = header_value(headers, "Content-Length", &length)))
        content_length = strtoul(value, NULL, 10);
    text_buffer body = {0};
    size_t used;
    if (chunked) {
        long consumed = dechunk(header_end + 4, conn->in.length - header_length, &body);
        if (consumed < 0)
            conn->close_after_write = true;
        used = consumed > 0 ? header_length + (size_t)consumed : 0;
    } else {
        if (content_length > MAX_BODY_BYTES)
            conn->close_after_write = true;
        used = conn->in.length - header_length >= content_length ? header_length + content_length : 0;
        if (used)
            buffer_append(&body, header_end + 4, content_length);
    }
    if (conn->close_after_write) {
        *header_end = '\r';
        free(body.data);
        respond_error(conn, 400, "Bad Request: request too large or malformed");
        return false;
    }
    if (!used) {
        bool expects_continue = header_value(headers, "Expect", &length) != NULL;
        *header_end = '\r';
        if (!conn->sent_continue && expects_continue) {
            buffer_append(&conn->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
            conn->sent_continue = true;
        }
        free(body.data);
        return false;
    }
    conn->sent_continue = false;
    if ((value = header_value(headers, "Connection", &length)) && length >= 5 &&
        strncasecmp(value, "close", 5) == 0)
        conn->close_after_write = true;
    char target[2048] = {0};
    const char *space = strchr(headers, ' ');
    const char *target_end = space ? strchr(space + 1, ' ') : NULL;
    if (target_end && (size_t)(target_end - space - 1) < sizeof target)
        memcpy(target, space + 1, (size_t)(target_end - space - 1));
    const char *content_type = header_value(headers, "Content-Type", &length);
    route(conn, target, content_type ? content_type : "", content_type ? length : 0,
          body.data ? body.data : "", body.length);
    free(body.data);
    buffer_consume(&conn->in, used);
    return true;
}

static void close_connection(connection *conn)
{
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, conn->fd, NULL);
    close(conn->fd);
    connections[conn->fd] = NULL;
    free(conn->in.data);
    free(conn->out.data);
    free(conn);
}

/* Writes what is buffered; waits for EPOLLOUT when the socket is full. */
static void flush_connection(connection *conn)
{
    while (conn->out.length) {
        ssize_t written = send(conn->fd, conn->out.data, conn->out.length, MSG_NOSIGNAL);
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (written <= 0) {
            close_connection(conn);
            return;
        }
        buffer_consume(&conn->out, (size_t)written);
    }
    /* the interest changes only when a write is left over or done with: an
     * epoll_ctl a request would be a third more syscalls for the fake */
    bool want_out = conn->out.length > 0;
    if (want_out != conn->watching_out) {
        struct epoll_event event = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0),
                                    .data.fd = conn->fd};
        epoll_ctl(epoll_fd, EPOLL_CTL_MOD, conn->fd, &event);
        conn->watching_out = want_out;
    }
    if (!conn->out.length && conn->close_after_write)
        close_connection(conn);
}

static void read_connection(connection *conn)
{
    char chunk[65536];
    for (;;) {
        ssize_t got = recv(conn->fd, chunk, sizeof chunk, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (got <= 0) {
            close_connection(conn);
            return;
        }
        buffer_append(&conn->in, chunk, (size_t)got);
        /* a short read drained the socket: epoll (level-triggered) says
         * when more comes, without a recv that answers EAGAIN first */
        if ((size_t)got < sizeof chunk)
            break;
    }
    serve(conn);
}

/* Handles every complete request buffered (a held poll stops the line), then writes. */
static void serve(connection *conn)
{
    while (!conn->polling && !conn->close_after_write && conn->in.length && handle_request(conn))
        ;
    flush_connection(conn);
}

static void accept_connections(int listen_fd)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (fd >= connection_slots) {
            int slots = fd * 2 + 16;
            connections = realloc(connections, sizeof *connections * (size_t)slots);
            if (!connections)
                die("out of memory");
            memset(connections + connection_slots, 0,
                   sizeof *connections * (size_t)(slots - connection_slots));
            connection_slots = slots;
        }
        connection *conn = calloc(1, sizeof *conn);
        if (!conn)
            die("out of memory");
        conn->fd = fd;
        connections[fd] = conn;
        struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
    }
}

/* Ends held polls whose timeout passed; returns ms until the next one (-1: none). */
static int expire_polls(int64_t now)
{
    int64_t next = -1;
    for (int fd = 0; fd < connection_slots; fd++) {
        connection *conn = connections[fd];
        if (!conn || !conn->polling)
            continue;
        if (conn->poll_deadline_ns <= now) {
            answer_poll(conn, conn->poll_limit);
            serve(conn);
        } else if (next < 0 || conn->poll_deadline_ns - now < next) {
            next = conn->poll_deadline_ns - now;
        }
    }
    return next < 0 ? -1 : (int)((next + 999999) / 1000000);
}

static int earliest(int a, int b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

/* Ms until the deadline, or -1; finishes the run when it has passed. */
static int check_deadline(int64_t now)
{
    if (!run.started || run.done || run.deadline_s <= 0)
        return -1;
    int64_t deadline = run.start_ns + (int64_t)(run.deadline_s * 1e9);
    if (now >= deadline) {
        finish_run();
        return -1;
    }
    return (int)((deadline - now + 999999) / 1000000);
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0)
        die("bind 127.0.0.1");
    if (listen(fd, 512) < 0)
        die("listen");
    socklen_t size = sizeof address;
    getsockname(fd, (struct sockaddr *)&address, &size);
    printf("PORT %d\n", ntohs(address.sin_port));
    fflush(stdout);
    return fd;
}

static void on_stop_signal(int signal_number)
{
    (void)signal_number;
    stop_requested = 1;
}

static void usage_error(const char *message, const char *value)
{
    fprintf(stderr, "fake_botapi: %s (found '%s')\n", message, value ? value : "");
    exit(2);
}

static int parse_arguments(int argc, char **argv)
{
    int port = 0;
    run.token = "123456789:AAbenchBENCHbenchBENCHbenchBENCH12345";
    run.chats = 1;
    run.deadline_s = 0;
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value)
            usage_error("option needs a value", name);
        i++;
        char *end;
        if (strcmp(name, "--port") == 0)
            port = (int)strtol(value, &end, 10);
        else if (strcmp(name, "--token") == 0)
            run.token = value, end = "";
        else if (strcmp(name, "--count") == 0)
            run.count = strtol(value, &end, 10);
        else if (strcmp(name, "--chats") == 0)
            run.chats = strtol(value, &end, 10);
        else if (strcmp(name, "--rate") == 0)
            run.rate = strtod(value, &end);
        else if (strcmp(name, "--deadline") == 0)
            run.deadline_s = strtod(value, &end);
        else if (strcmp(name, "--result") == 0)
            run.result_path = value, end = "";
        else if (strcmp(name, "--command") == 0) {
            if (strcmp(value, "echo") != 0 && strcmp(value, "ping") != 0)
                usage_error("--command must be echo or ping", value);
            run.ping = strcmp(value, "ping") == 0;
            end = "";
        } else
            usage_error("unknown option", name);
        if (*end)
            usage_error("option value is not a number", value);
    }
    if (run.count < 0 || run.chats < 1 || run.rate < 0 || port < 0 || port > 65535)
        usage_error("--count >= 0, --chats >= 1, --rate >= 0, --port 0..65535", "");
    return port;
}

int main(int argc, char **argv)
{
    int port = parse_arguments(argc, argv);
    size_t slots = (size_t)run.count + 1;
    run.inject_ns = calloc(slots, sizeof *run.inject_ns);
    run.reply_ns = calloc(slots, sizeof *run.reply_ns);
    run.deliveries = calloc(slots, sizeof *run.deliveries);
    run.ping_replies = calloc((size_t)run.chats, sizeof *run.ping_replies);
    if (!run.inject_ns || !run.reply_ns || !run.deliveries || !run.ping_replies)
        die("out of memory");
    run.next_bot_message_id = 1;
    signal(SIGTERM, on_stop_signal);
    signal(SIGINT, on_stop_signal);
    signal(SIGPIPE, SIG_IGN);
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0)
        die("epoll_create1");
    int listen_fd = listen_on(port);
    struct epoll_event listen_event = {.events = EPOLLIN, .data.fd = listen_fd};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &listen_event);
    struct epoll_event events[64];
    int wait_ms = -1;
    while (!stop_requested) {
        int ready = epoll_wait(epoll_fd, events, 64, wait_ms);
        for (int i = 0; i < ready; i++) {
            int fd = events[i].data.fd;
            if (fd == listen_fd) {
                accept_connections(listen_fd);
                continue;
            }
            connection *conn = fd < connection_slots ? connections[fd] : NULL;
            if (!conn)
                continue;
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                read_connection(conn);
            else if (events[i].events & EPOLLOUT)
                flush_connection(conn);
        }
        int64_t now = now_ns();
        wait_ms = earliest(inject_due(now), expire_polls(now));
        wait_ms = earliest(wait_ms, check_deadline(now));
    }
    for (int fd = 0; fd < connection_slots; fd++)
        if (connections[fd])
            close_connection(connections[fd]);
    free(connections);
    close(listen_fd);
    close(epoll_fd);
    free(run.inject_ns);
    free(run.reply_ns);
    free(run.deliveries);
    free(run.ping_replies);
    free(run.commands_json);
    free(run.summary);
    free(run.unmatched_examples.data);
    return 0;
}
