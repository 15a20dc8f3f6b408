/* Encoding and decoding the inbox payload with jansson. Field names are
 * spelled out: the database outlives any one build of jarvis. */
#include "message_payload.h"

#include <stdio.h>

#include <jansson.h>

char *message_payload_encode(const struct incoming_message *message)
{
    json_t *object = json_pack("{sI sI sI ss ss ss sb sI}", "chat_id", (json_int_t)message->chat_id,
                               "user_id", (json_int_t)message->user_id, "message_id",
                               (json_int_t)message->message_id, "chat_type",
                               message->chat_type ? message->chat_type : "", "user_name",
                               message->user_name ? message->user_name : "", "text",
                               message->text ? message->text : "", "is_reply_to_bot",
                               message->is_reply_to_bot, "thread_id",
                               (json_int_t)message->message_thread_id);
    if (object == NULL)
        return NULL;
    char *text = json_dumps(object, JSON_COMPACT);
    json_decref(object);
    return text;
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
    int reply = 0;
    if (json_unpack_ex(object, &error, 0, "{sI sI sI ss ss ss sb sI}", "chat_id", &chat_id,
                       "user_id", &user_id, "message_id", &message_id, "chat_type", &chat_type,
                       "user_name", &user_name, "text", &text, "is_reply_to_bot", &reply,
                       "thread_id", &thread_id) != 0) {
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
    *holder = object;
    return 0;
}

void message_payload_free(void *holder)
{
    json_decref(holder);
}
