/* Signals turned into flags and a wake-up fd that blocking loops poll:
 * SIGTERM/SIGINT request a clean stop, SIGHUP asks to reopen the log. */
#ifndef JARVIS_LIFECYCLE_H
#define JARVIS_LIFECYCLE_H

int lifecycle_install_signals(void);
int lifecycle_stop_requested(void);
void lifecycle_request_stop(void);
/* Readable once a stop was requested; poll it beside your own fds. */
int lifecycle_wake_fd(void);
/* Returns 1 once per SIGHUP received since the last call. */
int lifecycle_take_reopen_request(void);

#endif
