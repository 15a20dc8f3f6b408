/* Encoding and decoding the inbox payload with jansson. Field names are
 * spelled out: the database outlives any one build of jarvis. */
#include "dispatch/message_payload.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Written by hand: building a jansson object and dumping it cost more
 * than the rest of accepting an update. Strings are valid UTF-8 (the
 * transports repair or refuse anything else), so only quotes, backslashes
 * and control characters need escaping. */
struct text_buffer {
    char *data;
    size_t length, capacity;
    int failed;
};

static void reserve(struct text_buffer *buffer, size_t more)
{
    if (buffer->failed || buffer->length + more + 1 <= buffer->capacity)
        return;
    size_t capacity = buffer->capacity ? buffer->capacity : 256;
    while (capacity < buffer->length + more + 1)
        capacity *= 2;
    char *grown = realloc(buffer->data, capacity);
    if (grown == NULL) {
        buffer->failed = 1;
        return;
    }
    buffer->data = grown;
    buffer->capacity = capacity;
}

static void append(struct text_buffer *buffer, const char *text, size_t length)
{
    reserve(buffer, length);
    if (buffer->failed)
        return;
    memcpy(buffer->data + buffer->length, text, length);
    buffer->length += length;
    buffer->data[buffer->length] = '\0';
}

static void append_string(struct text_buffer *buffer, const char *text)
{
    append(buffer, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)(text ? text : ""); *c; c++) {
        const unsigned char *run = c;
        while (*c >= 0x20 && *c != '"' && *c != '\\')
            c++;
        append(buffer, (const char *)run, (size_t)(c - run));
        if (*c == '\0')
            break;
        char escaped[8];
        int length = *c == '"' || *c == '\\' ? snprintf(escaped, sizeof escaped, "\\%c", *c)
                                             : snprintf(escaped, sizeof escaped, "\\u%04x", *c);
        append(buffer, escaped, (size_t)length);
    }
    append(buffer, "\"", 1);
}

/* value in decimal at out (20 digits and a sign at most); its length.
 * Every inbox row writes several: snprintf costs ~1,000 instructions each. */
static size_t format_int64(int64_t value, char *out)
{
    char digits[20];
    uint64_t magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    size_t count = 0, length = 0;
    do {
        digits[count++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    if (value < 0)
        out[length++] = '-';
    while (count > 0)
        out[length++] = digits[--count];
    return length;
}

/* "name":value, (name is one of this file's member names: short, plain) */
static void append_member(struct text_buffer *buffer, const char *name, int64_t value)
{
    char text[96];
    size_t name_length = strlen(name), length = 0;
    if (name_length > sizeof text - 25) {
        buffer->failed = 1;
        return;
    }
    text[length++] = '"';
    memcpy(text + length, name, name_length);
    length += name_length;
    text[length++] = '"';
    text[length++] = ':';
    length += format_int64(value, text + length);
    text[length++] = ',';
    append(buffer, text, length);
}

char *message_payload_encode(const struct incoming_message *message)
{
    struct text_buffer buffer = {0};
    append(&buffer, "{", 1);
    append_member(&buffer, "chat_id", message->chat_id);
    append_member(&buffer, "user_id", message->user_id);
    append_member(&buffer, "message_id", message->message_id);
    append_member(&buffer, "thread_id", message->message_thread_id);
    append(&buffer, "\"is_reply_to_bot\":", 18);
    append(&buffer, message->is_reply_to_bot ? "true," : "false,",
           message->is_reply_to_bot ? 5 : 6);
    append(&buffer, "\"chat_type\":", 12);
    append_string(&buffer, message->chat_type);
    append(&buffer, ",\"user_name\":", 13);
    append_string(&buffer, message->user_name);
    append(&buffer, ",\"text\":", 8);
    append_string(&buffer, message->text);
    /* rich fields only when set: a plain message's payload stays as small */
    const struct {
        const char *name;
        const char *value;
    } optional[] = {{"language_code", message->language_code},
                    {"reply_to_text", message->reply_to_text},
                    {"callback_id", message->callback_id},
                    {"callback_data", message->callback_data}};
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++) {
        if (optional[i].value == NULL || optional[i].value[0] == '\0')
            continue;
        append(&buffer, ",\"", 2);
        append(&buffer, optional[i].name, strlen(optional[i].name));
        append(&buffer, "\":", 2);
        append_string(&buffer, optional[i].value);
    }
    if (message->is_edited)
        append(&buffer, ",\"is_edited\":true", 17);
    append(&buffer, "}", 1);
    if (buffer.failed) {
        free(buffer.data);
        return NULL;
    }
    return buffer.data;
}

int message_payload_decode(const char *payload, struct incoming_message *message, void **holder,
                           char *problem, size_t problem_size)
{
    *holder = NULL;
    json_error_t error;
    json_t *object = json_loads(payload, 0, &error);
    if (object == NULL) {
        snprintf(problem, problem_size, "unreadable payload (%s)", error.text);
        return -1;
    }
    json_int_t chat_id = 0, user_id = 0, message_id = 0, thread_id = 0;
    const char *chat_type = "", *user_name = "", *text = "";
    const char *language = NULL, *reply_text = NULL, *callback_id = NULL, *callback_data = NULL;
    int reply = 0, edited = 0;
    if (json_unpack_ex(object, &error, 0, "{sI sI sI ss ss ss sb sI s?s s?s s?s s?s s?b}",
                       "chat_id", &chat_id, "user_id", &user_id, "message_id", &message_id,
                       "chat_type", &chat_type, "user_name", &user_name, "text", &text,
                       "is_reply_to_bot", &reply, "thread_id", &thread_id, "language_code",
                       &language, "reply_to_text", &reply_text, "callback_id", &callback_id,
                       "callback_data", &callback_data, "is_edited", &edited) != 0) {
        snprintf(problem, problem_size, "payload without its fields (%s)", error.text);
        json_decref(object);
        return -1;
    }
    message->chat_id = chat_id;
    message->user_id = user_id;
    message->message_id = message_id;
    message->chat_type = chat_type;
    message->user_name = user_name;
    message->text = text;
    message->is_reply_to_bot = reply;
    message->message_thread_id = thread_id;
    message->language_code = language;
    message->reply_to_text = reply_text;
    message->callback_id = callback_id;
    message->callback_data = callback_data;
    message->is_edited = edited;
    *holder = object;
    return 0;
}

void message_payload_free(void *holder)
{
    json_decref(holder);
}
