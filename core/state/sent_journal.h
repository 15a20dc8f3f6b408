/* The sent journal: a memory-mapped file beside the SQLite database where a
 * sender writes "this outbox part is sent" without a syscall or a commit.
 * Its pages live in the kernel's page cache, so a mark survives any death
 * of the process (kill -9, a crash); the store folds the marks into the
 * outbox (deleting the rows) inside commits it makes anyway, and before it
 * reads the outbox. A power loss may lose marks (their parts go again). */
#ifndef JARVIS_SENT_JOURNAL_H
#define JARVIS_SENT_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

struct sent_journal;

/* Which outbox row a mark is for: the row is removed only when all four
 * still match, so a mark never removes a different part that reused the
 * id (possible only after a power loss that lost the part's commit). */
struct sent_mark_entry {
    int64_t outbox_id;
    int64_t update_id;
    int64_t chat_id;
    int64_t text_length;
};

/* Opens (creating it when missing) the journal at path, for the database
 * that database_key names (its device and inode: a database moved aside and
 * made anew is another one). A file that is not a journal, is damaged, or
 * holds marks of another database is started afresh with a warning naming
 * it (its marks are lost: those parts may go again). NULL with a one-line
 * reason when the file cannot be opened or mapped. */
struct sent_journal *sent_journal_open(const char *path, uint64_t database_key, char *error,
                                       size_t error_size);
void sent_journal_close(struct sent_journal *journal);

/* 0 written, -1 the journal is full (the caller marks the row its own way). */
int sent_journal_append(struct sent_journal *journal, const struct sent_mark_entry *entry);
/* The marks not yet folded: [*first, returned end). Entries in that range
 * do not change until sent_journal_folded. */
size_t sent_journal_pending(struct sent_journal *journal, size_t *first);
const struct sent_mark_entry *sent_journal_entry(const struct sent_journal *journal, size_t index);
/* The marks below end are in a committed transaction: they are dropped
 * (the journal starts over at its first slot once nothing is pending). */
void sent_journal_folded(struct sent_journal *journal, size_t end);

#endif
