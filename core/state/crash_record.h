/* Crash attribution: which update and plugin a worker was running when a
 * fatal signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) hit it. The signal
 * handler appends one fixed-size record to <state_dir>/crashes with a single
 * write(2), then lets the signal kill the process as it would have. Only
 * these records count toward skipping an update as poison: a SIGKILL, a
 * SIGTERM, the OOM killer or a power loss leave none. */
#ifndef JARVIS_CRASH_RECORD_H
#define JARVIS_CRASH_RECORD_H

#include <stdint.h>

#define CRASH_PLUGIN_NAME_MAX 40

/* Opens the record file (0600) and installs the handlers. 0, or -1 (logged). */
int crash_record_open(const char *state_dir);
/* Restores the default dispositions and closes the file. */
void crash_record_close(void);
/* Gives the calling thread an alternate signal stack, so a stack overflow
 * in a plugin is recorded too. Call once per worker thread; frees itself. */
void crash_record_thread_init(void);
/* Around each plugin callback on this thread; update_id -1 for callbacks
 * that handle no update (jobs). */
void crash_record_enter(int64_t update_id, const char *plugin_name);
void crash_record_leave(void);
/* Reads the records earlier runs left, calls visit for each, then empties
 * the file. Returns how many were read, or -1 (logged). */
int crash_record_collect(void (*visit)(int64_t update_id, const char *plugin, int signal_number,
                                       void *context),
                         void *context);

#endif
