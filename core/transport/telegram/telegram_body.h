/* The JSON body of a plain sendMessage written directly, without building
 * and dumping a jansson object: the sender's hot path (one per reply). */
#ifndef JARVIS_TELEGRAM_BODY_H
#define JARVIS_TELEGRAM_BODY_H

#include <stdint.h>

/* {"chat_id":N[,"message_thread_id":T],"text":"..."[,options' members]}
 * with options a stored JSON object ("" for none). NULL when the direct
 * form would not say exactly what the jansson path says (options that are
 * not one plain object or that name chat_id, message_thread_id or text;
 * text that is not valid UTF-8): the caller takes that path then. Free it. */
char *telegram_send_message_body(int64_t chat_id, int64_t thread_id, const char *text,
                                 const char *options);

#endif
