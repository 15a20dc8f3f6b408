/* What a plugin asks to send (jv_outgoing) turned into a pending_reply the
 * pipeline can commit: buttons checked and turned into reply_markup JSON,
 * files copied, and the Bot API parameters each outbox part carries. */
#ifndef JARVIS_OUTGOING_CONTENT_H
#define JARVIS_OUTGOING_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>

#include "state/unit_of_work.h"

#define OUTGOING_PHOTO_MAX (10u * 1024 * 1024)
#define OUTGOING_DOCUMENT_MAX (50u * 1024 * 1024)

/* Fills *reply (zeroed first) from content for chat/topic: method, text,
 * flags, keyboard, file. edit_target != 0 makes it an edit of that message
 * (editMessageText, or editMessageReplyMarkup without text). JV_OK, or
 * JV_E_INVAL / JV_E_NOMEM with a one-line reason in problem. */
int outgoing_build(struct pending_reply *reply, const jv_outgoing *content, int64_t chat_id,
                   int64_t thread_id, int64_t edit_target, char *problem, size_t problem_size);

/* The reply_markup JSON of an inline keyboard, malloc'd; NULL and problem
 * for a bad button (no text, not exactly one of data/url, data over 64 bytes). */
char *outgoing_keyboard(const jv_button *buttons, size_t count, char *problem, size_t problem_size);

/* The JSON object of the part's other parameters (parse_mode,
 * link_preview_options, reply_parameters on the first part, reply_markup on
 * the last, the extra members), malloc'd; NULL when out of memory. */
char *outgoing_options(const struct pending_reply *reply, int first, int last);

/* The answerCallbackQuery a press gets: chat_id only orders it in its
 * chat's lane. JV_OK or JV_E_NOMEM. */
int outgoing_callback_answer(struct pending_reply *reply, int64_t chat_id, const char *query_id,
                             const char *text, int show_alert);

#endif
