/* One chat message as a transport hands it to the pipeline, before the
 * dispatcher turns it into the plugins' jv_message. Strings are borrowed
 * from whoever fills it. */
#ifndef JARVIS_INCOMING_MESSAGE_H
#define JARVIS_INCOMING_MESSAGE_H

#include <stdint.h>

struct incoming_message {
    int64_t update_id;
    int64_t chat_id;
    int64_t user_id;
    int64_t message_id;
    const char *chat_type; /* "private", "group", ... */
    const char *user_name;
    const char *text;
    int is_reply_to_bot;
    /* The forum topic the message was posted in, so replies land there;
     * 0 outside forum topics (transports that have no topics leave it 0). */
    int64_t message_thread_id;
    /* Rich updates; NULL / 0 when absent. */
    const char *language_code; /* the sender's, "" unknown */
    const char *reply_to_text; /* text or caption of the replied-to message */
    int is_edited;             /* an edited_message update */
    /* A button press: the query to answer and the pressed button's data;
     * message_id / text are those of the message the button is on. */
    const char *callback_id;
    const char *callback_data;
};

#endif
