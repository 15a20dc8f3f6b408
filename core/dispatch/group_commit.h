/* The pipeline's group commit (store_group.h): handled commits and sent
 * marks written into one open SQLite transaction as they come, committed
 * together when no more work is ready, when the group is full, before a
 * chat's next part is sent, or at the latest bound_ms after the first
 * unit joined (a timer thread), never later because of a slow handler.
 * Each unit's completion (deliver its replies...) runs after its group's
 * COMMIT, in the order the units were written. */
#ifndef JARVIS_GROUP_COMMIT_H
#define JARVIS_GROUP_COMMIT_H

#include <stdint.h>

struct store;
struct commit_group;

/* One unit's record, kept by its owner (embedded first in its own state)
 * until done runs: committed 1, or 0 when its group was rolled back (the
 * owner then commits it alone). */
struct group_unit {
    struct group_unit *next;
    uint64_t group;
    int state;
    void (*done)(struct group_unit *unit, int committed);
};

/* NULL when the store has no group commits (PostgreSQL) or out of memory. */
struct commit_group *commit_group_create(struct store *store, int64_t bound_ms);
/* Commits what is open and runs the completions left. */
void commit_group_destroy(struct commit_group *group);

/* Writes a unit: apply runs inside it (0 keeps its writes; otherwise they
 * are undone, nothing is queued and -1 returned). may_wait: more work is
 * ready, so the group stays open for it (bounded); 0: commits now. */
int commit_group_add(struct commit_group *group, struct group_unit *unit,
                     int (*apply)(struct group_unit *unit), int may_wait);
/* A sent mark of chat_id went into the group numbered group
 * (store_part_sent_in_group); it has no completion. */
void commit_group_mark(struct commit_group *group, uint64_t number, int64_t chat_id, int may_wait);
/* A mark went into the store's sent journal: the timer commits (folding
 * it) at the latest delay_ms from now, unless another commit comes first. */
void commit_group_fold_later(struct commit_group *group, int64_t delay_ms);
/* Before a part of chat_id goes out on this thread: a mark of that chat,
 * or this thread's own last mark, still waiting in the open group commits
 * first. A kill then repeats at most one part a chat and one a sender
 * thread: the part in flight, or the one sent last (within bound_ms).
 * others_sending: other parts are out, so this thread first lets their
 * senders run (a yield), and the marks they write share the commit. */
void commit_group_before_send(struct commit_group *group, int64_t chat_id, int others_sending);
/* Commits the open group now (why: the metric's label) and runs the
 * completions of every group that ended. */
void commit_group_flush(struct commit_group *group, const char *why);

#endif
