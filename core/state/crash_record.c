/* The crash record file and the fatal-signal handler that writes it. The
 * handler only reads this thread's slot and calls write(2) and raise(3),
 * which are async-signal-safe; the file is opened before any worker runs. */
#include "state/crash_record.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/text.h"

#define RECORD_MAGIC 0x5243564Au /* "JVCR" */
#define ALTERNATE_STACK_SIZE (64 * 1024)

struct crash_entry {
    uint32_t magic;
    int32_t signal_number;
    int64_t update_id;
    char plugin[CRASH_PLUGIN_NAME_MAX];
};

struct running_slot {
    volatile int active;
    int64_t update_id;
    char plugin[CRASH_PLUGIN_NAME_MAX];
};

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
#define FATAL_SIGNAL_COUNT (sizeof fatal_signals / sizeof fatal_signals[0])

static int record_fd = -1;
static char *record_path;
static _Thread_local struct running_slot slot;

static void on_fatal_signal(int signal_number)
{
    if (slot.active && record_fd >= 0) {
        struct crash_entry entry;
        memset(&entry, 0, sizeof entry);
        entry.magic = RECORD_MAGIC;
        entry.signal_number = signal_number;
        entry.update_id = slot.update_id;
        memcpy(entry.plugin, slot.plugin, sizeof entry.plugin);
        ssize_t written = write(record_fd, &entry, sizeof entry);
        (void)written; /* nothing better to do while dying */
        slot.active = 0;
    }
    /* SA_RESETHAND put the default back: re-raising kills the process the
     * way the signal would have (a fault re-executes and faults again). */
    raise(signal_number);
}

int crash_record_open(const char *state_dir)
{
    size_t length = strlen(state_dir) + sizeof "/crashes";
    record_path = malloc(length);
    if (record_path == NULL)
        return -1;
    snprintf(record_path, length, "%s/crashes", state_dir);
    record_fd = open(record_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (record_fd < 0) {
        log_error("%s: cannot open the crash record file: %s", record_path, strerror(errno));
        free(record_path);
        record_path = NULL;
        return -1;
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_fatal_signal;
    action.sa_flags = SA_RESETHAND | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < FATAL_SIGNAL_COUNT; i++)
        sigaction(fatal_signals[i], &action, NULL);
    return 0;
}

void crash_record_close(void)
{
    if (record_fd < 0)
        return;
    for (size_t i = 0; i < FATAL_SIGNAL_COUNT; i++)
        signal(fatal_signals[i], SIG_DFL);
    close(record_fd);
    record_fd = -1;
    free(record_path);
    record_path = NULL;
}

static void free_alternate_stack(void *stack)
{
    stack_t none = {.ss_flags = SS_DISABLE};
    sigaltstack(&none, NULL);
    free(stack);
}

static pthread_key_t stack_key;
static pthread_once_t stack_key_once = PTHREAD_ONCE_INIT;

static void create_stack_key(void)
{
    if (pthread_key_create(&stack_key, free_alternate_stack) != 0)
        log_warn("crash records: no alternate signal stacks (out of thread keys)");
}

void crash_record_thread_init(void)
{
    pthread_once(&stack_key_once, create_stack_key);
    void *memory = malloc(ALTERNATE_STACK_SIZE);
    if (memory == NULL)
        return;
    stack_t stack = {.ss_sp = memory, .ss_size = ALTERNATE_STACK_SIZE, .ss_flags = 0};
    if (sigaltstack(&stack, NULL) != 0 || pthread_setspecific(stack_key, memory) != 0) {
        free(memory);
        return;
    }
}

void crash_record_enter(int64_t update_id, const char *plugin_name)
{
    slot.update_id = update_id;
    text_join(slot.plugin, sizeof slot.plugin, plugin_name, "");
    slot.active = 1;
}

void crash_record_leave(void)
{
    slot.active = 0;
}

int crash_record_collect(void (*visit)(int64_t update_id, const char *plugin, int signal_number,
                                       void *context),
                         void *context)
{
    if (record_fd < 0)
        return -1;
    if (lseek(record_fd, 0, SEEK_SET) < 0)
        return -1;
    int count = 0;
    struct crash_entry entry;
    while (read(record_fd, &entry, sizeof entry) == (ssize_t)sizeof entry) {
        if (entry.magic != RECORD_MAGIC)
            continue; /* a torn or foreign record counts for nothing */
        entry.plugin[sizeof entry.plugin - 1] = '\0';
        visit(entry.update_id, entry.plugin, entry.signal_number, context);
        count++;
    }
    if (ftruncate(record_fd, 0) != 0) {
        log_error("%s: cannot empty the crash record file: %s", record_path, strerror(errno));
        return -1;
    }
    return count;
}
