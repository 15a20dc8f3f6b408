/* The sent journal (sent_journal.h): a fixed-size file, a header and a
 * row of fixed-size marks, mapped shared so that a store to the mapping is
 * in the page cache at once and outlives the process. */
#include "state/sent_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

#define JOURNAL_MAGIC 0x6a76736e746a726eULL /* "jvsntjrn" */
#define JOURNAL_VERSION 1
/* 4,096 marks (128 KiB of file): only the pages in use are resident, and
 * the journal starts over at slot 0 each time everything is folded. */
#define JOURNAL_CAPACITY 4096

struct journal_header {
    uint64_t magic;
    uint32_t version;
    uint32_t entry_size;
    uint64_t capacity;
    /* written after the entry it counts: a death between the two loses
     * that one mark (its part goes again), never reads a half entry */
    _Atomic uint64_t count;
    _Atomic uint64_t folded; /* marks below this are in the database */
    uint64_t database_key;   /* whose outbox the marks are of */
    uint64_t reserved[2];
};

_Static_assert(sizeof(struct journal_header) == 64, "the header is one cache line");
_Static_assert(sizeof(struct sent_mark_entry) == 32, "a mark is 32 bytes on disk");

struct sent_journal {
    pthread_mutex_t lock; /* appenders against each other and the fold */
    struct journal_header *header;
    struct sent_mark_entry *entries;
};

static size_t file_size(void)
{
    return sizeof(struct journal_header) +
           (size_t)JOURNAL_CAPACITY * sizeof(struct sent_mark_entry);
}

static void start_afresh(struct journal_header *header)
{
    memset(header, 0, sizeof *header);
    header->version = JOURNAL_VERSION;
    header->entry_size = sizeof(struct sent_mark_entry);
    header->capacity = JOURNAL_CAPACITY;
    header->magic = JOURNAL_MAGIC;
}

/* A header this jarvis can trust, or a reason it cannot (NULL: trusted). */
static const char *header_problem(const struct journal_header *header)
{
    if (header->magic != JOURNAL_MAGIC)
        return "not a sent journal";
    if (header->version != JOURNAL_VERSION ||
        header->entry_size != sizeof(struct sent_mark_entry) ||
        header->capacity != JOURNAL_CAPACITY)
        return "a journal of another layout";
    if (atomic_load(&header->count) > JOURNAL_CAPACITY)
        return "its mark count is beyond its size";
    return NULL;
}

static void adopt_header(struct journal_header *header, const char *path, int was_empty,
                         uint64_t database_key)
{
    if (was_empty) {
        start_afresh(header);
        header->database_key = database_key;
        return;
    }
    const char *problem = header_problem(header);
    if (problem == NULL && header->database_key != database_key &&
        atomic_load(&header->count) > atomic_load(&header->folded))
        problem = "its marks are of another database (moved aside or restored since)";
    if (problem != NULL) {
        log_warn("%s: %s; started afresh (parts it marked sent may go again)", path, problem);
        start_afresh(header);
        header->database_key = database_key;
        return;
    }
    header->database_key = database_key;
    /* a death while starting over (count cleared first) leaves folded
     * above count: nothing is pending */
    if (atomic_load(&header->folded) > atomic_load(&header->count))
        atomic_store(&header->folded, atomic_load(&header->count));
}

/* The file, sized for the journal; *was_empty when it holds no journal yet. */
static int open_file(const char *path, int *was_empty, char *error, size_t error_size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(error, error_size, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat status;
    if (fstat(fd, &status) != 0) {
        snprintf(error, error_size, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    *was_empty = status.st_size == 0;
    if ((size_t)status.st_size == file_size())
        return fd;
    if (!*was_empty)
        log_warn("%s: %lld bytes where a sent journal has %zu; started afresh (parts it "
                 "marked sent may go again)",
                 path, (long long)status.st_size, file_size());
    *was_empty = 1;
    /* posix_fallocate: a full disk says so here, not as SIGBUS on a store */
    int failed = ftruncate(fd, 0) != 0 ? errno : posix_fallocate(fd, 0, (off_t)file_size());
    if (failed != 0) {
        snprintf(error, error_size, "%s: cannot size it: %s", path, strerror(failed));
        close(fd);
        return -1;
    }
    return fd;
}

struct sent_journal *sent_journal_open(const char *path, uint64_t database_key, char *error,
                                       size_t error_size)
{
    int was_empty = 0;
    int fd = open_file(path, &was_empty, error, error_size);
    if (fd < 0)
        return NULL;
    void *mapping = mmap(NULL, file_size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int map_error = errno;
    close(fd); /* the mapping keeps the file */
    if (mapping == MAP_FAILED) {
        snprintf(error, error_size, "%s: cannot map: %s", path, strerror(map_error));
        return NULL;
    }
    struct sent_journal *journal = calloc(1, sizeof *journal);
    if (journal == NULL) {
        munmap(mapping, file_size());
        snprintf(error, error_size, "%s: out of memory", path);
        return NULL;
    }
    pthread_mutex_init(&journal->lock, NULL);
    journal->header = mapping;
    journal->entries = (struct sent_mark_entry *)(journal->header + 1);
    adopt_header(journal->header, path, was_empty, database_key);
    return journal;
}

void sent_journal_close(struct sent_journal *journal)
{
    if (journal == NULL)
        return;
    munmap(journal->header, file_size());
    pthread_mutex_destroy(&journal->lock);
    free(journal);
}

int sent_journal_append(struct sent_journal *journal, const struct sent_mark_entry *entry)
{
    if (journal == NULL || entry == NULL)
        return -1;
    pthread_mutex_lock(&journal->lock);
    uint64_t count = atomic_load_explicit(&journal->header->count, memory_order_relaxed);
    int appended = count < JOURNAL_CAPACITY;
    if (appended) {
        journal->entries[count] = *entry;
        atomic_store_explicit(&journal->header->count, count + 1, memory_order_release);
    }
    pthread_mutex_unlock(&journal->lock);
    return appended ? 0 : -1;
}

size_t sent_journal_pending(struct sent_journal *journal, size_t *first)
{
    if (journal == NULL) {
        if (first != NULL)
            *first = 0;
        return 0;
    }
    pthread_mutex_lock(&journal->lock);
    size_t end = (size_t)atomic_load(&journal->header->count);
    if (first != NULL)
        *first = (size_t)atomic_load(&journal->header->folded);
    pthread_mutex_unlock(&journal->lock);
    return end;
}

const struct sent_mark_entry *sent_journal_entry(const struct sent_journal *journal, size_t index)
{
    if (journal == NULL || index >= JOURNAL_CAPACITY)
        return NULL;
    return &journal->entries[index];
}

void sent_journal_folded(struct sent_journal *journal, size_t end)
{
    if (journal == NULL)
        return;
    pthread_mutex_lock(&journal->lock);
    struct journal_header *header = journal->header;
    if (end > atomic_load(&header->folded))
        atomic_store(&header->folded, end);
    if (atomic_load(&header->folded) >= atomic_load(&header->count)) {
        /* count first: a death in between leaves folded above count,
         * which the next open reads as nothing pending */
        atomic_store(&header->count, 0);
        atomic_store(&header->folded, 0);
    }
    pthread_mutex_unlock(&journal->lock);
}
