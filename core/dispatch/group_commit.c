/* The pipeline's group commit (group_commit.h): the queue of written units
 * waiting for their group's end, the bound's timer thread, the marks a
 * chat's next send waits for, and the completions in writing order. */
#include "dispatch/group_commit.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "base/clock.h"
#include "base/metrics.h"
#include "state/store_group.h"

/* A group this big commits without waiting for more: its WAL append stays
 * small, and one rolled-back group costs few units their retry alone. */
#define GROUP_UNITS_MAX 128
#define MARK_CHATS_MAX 64

enum unit_state { UNIT_PENDING, UNIT_COMMITTED, UNIT_FAILED };

/* A chat whose last sent mark waits in a group (until that group ends). */
struct waiting_mark {
    int64_t chat_id;
    uint64_t group;
};

struct commit_group {
    struct store *store;
    int64_t bound_ms;
    /* Held while a unit is written and while completions run, before the
     * store's mutex: units are written and completed in one order. */
    pthread_mutex_t lock;
    /* A leaf: the store's hook takes it under the store's mutex. */
    pthread_mutex_t status_lock;
    pthread_cond_t timer_wake;
    struct group_unit *head, *tail; /* written, completion not yet run */
    uint64_t ended_count;           /* groups numbered below this have ended */
    size_t open_units;              /* units and marks in the open group */
    struct waiting_mark marks[MARK_CHATS_MAX];
    size_t mark_count;
    int armed; /* the timer flushes at deadline_ms */
    int64_t deadline_ms;
    int timer_idle; /* the timer waits untimed: a new arm signals it */
    int stopping;
    pthread_t timer;
};

/* Set while this thread ends a group itself: the hook then counts nothing. */
static _Thread_local int ending_here;
/* Set while this thread runs completions: a medium that sends at once
 * (the console) marks its part from inside one, and the lock is held. */
static _Thread_local int completing;
static _Thread_local int marked_while_completing;
/* A sender thread's last mark, until its group ended: committed before
 * the thread sends again, so at most one part a sender thread is unmarked
 * (in flight, or sent and waiting), as many as were in flight before. */
static _Thread_local uint64_t own_mark_group;
static _Thread_local int own_mark_waiting;

/* Under status_lock: the timer flushes bound_ms from now (or earlier, when
 * it was armed before). */
static void arm(struct commit_group *group, int64_t delay_ms)
{
    int64_t deadline = monotonic_ms() + delay_ms;
    if (group->armed && group->deadline_ms <= deadline)
        return;
    group->armed = 1;
    group->deadline_ms = deadline;
    if (group->timer_idle)
        pthread_cond_signal(&group->timer_wake);
}

static void group_ended(uint64_t number, int result, void *context)
{
    struct commit_group *group = context;
    pthread_mutex_lock(&group->status_lock);
    group->ended_count = number + 1;
    group->open_units = 0;
    for (struct group_unit *unit = group->head; unit != NULL; unit = unit->next)
        if (unit->state == UNIT_PENDING && unit->group == number)
            unit->state = result == 0 ? UNIT_COMMITTED : UNIT_FAILED;
    group->armed = 0;
    if (!ending_here) {
        /* another commit ended it (an accepted batch, a job's write): the
         * completions are due, and that thread cannot run them */
        metrics_count(METRIC_STORE_COMMITS, "other", NULL);
        if (group->head != NULL)
            arm(group, 0);
    }
    pthread_mutex_unlock(&group->status_lock);
}

static struct group_unit *take_ended(struct commit_group *group)
{
    pthread_mutex_lock(&group->status_lock);
    struct group_unit *unit = group->head;
    if (unit != NULL && unit->state != UNIT_PENDING) {
        group->head = unit->next;
        if (group->head == NULL)
            group->tail = NULL;
    } else {
        unit = NULL;
    }
    pthread_mutex_unlock(&group->status_lock);
    return unit;
}

/* Under lock. */
static void run_completions(struct commit_group *group)
{
    struct group_unit *unit;
    completing = 1;
    while ((unit = take_ended(group)) != NULL)
        unit->done(unit, unit->state == UNIT_COMMITTED);
    completing = 0;
}

/* Under lock: the open group (or the journal's marks alone) commits, counted
 * by why. */
static void commit_counted(struct commit_group *group, const char *why)
{
    ending_here = 1;
    int result = store_group_commit(group->store);
    ending_here = 0;
    if (result != 1)
        metrics_count(METRIC_STORE_COMMITS, result == 2 ? "journal" : why, NULL);
}

/* Under lock. */
static void flush_locked(struct commit_group *group, const char *why)
{
    commit_counted(group, why);
    marked_while_completing = 0;
    run_completions(group);
    if (marked_while_completing)
        commit_counted(group, why); /* the marks of parts sent during the completions */
}

void commit_group_flush(struct commit_group *group, const char *why)
{
    if (group == NULL)
        return;
    pthread_mutex_lock(&group->lock);
    flush_locked(group, why);
    pthread_mutex_unlock(&group->lock);
}

/* Under status_lock: the unit is queued behind the others of its group. */
static size_t enqueue(struct commit_group *group, struct group_unit *unit, uint64_t number)
{
    unit->group = number;
    unit->state = UNIT_PENDING;
    unit->next = NULL;
    if (group->tail != NULL)
        group->tail->next = unit;
    else
        group->head = unit;
    group->tail = unit;
    return ++group->open_units;
}

int commit_group_add(struct commit_group *group, struct group_unit *unit,
                     int (*apply)(struct group_unit *unit), int may_wait)
{
    pthread_mutex_lock(&group->lock);
    run_completions(group); /* groups another commit ended go first */
    uint64_t number = 0;
    if (store_unit_begin(group->store, &number) != 0) {
        pthread_mutex_unlock(&group->lock);
        return -1;
    }
    int kept = apply(unit) == 0;
    size_t units = 0;
    if (kept) {
        /* queued before the unit ends: its group cannot end before (the
         * store is held), so the hook finds it */
        pthread_mutex_lock(&group->status_lock);
        units = enqueue(group, unit, number);
        if (may_wait && units < GROUP_UNITS_MAX)
            arm(group, group->bound_ms);
        pthread_mutex_unlock(&group->status_lock);
    }
    /* a unit that cannot end takes its group back: the hook says so */
    store_unit_end(group->store, kept);
    if (!kept) {
        pthread_mutex_unlock(&group->lock);
        return -1;
    }
    metrics_count(METRIC_STORE_UNITS, "handled", NULL);
    if (!may_wait || units >= GROUP_UNITS_MAX)
        flush_locked(group, may_wait ? "full" : "idle");
    pthread_mutex_unlock(&group->lock);
    return 0;
}

/* Under status_lock: 0 when no room is left for another chat. */
static int remember_mark(struct commit_group *group, uint64_t number, int64_t chat_id)
{
    struct waiting_mark *free_slot = NULL;
    for (size_t i = 0; i < group->mark_count; i++) {
        struct waiting_mark *mark = &group->marks[i];
        if (mark->chat_id == chat_id || mark->group < group->ended_count) {
            free_slot = mark;
            if (mark->chat_id == chat_id)
                break;
        }
    }
    if (free_slot == NULL && group->mark_count < MARK_CHATS_MAX)
        free_slot = &group->marks[group->mark_count++];
    if (free_slot == NULL)
        return 0;
    *free_slot = (struct waiting_mark){.chat_id = chat_id, .group = number};
    return 1;
}

void commit_group_mark(struct commit_group *group, uint64_t number, int64_t chat_id, int may_wait)
{
    if (group == NULL)
        return;
    metrics_count(METRIC_STORE_UNITS, "sent", NULL);
    pthread_mutex_lock(&group->status_lock);
    int open = number >= group->ended_count; /* else another commit took it already */
    int full = 0;
    if (open) {
        full = ++group->open_units >= GROUP_UNITS_MAX || !remember_mark(group, number, chat_id);
        if (may_wait && !full)
            arm(group, group->bound_ms);
    }
    pthread_mutex_unlock(&group->status_lock);
    own_mark_group = number;
    own_mark_waiting = open;
    if (completing)
        marked_while_completing = 1; /* the flush running them commits it */
    else if (open && (!may_wait || full))
        commit_group_flush(group, may_wait ? "full" : "idle");
}

void commit_group_fold_later(struct commit_group *group, int64_t delay_ms)
{
    if (group == NULL)
        return;
    metrics_count(METRIC_STORE_UNITS, "sent", NULL);
    pthread_mutex_lock(&group->status_lock);
    arm(group, delay_ms);
    pthread_mutex_unlock(&group->status_lock);
}

/* 1 while this thread's last mark or a mark of chat_id waits in the open group. */
static int mark_waits(struct commit_group *group, int64_t chat_id)
{
    pthread_mutex_lock(&group->status_lock);
    int waiting = own_mark_waiting && own_mark_group >= group->ended_count;
    for (size_t i = 0; i < group->mark_count && !waiting; i++)
        waiting = group->marks[i].chat_id == chat_id && group->marks[i].group >= group->ended_count;
    pthread_mutex_unlock(&group->status_lock);
    return waiting;
}

void commit_group_before_send(struct commit_group *group, int64_t chat_id, int others_sending)
{
    if (group == NULL || !mark_waits(group, chat_id))
        return;
    /* other senders whose answers came meanwhile mark first and share the
     * commit (on one core they would run only after it) */
    if (others_sending)
        sched_yield();
    if (mark_waits(group, chat_id))
        commit_group_flush(group, "send");
    own_mark_waiting = 0;
}

static void *timer_main(void *argument)
{
    pthread_setname_np(pthread_self(), "jv-committer"); /* roles in top -H, /proc */
    struct commit_group *group = argument;
    pthread_mutex_lock(&group->status_lock);
    while (!group->stopping) {
        if (!group->armed) {
            group->timer_idle = 1;
            pthread_cond_wait(&group->timer_wake, &group->status_lock);
            group->timer_idle = 0;
            continue;
        }
        int64_t left = group->deadline_ms - monotonic_ms();
        if (left > 0) {
            struct timespec wake = monotonic_deadline_after(left);
            pthread_cond_timedwait(&group->timer_wake, &group->status_lock, &wake);
            continue;
        }
        group->armed = 0;
        pthread_mutex_unlock(&group->status_lock);
        commit_group_flush(group, "timer");
        pthread_mutex_lock(&group->status_lock);
    }
    pthread_mutex_unlock(&group->status_lock);
    return NULL;
}

static void free_group(struct commit_group *group)
{
    pthread_mutex_destroy(&group->lock);
    pthread_mutex_destroy(&group->status_lock);
    pthread_cond_destroy(&group->timer_wake);
    free(group);
}

struct commit_group *commit_group_create(struct store *store, int64_t bound_ms)
{
    if (!store_groups_commits(store))
        return NULL;
    struct commit_group *group = calloc(1, sizeof *group);
    if (group == NULL)
        return NULL;
    group->store = store;
    group->bound_ms = bound_ms;
    pthread_mutex_init(&group->lock, NULL);
    pthread_mutex_init(&group->status_lock, NULL);
    monotonic_cond_init(&group->timer_wake);
    if (pthread_create(&group->timer, NULL, timer_main, group) != 0) {
        free_group(group);
        return NULL;
    }
    store_group_set_hook(store, group_ended, group);
    return group;
}

void commit_group_destroy(struct commit_group *group)
{
    if (group == NULL)
        return;
    pthread_mutex_lock(&group->status_lock);
    group->stopping = 1;
    pthread_cond_signal(&group->timer_wake);
    pthread_mutex_unlock(&group->status_lock);
    pthread_join(group->timer, NULL);
    commit_group_flush(group, "idle");
    store_group_set_hook(group->store, NULL, NULL);
    free_group(group);
}
