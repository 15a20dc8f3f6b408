/* The update pipeline: inbox commits, handled commits (replies + kv writes
 * + the handled mark in one transaction), outbox delivery, recovery after a
 * restart and the crash-attributed poison skip. See pipeline.h. */
#include "dispatch/pipeline.h"

#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/backoff.h"
#include "base/clock.h"
#include "config/config.h"
#include "dispatch/chat_admission.h"
#include "dispatch/group_commit.h"
#include "state/store_group.h"
#include "state/crash_record.h"
#include "plugin/host.h"
#include "base/lifecycle.h"
#include "base/log.h"
#include "dispatch/message_payload.h"
#include "base/metrics.h"
#include "dispatch/outgoing_content.h"
#include "base/test_hooks.h"
#include "state/unit_of_work.h"
#include "dispatch/command_text.h"
#include "base/core_keys.h"
#include "state/store.h"
#include "state/store_pipeline.h"
#include "instance/notify.h"

#define COMMIT_RETRY_INITIAL_MS 100
#define COMMIT_RETRY_MAX_MS 5000
#define IDLE_WAIT_STEP_MS 200
#define DEFAULT_CHAT_BACKLOG 256
#define IN_DOUBT_MAX 128 /* above a poll's limit of 100 */
/* How long a handled commit or a sent mark may wait for others to share
 * its SQLite commit (group_commit.h). */
#define GROUP_BOUND_MS 1
/* The journal's marks reach the database this soon when nothing else
 * commits before (under load, handled commits take them along sooner). */
#define JOURNAL_FOLD_MS 100

struct jv_deferred {
    struct pipeline *pipeline;
    struct jv_context work; /* its replies; update, chat and topic */
    int handler_returned;
    int finish_requested;
    struct jv_deferred *next, *previous;
};

struct pipeline {
    struct host *host;
    struct pipeline_delivery delivery;
    atomic_size_t unhandled;
    atomic_size_t unsent;
    pthread_mutex_t deferred_lock;
    /* Accepts commit and are offered to the admission in one order: the
     * webhook's listener threads accept side by side, and an arrival
     * offered after a later one of its chat counts as loaded already
     * (chat_admission_offer), so it would wait in the inbox for a restart. */
    pthread_mutex_t accept_lock;
    /* webhook hosts sharing the store: until when (monotonic) our claim
     * surely holds, so the sender may send; 0 while not shared */
    atomic_llong claim_valid_until_ms;
    atomic_int shared;
    struct jv_deferred *deferred;     /* handles not yet finished */
    struct chat_admission *admission; /* one chat's share of memory */
    /* SQLite: handled commits and sent marks share commits; NULL otherwise */
    struct commit_group *group;
    atomic_int closing; /* the medium and the dispatcher are gone: nothing is delivered */
    /* The updates of the last inbox commit that failed: it may have
     * happened all the same (PostgreSQL lost or hung while the COMMIT was
     * in flight), so when they come again and are found already waiting,
     * that commit put them there and nobody handles them: they are
     * dispatched then, not skipped. */
    pthread_mutex_t doubt_lock;
    int64_t in_doubt[IN_DOUBT_MAX];
    size_t in_doubt_count;
    /* who calls pipeline_retry_loads (the housekeeping thread), asked to
     * do it sooner when a chat's load first fails: it may be asleep for a
     * minute; its lock lets the asker go away while a load fails */
    pthread_mutex_t retry_wake_lock;
    void (*retry_wake)(void *context);
    void *retry_wake_context;
};

static void admit_waiting(struct pipeline *pipeline, int64_t chat_id);

/* ---- delivery ---- */

struct part_list {
    struct outbox_row *rows; /* text, method, options, file_name owned; file borrowed */
    size_t count, capacity;
};

static void outbox_row_release(struct outbox_row *row)
{
    free((char *)row->text);
    free((char *)row->method);
    free((char *)row->options);
    free((char *)row->file_name);
    free((void *)row->file);
}

/* A copy of a file's bytes: 0 (NULL for none), or -1 when out of memory. */
static int copy_file_bytes(const void *file, size_t length, void **copy)
{
    *copy = NULL;
    if (file == NULL || length == 0)
        return 0;
    *copy = malloc(length);
    if (*copy == NULL)
        return -1;
    memcpy(*copy, file, length);
    return 0;
}

static void part_list_free(struct part_list *parts)
{
    for (size_t i = 0; i < parts->count; i++)
        outbox_row_release(&parts->rows[i]);
    free(parts->rows);
    parts->rows = NULL;
    parts->count = parts->capacity = 0;
}

/* Takes text and options (freed on failure too). */
static int part_list_add(struct part_list *parts, int64_t update_id,
                         const struct pending_reply *reply, char *text, char *options)
{
    char *method = strdup(reply->method ? reply->method : "");
    char *file_name = strdup(reply->file_name ? reply->file_name : "");
    /* the part owns its file's bytes: a grouped commit delivers it after the
     * worker let go of the reply */
    void *file = NULL;
    int file_failed = copy_file_bytes(reply->file, reply->file_length, &file);
    if (parts->count == parts->capacity) {
        size_t capacity = parts->capacity ? parts->capacity * 2 : 4;
        struct outbox_row *grown = realloc(parts->rows, capacity * sizeof *grown);
        if (grown != NULL) {
            parts->rows = grown;
            parts->capacity = capacity;
        }
    }
    if (parts->count == parts->capacity || method == NULL || file_name == NULL || text == NULL ||
        options == NULL || file_failed) {
        free(file);
        free(text);
        free(options);
        free(method);
        free(file_name);
        return -1;
    }
    parts->rows[parts->count++] = (struct outbox_row){.id = -1,
                                                      .update_id = update_id,
                                                      .chat_id = reply->chat_id,
                                                      .thread_id = reply->thread_id,
                                                      .text = text,
                                                      .method = method,
                                                      .options = options,
                                                      .file = file,
                                                      .file_length = file ? reply->file_length : 0,
                                                      .file_name = file_name,
                                                      .reference = reply->reference,
                                                      .target = reply->target};
    return 0;
}

/* Splits one reply as the medium wants it; empty texts give no part. Only
 * sendMessage is split: a caption or an edit is one part. The quote goes
 * with the first part, the keyboard with the last. */
static int split_into(struct pipeline *pipeline, struct part_list *parts, int64_t update_id,
                      const struct pending_reply *reply)
{
    const char *text = reply->text ? reply->text : "";
    int is_message = reply->method == NULL || strcmp(reply->method, "sendMessage") == 0;
    if (!is_message || pipeline->delivery.split == NULL)
        return part_list_add(parts, update_id, reply, strdup(text), outgoing_options(reply, 1, 1));
    char **pieces = NULL;
    long count = pipeline->delivery.split(text, (reply->flags & JV_FORMAT_HTML) != 0, &pieces);
    if (count < 0)
        return -1;
    int result = 0;
    for (long i = 0; i < count; i++) {
        if (result == 0)
            result = part_list_add(parts, update_id, reply, pieces[i],
                                   outgoing_options(reply, i == 0, i == count - 1));
        else
            free(pieces[i]);
        pieces[i] = NULL;
    }
    pipeline->delivery.free_parts(pieces, 0);
    return result;
}

static void deliver_row(struct pipeline *pipeline, const struct outbox_row *row)
{
    atomic_fetch_add(&pipeline->unsent, 1);
    if (pipeline->delivery.deliver(pipeline->delivery.context, row) != JV_OK) {
        atomic_fetch_sub(&pipeline->unsent, 1);
        int64_t chat_id = 0; /* never sent in this run: it holds no chat */
        chat_admission_part_sent(pipeline->admission, row->id, &chat_id);
        log_warn("update %" PRId64 ": reply to chat %" PRId64 " not handed to the transport; "
                 "it stays in the outbox for the next start",
                 row->update_id, row->chat_id);
    }
}

static void deliver_parts(struct pipeline *pipeline, const struct part_list *parts)
{
    for (size_t i = 0; i < parts->count; i++)
        deliver_row(pipeline, &parts->rows[i]);
}

void pipeline_sent(struct pipeline *pipeline, const struct outbox_row *row)
{
    pipeline_sent_as(pipeline, row, 0, 0, 0);
}

/* A mark in the sent journal: no commit now; the row leaves the outbox
 * with the next commit, which the group's timer makes soon when no other
 * work commits first. */
static int mark_in_journal(struct pipeline *pipeline, const struct outbox_row *row)
{
    size_t text_length = row->text != NULL ? strlen(row->text) : 0;
    if (pipeline->group == NULL ||
        store_part_sent_journaled(pipeline->host->store, row->id, row->update_id, row->chat_id,
                                  text_length) != 0)
        return -1;
    atomic_fetch_sub(&pipeline->unsent, 1);
    commit_group_fold_later(pipeline->group, JOURNAL_FOLD_MS);
    return 0;
}

/* A mark in the database (a referenced part, or no journal): written now,
 * committed as pipeline.h says. */
static void mark_in_store(struct pipeline *pipeline, int64_t outbox_id, int64_t reference,
                          int64_t sent_chat_id, int64_t sent_message_id)
{
    struct store *store = pipeline->host->store;
    int64_t now_ms = reference != 0 ? wall_ms() : 0;
    uint64_t group = 0;
    int grouped = pipeline->group != NULL &&
                  store_part_sent_in_group(store, outbox_id, reference, sent_chat_id,
                                           sent_message_id, now_ms, &group) == 0;
    if (!grouped)
        store_part_sent(store, outbox_id, reference, sent_chat_id, sent_message_id, now_ms);
    /* the mark waits while more is to be sent (that send commits it, with
     * what else is open); the last one commits at once */
    int more = atomic_fetch_sub(&pipeline->unsent, 1) > 1;
    if (grouped)
        commit_group_mark(pipeline->group, group, sent_chat_id, more);
}

void pipeline_sent_as(struct pipeline *pipeline, const struct outbox_row *row, int64_t reference,
                      int64_t sent_chat_id, int64_t sent_message_id)
{
    test_hook_reached("sent-before-mark");
    /* before the row goes: once it is gone its id may be given again */
    int64_t chat_id = 0;
    int held = chat_admission_part_sent(pipeline->admission, row->id, &chat_id);
    if (reference != 0 || mark_in_journal(pipeline, row) != 0)
        mark_in_store(pipeline, row->id, reference, sent_chat_id, sent_message_id);
    test_hook_reached("sent-after-mark");
    if (held)
        admit_waiting(pipeline, chat_id);
}

void pipeline_before_send(struct pipeline *pipeline, int64_t chat_id)
{
    if (pipeline != NULL)
        commit_group_before_send(pipeline->group, chat_id, atomic_load(&pipeline->unsent) > 1);
}

void pipeline_flush(struct pipeline *pipeline)
{
    if (pipeline != NULL)
        commit_group_flush(pipeline->group, "idle");
}

/* The update's hold on its chat ends; its parts hold it until sent, so
 * they are counted before the medium can send (and report) them. */
static void hold_parts(struct pipeline *pipeline, int64_t chat_id, const struct part_list *parts)
{
    int64_t ids[16] = {0};
    size_t count = 0;
    for (size_t i = 0; parts != NULL && i < parts->count && count < 16; i++)
        ids[count++] = parts->rows[i].id;
    /* a reply of more than 16 parts holds its chat with the first 16 */
    chat_admission_handled(pipeline->admission, chat_id, ids, count);
}

static void release_update(struct pipeline *pipeline, int64_t chat_id,
                           const struct part_list *parts)
{
    hold_parts(pipeline, chat_id, parts);
    admit_waiting(pipeline, chat_id);
}

/* Inside an open transaction: every part gets its outbox id. */
static int add_parts_to_outbox(struct store *store, struct part_list *parts)
{
    for (size_t i = 0; i < parts->count; i++) {
        struct outbox_row *row = &parts->rows[i];
        row->id = store_outbox_add_row(store, row);
        if (row->id < 0)
            return -1;
    }
    return 0;
}

/* ---- committing ---- */

/* A commit that fails (disk full, I/O error) is retried with backoff, one
 * log line per state change: the update stays unhandled meanwhile, which is
 * what a restart would find too. Gives up only when a stop is requested,
 * or when the update is no longer this host's (COMMIT_NOT_OURS). */
typedef int (*commit_fn)(struct pipeline *pipeline, void *context);

/* A shared store's row that another host took over while this one
 * stalled: that host handles it; what was done here is dropped. */
#define COMMIT_NOT_OURS 2

/* Inside the commit's transaction: 0 removed, COMMIT_NOT_OURS, or -1. */
static int remove_inbox_row(struct store *store, int64_t update_id)
{
    int removed = store_inbox_remove(store, update_id);
    return removed == 1 ? COMMIT_NOT_OURS : removed;
}

static int commit_with_retry(struct pipeline *pipeline, commit_fn commit, void *context,
                             const char *what, int64_t update_id)
{
    struct backoff backoff;
    backoff_init(&backoff, COMMIT_RETRY_INITIAL_MS, COMMIT_RETRY_MAX_MS);
    int failures = 0;
    for (;;) {
        int result = commit(pipeline, context);
        if (result == COMMIT_NOT_OURS) {
            log_warn("update %" PRId64 ": another host took it over (this host's claim lapsed); "
                     "%s here is dropped",
                     update_id, what);
            return result;
        }
        if (result == 0) {
            if (failures > 0)
                log_info("update %" PRId64 ": %s committed after %d failed attempt%s", update_id,
                         what, failures, failures == 1 ? "" : "s");
            return 0;
        }
        /* a warning: the store's own ERROR line says once that writes fail,
         * and a store that is down said so itself, once for all updates */
        if (failures++ == 0 && store_available(pipeline->host->store) &&
            !store_fenced(pipeline->host->store))
            log_warn("update %" PRId64 ": cannot commit %s to the state store; retrying "
                     "with backoff (it is handled again after a restart otherwise)",
                     update_id, what);
        /* refused by the fence: the update is the new holder's now, and
         * this process stands down (host_lease_still_held) */
        if (lifecycle_stop_requested() || store_fenced(pipeline->host->store))
            return -1;
        notify_sleep(backoff_next_delay(&backoff));
    }
}

struct handled_commit {
    struct jv_context *work;
    struct part_list *parts;
    int keep_inbox_row; /* deferred: the update stays open */
};

/* Inside the commit's transaction (or its unit): 0, COMMIT_NOT_OURS or -1. */
static int write_handled(struct store *store, struct handled_commit *commit)
{
    test_hook_reached("handled-before-commit");
    int removed = commit->keep_inbox_row ? 0 : remove_inbox_row(store, commit->work->update_id);
    if (removed != 0)
        return removed;
    if (unit_of_work_apply_writes(commit->work, store) != 0 ||
        add_parts_to_outbox(store, commit->parts) != 0)
        return -1;
    return 0;
}

static int commit_handled(struct pipeline *pipeline, void *context)
{
    struct handled_commit *commit = context;
    struct store *store = pipeline->host->store;
    if (store_begin(store, STORE_UNSYNCED) != 0)
        return -1;
    int written = write_handled(store, commit);
    if (written != 0) {
        store_rollback(store);
        return written == COMMIT_NOT_OURS ? written : -1;
    }
    if (store_commit(store) != 0)
        return -1;
    test_hook_reached("handled-after-commit");
    return 0;
}

static int parts_of_replies(struct pipeline *pipeline, struct jv_context *work,
                            struct part_list *parts)
{
    for (size_t i = 0; i < work->reply_count; i++) {
        if (split_into(pipeline, parts, work->update_id, &work->replies[i]) != 0)
            return -1;
    }
    return 0;
}

/* The update is done with once its commit ended: its parts hold the chat
 * and go to the medium, the chat's next rows may load. */
static void finish_handled(struct pipeline *pipeline, int64_t chat_id, struct part_list *parts,
                           int committed)
{
    int closing = atomic_load(&pipeline->closing);
    hold_parts(pipeline, chat_id, committed ? parts : NULL);
    if (committed && !closing)
        deliver_parts(pipeline, parts);
    if (!closing)
        admit_waiting(pipeline, chat_id);
    part_list_free(parts);
    atomic_fetch_sub(&pipeline->unhandled, 1);
    metrics_count(METRIC_UPDATES, "handled", NULL);
}

/* One update's handled commit in a group: what it writes, kept until its
 * group ended (a rolled-back group's units commit again, each alone). */
struct handled_unit {
    struct group_unit link; /* first: the group's record */
    struct pipeline *pipeline;
    struct jv_context writes; /* the handler's kv writes, taken from its unit of work */
    struct part_list parts;
};

static int apply_handled(struct group_unit *link)
{
    struct handled_unit *unit = (struct handled_unit *)link;
    struct handled_commit commit = {.work = &unit->writes, .parts = &unit->parts};
    return write_handled(unit->pipeline->host->store, &commit);
}

static void handled_unit_free(struct handled_unit *unit)
{
    unit_of_work_release(&unit->writes);
    free(unit);
}

static void handled_unit_done(struct group_unit *link, int committed)
{
    struct handled_unit *unit = (struct handled_unit *)link;
    struct pipeline *pipeline = unit->pipeline;
    if (committed) {
        test_hook_reached("handled-after-commit");
    } else {
        struct handled_commit commit = {.work = &unit->writes, .parts = &unit->parts};
        metrics_count(METRIC_STORE_COMMITS, "alone", NULL);
        committed = commit_with_retry(pipeline, commit_handled, &commit, "its handling",
                                      unit->writes.update_id) == 0;
    }
    finish_handled(pipeline, unit->writes.chat_id, &unit->parts, committed);
    handled_unit_free(unit);
}

/* The unit's record takes work's kv writes and the parts. */
static struct handled_unit *handled_unit_new(struct pipeline *pipeline, struct jv_context *work,
                                             struct part_list *parts)
{
    struct handled_unit *unit = calloc(1, sizeof *unit);
    if (unit == NULL)
        return NULL;
    unit->link.done = handled_unit_done;
    unit->pipeline = pipeline;
    unit_of_work_init(&unit->writes, work->update_id, work->chat_id, work->thread_id);
    pthread_mutex_lock(&work->lock);
    unit->writes.writes = work->writes;
    unit->writes.write_count = work->write_count;
    unit->writes.write_capacity = work->write_capacity;
    work->writes = NULL;
    work->write_count = work->write_capacity = 0;
    pthread_mutex_unlock(&work->lock);
    unit->parts = *parts;
    *parts = (struct part_list){0};
    return unit;
}

/* In the open group: 1 when the unit went in (its completion finishes
 * the update), 0 when it must commit alone. */
static int commit_in_group(struct pipeline *pipeline, struct jv_context *work,
                           struct part_list *parts, int may_wait)
{
    if (pipeline->group == NULL)
        return 0;
    struct handled_unit *unit = handled_unit_new(pipeline, work, parts);
    if (unit == NULL)
        return 0;
    if (commit_group_add(pipeline->group, &unit->link, apply_handled, may_wait) == 0)
        return 1;
    /* its writes were undone; the units before it commit (and deliver) first */
    commit_group_flush(pipeline->group, "idle");
    *parts = unit->parts;
    unit->parts = (struct part_list){0};
    pthread_mutex_lock(&work->lock);
    work->writes = unit->writes.writes;
    work->write_count = unit->writes.write_count;
    work->write_capacity = unit->writes.write_capacity;
    pthread_mutex_unlock(&work->lock);
    unit->writes.writes = NULL;
    unit->writes.write_count = 0;
    handled_unit_free(unit);
    return 0;
}

/* Commits work (its writes, replies and the handled mark), then hands the
 * replies to the medium and counts the update handled. may_wait: more
 * work is ready, so the commit may wait (bounded) to share theirs. */
static void commit_and_deliver(struct pipeline *pipeline, struct jv_context *work, int may_wait)
{
    struct part_list parts = {0};
    if (parts_of_replies(pipeline, work, &parts) != 0) {
        log_error("update %" PRId64 ": out of memory preparing its replies; it is handled "
                  "again after a restart",
                  work->update_id);
        part_list_free(&parts);
        finish_handled(pipeline, work->chat_id, &parts, 0);
        return;
    }
    if (commit_in_group(pipeline, work, &parts, may_wait))
        return;
    struct handled_commit commit = {.work = work, .parts = &parts};
    int committed =
        commit_with_retry(pipeline, commit_handled, &commit, "its handling", work->update_id) == 0;
    if (pipeline->group != NULL)
        metrics_count(METRIC_STORE_COMMITS, "alone", NULL);
    finish_handled(pipeline, work->chat_id, &parts, committed);
}

/* ---- deferred answers ---- */

static void deferred_unlink(struct pipeline *pipeline, struct jv_deferred *deferred)
{
    if (deferred->previous != NULL)
        deferred->previous->next = deferred->next;
    else if (pipeline->deferred == deferred)
        pipeline->deferred = deferred->next;
    if (deferred->next != NULL)
        deferred->next->previous = deferred->previous;
    deferred->next = deferred->previous = NULL;
}

static void deferred_free(struct jv_deferred *deferred)
{
    unit_of_work_release(&deferred->work);
    free(deferred);
}

static void deferred_complete(struct jv_deferred *deferred)
{
    commit_and_deliver(deferred->pipeline, &deferred->work, 0);
    deferred_free(deferred);
}

jv_deferred *pipeline_defer(struct jv_context *work)
{
    struct pipeline *pipeline = work->done_context;
    if (pipeline == NULL || work->deferred)
        return NULL;
    struct jv_deferred *deferred = calloc(1, sizeof *deferred);
    if (deferred == NULL)
        return NULL;
    deferred->pipeline = pipeline;
    unit_of_work_init(&deferred->work, work->update_id, work->chat_id, work->thread_id);
    deferred->work.quote_message_id = work->quote_message_id;
    pthread_mutex_lock(&pipeline->deferred_lock);
    work->deferred = 1;
    work->deferred_handle = deferred;
    deferred->next = pipeline->deferred;
    if (pipeline->deferred != NULL)
        pipeline->deferred->previous = deferred;
    pipeline->deferred = deferred;
    pthread_mutex_unlock(&pipeline->deferred_lock);
    return deferred;
}

static int deferred_is_open(struct pipeline *pipeline, struct jv_deferred *deferred)
{
    for (struct jv_deferred *open = pipeline->deferred; open != NULL; open = open->next)
        if (open == deferred)
            return 1;
    return 0;
}

int pipeline_deferred_reply(jv_deferred *deferred, const char *text)
{
    if (deferred == NULL || text == NULL)
        return JV_E_INVAL;
    return unit_of_work_reply(&deferred->work, deferred->work.chat_id, deferred->work.thread_id,
                              text);
}

int pipeline_deferred_finish(jv_deferred *deferred)
{
    if (deferred == NULL)
        return JV_E_INVAL;
    struct pipeline *pipeline = deferred->pipeline;
    pthread_mutex_lock(&pipeline->deferred_lock);
    if (!deferred_is_open(pipeline, deferred)) {
        pthread_mutex_unlock(&pipeline->deferred_lock);
        return JV_E_STATE;
    }
    int now = deferred->handler_returned;
    if (now)
        deferred_unlink(pipeline, deferred);
    else
        deferred->finish_requested = 1; /* the handled callback finishes it */
    pthread_mutex_unlock(&pipeline->deferred_lock);
    if (now)
        deferred_complete(deferred);
    return JV_OK;
}

/* The handler deferred: its kv writes commit now, on their own; replies it
 * gave before deferring wait in the handle with the later ones. */
static void handler_deferred(struct pipeline *pipeline, struct jv_context *work)
{
    struct part_list none = {0};
    struct jv_context writes_only;
    unit_of_work_init(&writes_only, work->update_id, work->chat_id, work->thread_id);
    writes_only.writes = work->writes;
    writes_only.write_count = work->write_count;
    struct handled_commit commit = {.work = &writes_only, .parts = &none, .keep_inbox_row = 1};
    if (work->write_count > 0)
        commit_with_retry(pipeline, commit_handled, &commit, "its kv writes", work->update_id);
    writes_only.writes = NULL;
    writes_only.write_count = 0;
    unit_of_work_release(&writes_only);
    pthread_mutex_lock(&pipeline->deferred_lock);
    struct jv_deferred *deferred = work->deferred_handle;
    int finish = 0;
    if (deferred != NULL && deferred_is_open(pipeline, deferred)) {
        /* replies given before deferring go first, then those given
         * through the handle meanwhile */
        pthread_mutex_lock(&deferred->work.lock);
        struct jv_context later = {.replies = deferred->work.replies,
                                   .reply_count = deferred->work.reply_count};
        deferred->work.replies = NULL;
        deferred->work.reply_count = deferred->work.reply_capacity = 0;
        if (unit_of_work_take_replies(&deferred->work, work) != JV_OK ||
            unit_of_work_take_replies(&deferred->work, &later) != JV_OK)
            log_error("update %" PRId64 ": out of memory keeping a deferred answer",
                      work->update_id);
        for (size_t i = 0; i < later.reply_count; i++)
            pending_reply_free(&later.replies[i]);
        free(later.replies);
        pthread_mutex_unlock(&deferred->work.lock);
        deferred->handler_returned = 1;
        finish = deferred->finish_requested;
        if (finish)
            deferred_unlink(pipeline, deferred);
    }
    pthread_mutex_unlock(&pipeline->deferred_lock);
    if (finish)
        deferred_complete(deferred);
}

/* ---- the dispatcher's callback ---- */

static void on_handled(struct jv_context *work, void *context)
{
    struct pipeline *pipeline = context;
    if (work->deferred) {
        handler_deferred(pipeline, work);
        return; /* still unhandled until deferred_finish */
    }
    commit_and_deliver(pipeline, work, dispatch_work_ready(pipeline->host->dispatch));
}

static int dispatch_one(struct pipeline *pipeline, const struct incoming_message *message)
{
    atomic_fetch_add(&pipeline->unhandled, 1);
    if (dispatch_submit(pipeline->host->dispatch, message, on_handled, pipeline) == 0)
        return 0;
    atomic_fetch_sub(&pipeline->unhandled, 1);
    log_warn("update %" PRId64 " not dispatched (stopping or out of memory); it waits in the "
             "inbox for the next start",
             message->update_id);
    return -1;
}

/* ---- accepting ---- */

struct accepted_batch {
    const struct incoming_message *messages;
    size_t count;
    char *new_in_inbox; /* 1 where the message was added, 0 where it already waited */
    int64_t *arrivals;  /* each message's place in the inbox's order */
    const char *cursor_key;
    int64_t cursor;
    int cursor_once; /* a cursor_key at cursor_floor or above: the batch was taken before */
    int64_t cursor_floor;
};

#define BATCH_TAKEN_BEFORE 1

static int cursor_write(struct store *store, const char *key, int64_t cursor)
{
    char value[32];
    int length = snprintf(value, sizeof value, "%" PRId64, cursor);
    return store_set(store, CORE_SPACE, key, value, (size_t)length);
}

/* Orders inbox rows for recovery: microseconds of the wall clock at the
 * first batch, then one more per row, so a restart continues above. */
static atomic_llong next_arrival;

static int64_t take_arrivals(long long count)
{
    long long expected = 0;
    atomic_compare_exchange_strong(&next_arrival, &expected, (long long)wall_ms() * 1000);
    return atomic_fetch_add(&next_arrival, count);
}

static int64_t take_arrival(void)
{
    return take_arrivals(1);
}

static atomic_llong next_reference;

int64_t pipeline_new_reference(void)
{
    long long expected = 0;
    atomic_compare_exchange_strong(&next_reference, &expected, (long long)wall_ms() * 1000);
    return atomic_fetch_add(&next_reference, 1);
}

static int commit_batch(struct store *store, struct accepted_batch *batch)
{
    if (store_begin(store, STORE_SYNCED) != 0)
        return -1;
    if (batch->cursor_once) {
        /* another host taking the same update waits here for our commit,
         * then finds our record (a webhook retry sent elsewhere) */
        if (store_lock_update(store, batch->messages[0].update_id) != 0) {
            store_rollback(store);
            return -1;
        }
        char *value = NULL;
        size_t length = 0;
        int found = store_get(store, CORE_SPACE, batch->cursor_key, &value, &length);
        int taken = found == 0 && strtoll(value, NULL, 10) >= batch->cursor_floor;
        free(value);
        if (found < 0 || taken) {
            store_rollback(store);
            return taken ? BATCH_TAKEN_BEFORE : -1;
        }
    }
    for (size_t i = 0; i < batch->count; i++) {
        const struct incoming_message *message = &batch->messages[i];
        char *payload = message_payload_encode(message);
        batch->arrivals[i] = take_arrival();
        int added = payload != NULL ? store_inbox_add(store, message->update_id, message->chat_id,
                                                      payload, batch->arrivals[i])
                                    : -1;
        free(payload);
        if (added < 0) {
            store_rollback(store);
            return -1;
        }
        batch->new_in_inbox[i] = added == 0;
    }
    if (batch->cursor_key != NULL && cursor_write(store, batch->cursor_key, batch->cursor) != 0) {
        store_rollback(store);
        return -1;
    }
    return store_commit(store);
}

static int batch_init(struct accepted_batch *batch, const struct incoming_message *messages,
                      size_t count, const char *cursor_key, int64_t cursor)
{
    *batch = (struct accepted_batch){
        .messages = messages, .count = count, .cursor_key = cursor_key, .cursor = cursor};
    batch->new_in_inbox = calloc(count ? count : 1, 1);
    batch->arrivals = calloc(count ? count : 1, sizeof *batch->arrivals);
    if (batch->new_in_inbox != NULL && batch->arrivals != NULL)
        return 0;
    free(batch->new_in_inbox);
    free(batch->arrivals);
    return -1;
}

static void batch_release(struct accepted_batch *batch)
{
    free(batch->new_in_inbox);
    free(batch->arrivals);
}

int pipeline_store_batch(struct store *store, const struct incoming_message *messages, size_t count,
                         const char *cursor_key, int64_t cursor)
{
    struct accepted_batch batch;
    if (batch_init(&batch, messages, count, cursor_key, cursor) != 0)
        return -1;
    int result = commit_batch(store, &batch);
    batch_release(&batch);
    return result;
}

static void remember_in_doubt(struct pipeline *pipeline, const struct incoming_message *messages,
                              size_t count)
{
    pthread_mutex_lock(&pipeline->doubt_lock);
    pipeline->in_doubt_count = 0;
    for (size_t i = 0; i < count && i < IN_DOUBT_MAX; i++)
        pipeline->in_doubt[pipeline->in_doubt_count++] = messages[i].update_id;
    pthread_mutex_unlock(&pipeline->doubt_lock);
}

/* 1 when update_id was in the failed commit (and is forgotten now). */
static int take_in_doubt(struct pipeline *pipeline, int64_t update_id)
{
    pthread_mutex_lock(&pipeline->doubt_lock);
    int found = 0;
    for (size_t i = 0; i < pipeline->in_doubt_count && !found; i++) {
        if (pipeline->in_doubt[i] == update_id) {
            pipeline->in_doubt[i] = pipeline->in_doubt[--pipeline->in_doubt_count];
            found = 1;
        }
    }
    pthread_mutex_unlock(&pipeline->doubt_lock);
    return found;
}

/* A message of a committed batch that was there before: handled elsewhere
 * (or by this process already), unless a failed commit of ours put it there. */
static int already_taken(struct pipeline *pipeline, const struct incoming_message *message)
{
    if (take_in_doubt(pipeline, message->update_id)) {
        log_info("update %" PRId64 " was stored by a commit that seemed to fail; handling it",
                 message->update_id);
        return 0;
    }
    log_info("update %" PRId64 " is already waiting in the inbox; not taken twice",
             message->update_id);
    return 1;
}

int pipeline_accept(struct pipeline *pipeline, const struct incoming_message *messages,
                    size_t count, const char *cursor_key, int64_t cursor)
{
    struct accepted_batch batch;
    if (batch_init(&batch, messages, count, cursor_key, cursor) != 0)
        return -1;
    pthread_mutex_lock(&pipeline->accept_lock);
    if (commit_batch(pipeline->host->store, &batch) != 0) {
        remember_in_doubt(pipeline, messages, count);
        pthread_mutex_unlock(&pipeline->accept_lock);
        batch_release(&batch);
        return -1;
    }
    test_hook_reached("inbox-after-commit");
    for (size_t i = 0; i < count; i++) {
        if (batch.new_in_inbox[i])
            take_in_doubt(pipeline, messages[i].update_id); /* surely stored by us now */
        else if (already_taken(pipeline, &messages[i]))
            continue;
        if (chat_admission_offer(pipeline->admission, messages[i].chat_id, messages[i].update_id,
                                 batch.arrivals[i]) &&
            dispatch_one(pipeline, &messages[i]) != 0)
            release_update(pipeline, messages[i].chat_id, NULL);
        /* else: the chat is at its cap; the row waits in the inbox */
    }
    pthread_mutex_unlock(&pipeline->accept_lock);
    batch_release(&batch);
    return 0;
}

int pipeline_accept_once(struct pipeline *pipeline, const struct incoming_message *message,
                         const char *seen_key, int64_t seen_value, int64_t seen_floor)
{
    char new_in_inbox = 0;
    int64_t arrival = 0;
    struct accepted_batch batch = {.messages = message,
                                   .count = 1,
                                   .new_in_inbox = &new_in_inbox,
                                   .arrivals = &arrival,
                                   .cursor_key = seen_key,
                                   .cursor = seen_value,
                                   .cursor_once = 1,
                                   .cursor_floor = seen_floor};
    pthread_mutex_lock(&pipeline->accept_lock);
    int committed = commit_batch(pipeline->host->store, &batch);
    if (committed < 0)
        remember_in_doubt(pipeline, message, 1);
    if (committed != 0) {
        pthread_mutex_unlock(&pipeline->accept_lock);
        return committed;
    }
    test_hook_reached("inbox-after-commit");
    /* the same admission as a polled batch: a flooding chat waits in the inbox */
    if ((new_in_inbox || !already_taken(pipeline, message)) &&
        chat_admission_offer(pipeline->admission, message->chat_id, message->update_id, arrival) &&
        dispatch_one(pipeline, message) != 0)
        release_update(pipeline, message->chat_id, NULL);
    pthread_mutex_unlock(&pipeline->accept_lock);
    return 0;
}

int pipeline_send_reply(struct pipeline *pipeline, const struct pending_reply *reply)
{
    struct part_list parts = {0};
    if (split_into(pipeline, &parts, -1, reply) != 0) {
        part_list_free(&parts);
        return JV_E_NOMEM;
    }
    if (parts.count == 0)
        return JV_E_INVAL; /* nothing to send: Telegram refuses empty texts */
    struct store *store = pipeline->host->store;
    int result = JV_E_IO;
    if (store_begin(store, STORE_UNSYNCED) == 0) {
        if (add_parts_to_outbox(store, &parts) != 0)
            store_rollback(store);
        else if (store_commit(store) == 0)
            result = JV_OK;
    }
    if (result == JV_OK)
        deliver_parts(pipeline, &parts);
    part_list_free(&parts);
    return result;
}

int pipeline_send(struct pipeline *pipeline, int64_t chat_id, int64_t thread_id, const char *text)
{
    struct pending_reply reply = {.chat_id = chat_id, .thread_id = thread_id, .text = (char *)text};
    return pipeline_send_reply(pipeline, &reply);
}

size_t pipeline_unhandled(struct pipeline *pipeline)
{
    return atomic_load(&pipeline->unhandled);
}

size_t pipeline_unsent(struct pipeline *pipeline)
{
    return atomic_load(&pipeline->unsent);
}

/* ---- recovery ---- */

static void count_crash(int64_t update_id, const char *plugin, int signal_number, void *context)
{
    struct pipeline *pipeline = context;
    if (update_id < 0) {
        log_warn("plugin '%s' crashed (signal %d) outside the handling of an update", plugin,
                 signal_number);
        return;
    }
    log_warn("update %" PRId64 " crashed the bot (signal %d in plugin '%s')", update_id,
             signal_number, plugin);
    store_inbox_count_crash(pipeline->host->store, update_id, plugin);
}

struct row_copies {
    struct outbox_row *outbox;
    struct inbox_row *inbox;
    size_t count, capacity;
    int failed;
};

static int reserve(struct row_copies *copies, size_t item_size, void **items)
{
    if (copies->count < copies->capacity)
        return 0;
    size_t capacity = copies->capacity ? copies->capacity * 2 : 16;
    void *grown = realloc(*items, capacity * item_size);
    if (grown == NULL)
        return -1;
    *items = grown;
    copies->capacity = capacity;
    return 0;
}

static int copy_outbox_row(const struct outbox_row *row, void *context)
{
    struct row_copies *copies = context;
    if (reserve(copies, sizeof *copies->outbox, (void **)&copies->outbox) != 0) {
        copies->failed = 1;
        return 1;
    }
    struct outbox_row copy = *row;
    copy.text = strdup(row->text);
    copy.method = strdup(row->method ? row->method : "");
    copy.options = strdup(row->options ? row->options : "");
    copy.file_name = strdup(row->file_name ? row->file_name : "");
    void *file = NULL;
    int file_failed = copy_file_bytes(row->file, row->file_length, &file);
    copy.file = file;
    if (copy.text == NULL || copy.method == NULL || copy.options == NULL ||
        copy.file_name == NULL || file_failed) {
        outbox_row_release(&copy);
        copies->failed = 1;
        return 1;
    }
    copies->outbox[copies->count++] = copy;
    return 0;
}

static int copy_inbox_row(const struct inbox_row *row, void *context)
{
    struct row_copies *copies = context;
    if (reserve(copies, sizeof *copies->inbox, (void **)&copies->inbox) != 0) {
        copies->failed = 1;
        return 1;
    }
    struct inbox_row copy = *row;
    copy.payload = strdup(row->payload);
    copy.crash_plugin = strdup(row->crash_plugin);
    if (copy.payload == NULL || copy.crash_plugin == NULL) {
        free((char *)copy.payload);
        free((char *)copy.crash_plugin);
        copies->failed = 1;
        return 1;
    }
    copies->inbox[copies->count++] = copy;
    return 0;
}

/* Sends the copies (when read whole) and frees them. */
static int deliver_copies(struct pipeline *pipeline, struct row_copies copies, int result,
                          const char *whose)
{
    if (copies.failed)
        result = -1;
    if (result == 0 && copies.count > 0)
        log_info("outbox: %zu message part(s) %s; sending them", copies.count, whose);
    for (size_t i = 0; i < copies.count; i++) {
        if (result == 0)
            deliver_row(pipeline, &copies.outbox[i]);
        outbox_row_release(&copies.outbox[i]);
    }
    free(copies.outbox);
    return result;
}

static int resend_outbox(struct pipeline *pipeline)
{
    struct row_copies copies = {0};
    int result = store_outbox_list(pipeline->host->store, copy_outbox_row, &copies);
    return deliver_copies(pipeline, copies, result, "from before the restart");
}

static void wait_until_idle(struct pipeline *pipeline)
{
    while (!lifecycle_stop_requested() &&
           dispatch_drain(pipeline->host->dispatch, IDLE_WAIT_STEP_MS) > 0) {
    }
}

struct poison_commit {
    int64_t update_id;
    struct part_list *parts;
};

static int commit_poison(struct pipeline *pipeline, void *context)
{
    struct poison_commit *poison = context;
    struct store *store = pipeline->host->store;
    if (store_begin(store, STORE_UNSYNCED) != 0)
        return -1;
    int removed = remove_inbox_row(store, poison->update_id);
    if (removed != 0 || add_parts_to_outbox(store, poison->parts) != 0) {
        store_rollback(store);
        return removed == COMMIT_NOT_OURS ? removed : -1;
    }
    return store_commit(store);
}

static void describe_message(const struct incoming_message *message, char *what, size_t size)
{
    char command[40];
    const char *args = NULL;
    if (command_parse(message->text, NULL, command, sizeof command, &args) == 1)
        snprintf(what, size, "command /%s", command);
    else
        snprintf(what, size, "a text message");
}

static void skip_poison(struct pipeline *pipeline, const struct inbox_row *row,
                        const struct incoming_message *message)
{
    char what[64];
    describe_message(message, what, sizeof what);
    metrics_count(METRIC_UPDATES, "poison", NULL);
    log_error("update %" PRId64 " (%s) crashed the bot %d times in plugin '%s'; skipping it",
              row->update_id, what, row->crashes, row->crash_plugin);
    char apology[160];
    snprintf(apology, sizeof apology,
             "Sorry, that message crashed the plugin '%s' %d times; skipping it.",
             row->crash_plugin, row->crashes);
    struct part_list parts = {0};
    struct poison_commit poison = {.update_id = row->update_id, .parts = &parts};
    struct pending_reply reply = {
        .chat_id = message->chat_id, .thread_id = message->message_thread_id, .text = apology};
    if (split_into(pipeline, &parts, row->update_id, &reply) == 0 &&
        commit_with_retry(pipeline, commit_poison, &poison, "its skip", row->update_id) == 0)
        deliver_parts(pipeline, &parts);
    part_list_free(&parts);
}

/* An update a plugin crashed on runs alone, so another crash is charged to
 * it and not to whatever ran beside it (at start only: a worker loading a
 * flooding chat's rows cannot wait for the others, itself among them).
 * 1 when it was dispatched; 0 when skipped, dropped or not dispatched. */
static int redispatch(struct pipeline *pipeline, const struct inbox_row *row, int alone)
{
    struct incoming_message message;
    memset(&message, 0, sizeof message);
    void *holder = NULL;
    char problem[128];
    if (message_payload_decode(row->payload, &message, &holder, problem, sizeof problem) != 0) {
        log_error("update %" PRId64 ": %s; dropping it from the inbox", row->update_id, problem);
        metrics_count(METRIC_UPDATES, "bad", NULL);
        store_inbox_remove(pipeline->host->store, row->update_id);
        return 0;
    }
    message.update_id = row->update_id;
    int dispatched = 0;
    if (row->crashes >= PIPELINE_MAX_CRASHES) {
        skip_poison(pipeline, row, &message);
    } else if (row->crashes > 0 && alone) {
        log_info("update %" PRId64 " crashed plugin '%s' before (%d of %d); running it alone",
                 row->update_id, row->crash_plugin, row->crashes, PIPELINE_MAX_CRASHES);
        wait_until_idle(pipeline);
        dispatched = dispatch_one(pipeline, &message) == 0;
        if (dispatched)
            wait_until_idle(pipeline);
    } else {
        dispatched = dispatch_one(pipeline, &message) == 0;
    }
    message_payload_free(holder);
    return dispatched;
}

/* At start: only rows their chat has room for are copied and dispatched;
 * the rest wait in the inbox (admit_waiting loads them in turn). */
struct admitted_rows {
    struct pipeline *pipeline;
    struct row_copies copies;
    size_t waiting;
};

static int copy_admitted_row(const struct inbox_row *row, void *context)
{
    struct admitted_rows *admitted = context;
    if (!chat_admission_offer(admitted->pipeline->admission, row->chat_id, row->update_id,
                              row->arrival)) {
        admitted->waiting++;
        return 0;
    }
    return copy_inbox_row(row, &admitted->copies);
}

static void free_inbox_copies(struct row_copies *copies)
{
    for (size_t i = 0; i < copies->count; i++) {
        free((char *)copies->inbox[i].payload);
        free((char *)copies->inbox[i].crash_plugin);
    }
    free(copies->inbox);
}

/* Dispatches the admitted copies (when read whole) and frees them. */
static int run_admitted(struct pipeline *pipeline, struct admitted_rows *admitted, int result,
                        const char *whose, int alone)
{
    struct row_copies *copies = &admitted->copies;
    if (copies->failed)
        result = -1;
    if (result == 0 && copies->count + admitted->waiting > 0)
        log_info("inbox: %zu update(s) %s were not handled yet; handling them (%zu wait in the "
                 "inbox for their chat's turn)",
                 copies->count + admitted->waiting, whose, admitted->waiting);
    for (size_t i = 0; i < copies->count; i++) {
        const struct inbox_row *row = &copies->inbox[i];
        if (result != 0 || lifecycle_stop_requested() || !redispatch(pipeline, row, alone))
            release_update(pipeline, row->chat_id, NULL);
    }
    free_inbox_copies(copies);
    return result;
}

static int rerun_inbox(struct pipeline *pipeline)
{
    struct admitted_rows admitted = {.pipeline = pipeline};
    int result = store_inbox_list(pipeline->host->store, copy_admitted_row, &admitted);
    return run_admitted(pipeline, &admitted, result, "from before the restart", 1);
}

/* The first failed load asks whoever retries loads to come sooner. */
static void ask_for_retry(struct pipeline *pipeline)
{
    pthread_mutex_lock(&pipeline->retry_wake_lock);
    if (pipeline->retry_wake != NULL)
        pipeline->retry_wake(pipeline->retry_wake_context);
    pthread_mutex_unlock(&pipeline->retry_wake_lock);
}

/* One load of chat_id's next waiting rows: 1 when rows were read (more
 * may be taken now), 0 when none could be taken or the read failed. */
static int load_waiting(struct pipeline *pipeline, int64_t chat_id)
{
    size_t taken = 0;
    int64_t *update_ids = chat_admission_take_waiting(pipeline->admission, chat_id, &taken);
    if (update_ids == NULL)
        return 0;
    struct row_copies copies = {0};
    int read =
        store_inbox_get(pipeline->host->store, update_ids, taken, copy_inbox_row, &copies) == 0 &&
        !copies.failed;
    free(update_ids);
    size_t dispatched = 0;
    int64_t last_arrival = 0;
    for (size_t i = 0; read && i < copies.count; i++) {
        dispatched += (size_t)redispatch(pipeline, &copies.inbox[i], 0);
        last_arrival = copies.inbox[i].arrival;
    }
    enum load_change change =
        chat_admission_loaded(pipeline->admission, chat_id, taken, read, dispatched, last_arrival);
    if (change == LOAD_FAILED) {
        log_warn("inbox: chat %" PRId64 "'s waiting updates could not be read; retrying with "
                 "backoff (its later updates wait behind them)",
                 chat_id);
        ask_for_retry(pipeline);
    } else if (change == LOAD_RECOVERED)
        log_info("inbox: chat %" PRId64 "'s waiting updates read again", chat_id);
    free_inbox_copies(&copies);
    return read;
}

void pipeline_set_retry_wake(struct pipeline *pipeline, void (*wake)(void *context), void *context)
{
    if (pipeline == NULL)
        return;
    pthread_mutex_lock(&pipeline->retry_wake_lock);
    pipeline->retry_wake = wake;
    pipeline->retry_wake_context = context;
    pthread_mutex_unlock(&pipeline->retry_wake_lock);
}

/* Room freed in chat_id's share: its next rows from the inbox, in order.
 * Again after a load: what it dispatched may have been handled and sent
 * before the load was done, and their own calls found the chat loading. */
static void admit_waiting(struct pipeline *pipeline, int64_t chat_id)
{
    while (load_waiting(pipeline, chat_id)) {
    }
}

#define DUE_LOADS_A_CALL 64

int64_t pipeline_retry_loads(struct pipeline *pipeline)
{
    if (pipeline == NULL)
        return -1;
    int64_t chats[DUE_LOADS_A_CALL];
    size_t count = 0;
    int64_t next = chat_admission_due_loads(pipeline->admission, chats, DUE_LOADS_A_CALL, &count);
    for (size_t i = 0; i < count; i++)
        admit_waiting(pipeline, chats[i]);
    return next; /* 0 after loads: asked again at the next round, which sees their outcome */
}

int pipeline_recover(struct pipeline *pipeline)
{
    crash_record_collect(count_crash, pipeline);
    if (resend_outbox(pipeline) != 0)
        return -1;
    return rerun_inbox(pipeline);
}

/* Rows taken over per call: the rest come at the next. */
#define TAKE_OVER_ROWS 1000

int pipeline_renew_claim(struct pipeline *pipeline, int at_start)
{
    const struct config *config = pipeline->host->config;
    int64_t claim_ms = config != NULL && config->lease_s > 0 ? config->lease_s * 1000LL : 10000;
    int64_t started = monotonic_ms();
    int renewed = store_claims_renew(pipeline->host->store);
    if (renewed < 0)
        return -1;
    atomic_store(&pipeline->shared, 1);
    /* lapsed at start: we were down, and the rows that others took are
     * theirs now (ours are listed by owner); lapsed later: some of what
     * this run holds may be another host's */
    if (renewed == 1 && !at_start) {
        atomic_store(&pipeline->claim_valid_until_ms, 0);
        return 1;
    }
    /* a quarter of the lease kept back: another host's clock reads the
     * lapse from the database's, a little later than ours may */
    atomic_store(&pipeline->claim_valid_until_ms, started + claim_ms * 3 / 4);
    return 0;
}

int pipeline_may_send(struct pipeline *pipeline)
{
    return pipeline == NULL || !atomic_load(&pipeline->shared) ||
           monotonic_ms() < atomic_load(&pipeline->claim_valid_until_ms);
}

int pipeline_take_over(struct pipeline *pipeline)
{
    struct store *store = pipeline->host->store;
    int renewed = pipeline_renew_claim(pipeline, 0);
    if (renewed != 0)
        return renewed;
    /* replies the stopped host committed go first, as at a restart */
    struct row_copies copies = {0};
    int result = store_outbox_claim_stale(store, copy_outbox_row, &copies);
    if (deliver_copies(pipeline, copies, result, "of a host that stopped renewing its claim") != 0)
        return -1;
    /* under the accept lock: the claimed rows' new arrivals are offered
     * before any accepted after them (see accept_lock) */
    pthread_mutex_lock(&pipeline->accept_lock);
    int64_t first = take_arrivals(TAKE_OVER_ROWS + 1);
    struct admitted_rows admitted = {.pipeline = pipeline};
    result = store_inbox_claim_stale(store, first, TAKE_OVER_ROWS, copy_admitted_row, &admitted);
    /* not alone: waiting for the whole dispatcher here would stop the renewals */
    result =
        run_admitted(pipeline, &admitted, result, "of a host that stopped renewing its claim", 0);
    pthread_mutex_unlock(&pipeline->accept_lock);
    return result;
}

/* ---- life ---- */

struct pipeline *pipeline_create(struct host *host, const struct pipeline_delivery *delivery)
{
    struct pipeline *pipeline = calloc(1, sizeof *pipeline);
    if (pipeline == NULL)
        return NULL;
    pipeline->host = host;
    pipeline->delivery = *delivery;
    atomic_init(&pipeline->unhandled, 0);
    atomic_init(&pipeline->unsent, 0);
    atomic_init(&pipeline->claim_valid_until_ms, 0);
    atomic_init(&pipeline->shared, 0);
    pthread_mutex_init(&pipeline->deferred_lock, NULL);
    pthread_mutex_init(&pipeline->accept_lock, NULL);
    pthread_mutex_init(&pipeline->doubt_lock, NULL);
    pthread_mutex_init(&pipeline->retry_wake_lock, NULL);
    const struct config *config = host->config;
    pipeline->admission = chat_admission_create(config != NULL && config->chat_backlog_in_memory > 0
                                                    ? config->chat_backlog_in_memory
                                                    : DEFAULT_CHAT_BACKLOG);
    pipeline->group = commit_group_create(host->store, GROUP_BOUND_MS);
    if (pipeline->admission == NULL) {
        commit_group_destroy(pipeline->group);
        pthread_mutex_destroy(&pipeline->deferred_lock);
        pthread_mutex_destroy(&pipeline->accept_lock);
        pthread_mutex_destroy(&pipeline->doubt_lock);
        pthread_mutex_destroy(&pipeline->retry_wake_lock);
        free(pipeline);
        return NULL;
    }
    return pipeline;
}

void pipeline_destroy(struct pipeline *pipeline)
{
    if (pipeline == NULL)
        return;
    /* what the group holds commits; the medium that would send it is gone */
    atomic_store(&pipeline->closing, 1);
    commit_group_destroy(pipeline->group);
    size_t abandoned = 0;
    while (pipeline->deferred != NULL) {
        struct jv_deferred *deferred = pipeline->deferred;
        deferred_unlink(pipeline, deferred);
        deferred_free(deferred);
        abandoned++;
    }
    if (abandoned > 0)
        log_warn("%zu deferred answer(s) never finished; their updates are handled again "
                 "after a restart",
                 abandoned);
    pthread_mutex_destroy(&pipeline->deferred_lock);
    pthread_mutex_destroy(&pipeline->accept_lock);
    pthread_mutex_destroy(&pipeline->doubt_lock);
    chat_admission_destroy(pipeline->admission);
    free(pipeline);
}
