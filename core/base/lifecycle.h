/* Signals turned into flags and a wake-up fd that blocking loops poll:
 * SIGTERM/SIGINT request a clean stop, SIGHUP asks to reopen the log and
 * reload the configuration. */
#ifndef JARVIS_LIFECYCLE_H
#define JARVIS_LIFECYCLE_H

#include <signal.h>

int lifecycle_install_signals(void);
int lifecycle_stop_requested(void);
/* Readable once a stop was requested; poll it beside your own fds. */
int lifecycle_wake_fd(void);
/* Returns 1 once per SIGHUP received since the last call. */
int lifecycle_take_hangup_request(void);
/* Sleeps until a SIGHUP came or lifecycle_wake_hangup_waiter was called
 * (either may have happened before the call); may also return early, so
 * callers check lifecycle_take_hangup_request and their own stop flag. */
void lifecycle_wait_hangup(void);
void lifecycle_wake_hangup_waiter(void);

/* Blocks SIGTERM, SIGINT and SIGHUP in the calling thread, saving the old
 * mask in previous: threads created until the restore inherit the block, so
 * those signals land on the main thread, whose poll they are meant to
 * interrupt. */
void lifecycle_block_signals(sigset_t *previous);
void lifecycle_restore_signals(const sigset_t *previous);

#endif
