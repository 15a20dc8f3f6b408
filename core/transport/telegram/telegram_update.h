/* Incoming Telegram updates: decoding one update into a dispatcher message
 * (what the pipeline's inbox keeps), and decoding a getUpdates body update
 * by update when one of them is beyond what jansson reads. */
#ifndef JARVIS_TELEGRAM_UPDATE_H
#define JARVIS_TELEGRAM_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dispatch/incoming_message.h"

enum update_kind {
    UPDATE_TEXT,    /* a text message: message is filled */
    UPDATE_IGNORED, /* a kind we do not handle (photo, edit, member change...) */
    UPDATE_BAD      /* missing or wrong-typed fields: problem says which */
};

struct parsed_update {
    int64_t update_id; /* -1 when the update has no usable update_id */
    enum update_kind kind;
    const char *ignored_kind;        /* UPDATE_IGNORED: "edited_message", "photo"... */
    struct incoming_message message; /* strings borrowed from the JSON */
    char problem[128];               /* UPDATE_BAD: "message.chat.id is not an integer" */
};

struct pick_arena;
struct pick_node;

/* Pure; the strings in out->message live as long as update. */
void telegram_parse_update(json_t *update, int64_t bot_user_id, struct parsed_update *out);
/* With flags: TELEGRAM_PARSE_EDITS takes edited_message updates as messages
 * (is_edited set); without it they are ignored. Button presses
 * (callback_query) are messages with callback_id and callback_data. */
#define TELEGRAM_PARSE_EDITS 0x1u
void telegram_parse_update_with(json_t *update, int64_t bot_user_id, unsigned flags,
                                struct parsed_update *out);
/* The same from a base/pick_tree.h node (the one-pass reader's); the
 * strings live as long as the node's arena. */
void telegram_parse_update_node(const struct pick_node *update, int64_t bot_user_id, unsigned flags,
                                struct parsed_update *out);

/* getUpdates' "result" array decoded one element at a time, for a body
 * jansson refuses as a whole (a \u0000 escape, an integer beyond int64,
 * nesting past its limit, 1e400 in one update): each element that decodes
 * is returned with what telegram_parse_update reads (nested objects it does
 * not read stand as null, arrays too: base/json_pick.h); each that does not
 * becomes
 * {"update_id": N, "undecodable": "why"} (update_id absent when it cannot
 * be read either). NULL when the body is no {"ok":true,"result":[...]}. */
json_t *telegram_decode_updates_leniently(const char *body, size_t length);

/* The common getUpdates answer read in one pass, without sanitising or a
 * jansson decode of the whole: only for a body that is exactly
 * {"ok":true,"result":[...]} (Telegram's layout) whose every element
 * decodes. The "result" array as a node in arena (its elements what
 * telegram_parse_update_node reads, no jansson object and no malloc an
 * update); NULL otherwise: then telegram_classify takes the full path. */
const struct pick_node *telegram_read_updates(const char *body, size_t length,
                                              struct pick_arena *arena);

/* One update on its own (a webhook POST's body), decoded the same way: the
 * object (what the parser reads), or {"update_id": N, "undecodable": "why"} when it is one whole
 * JSON object jansson refuses, or NULL when the body is not one complete
 * JSON object (nothing but whitespace around it). */
json_t *telegram_decode_update_leniently(const char *body, size_t length);

/* The update kinds jarvis asks for (getUpdates and setWebhook's
 * allowed_updates): message, edited_message, callback_query. New reference. */
json_t *telegram_allowed_updates(void);

#endif
