/* Incoming Telegram updates: decoding one update into a dispatcher message,
 * and the durable journal (attempt counts, done marks, the offset) that lets
 * a crash lose nothing and a clean stop repeat nothing. */
#ifndef JARVIS_TELEGRAM_UPDATES_H
#define JARVIS_TELEGRAM_UPDATES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dispatch.h"

struct store;

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

/* Pure; the strings in out->message live as long as update. */
void telegram_parse_update(json_t *update, int64_t bot_user_id, struct parsed_update *out);

/* After this many starts that never finished, an update is skipped. */
#define UPDATE_MAX_ATTEMPTS 3

enum journal_decision {
    JOURNAL_DISPATCH,     /* record the attempt, then hand it to the dispatcher */
    JOURNAL_KNOWN,        /* already fetched in this run: ignore the repeat */
    JOURNAL_ALREADY_DONE, /* handled before a crash: skip without repeating */
    JOURNAL_POISON        /* started UPDATE_MAX_ATTEMPTS times and never finished */
};

struct update_journal;

/* Reads the persisted offset (0 when none) and drops stale records. */
struct update_journal *update_journal_open(struct store *store);
void update_journal_close(struct update_journal *journal);

/* The offset to send with the next getUpdates: 1 + the highest fetched id
 * such that it and every earlier fetched id are done. */
int64_t update_journal_offset(struct update_journal *journal);
/* Makes offset durable before a request carries it; 0, or -1 (logged). */
int update_journal_persist_offset(struct update_journal *journal, int64_t offset);
/* After Telegram accepted a getUpdates carrying offset: forget older ids. */
void update_journal_forget_below(struct update_journal *journal, int64_t offset);

/* For each fetched update, in order. *attempt gets this start's number:
 * above 1 means an earlier run started it and died before it finished. */
enum journal_decision update_journal_begin(struct update_journal *journal, int64_t update_id,
                                           int *attempt);
/* Durably, right before the dispatch, so a crash still counts the start. */
void update_journal_record_attempt(struct update_journal *journal, int64_t update_id,
                                   int attempt);
/* Thread-safe. Writes the done mark durably, then lets the offset move. */
void update_journal_done(struct update_journal *journal, int64_t update_id);
/* Fetched and not done yet. */
size_t update_journal_in_flight(struct update_journal *journal);
/* Readable (eventfd) after any update_journal_done; read it to reset. */
int update_journal_progress_fd(struct update_journal *journal);

#endif
