/* Signals become flags plus a self-pipe, so blocking loops can poll one fd:
 * SIGTERM/SIGINT request a clean stop (the pipe turns readable and stays so),
 * SIGHUP asks for a log reopen and a reload, SIGPIPE is ignored (a closed stdout or socket
 * must come back as EPIPE, not kill the process). */
#include "base/lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static atomic_int stop_requested;
static atomic_int hangup_requests;
static int wake_pipe[2] = {-1, -1};
/* Posted by the SIGHUP handler (sem_post is async-signal-safe), so the
 * thread that reloads sleeps until there is something to do instead of
 * looking at a flag ten times a second. */
static sem_t hangup_posted;
static pthread_once_t hangup_posted_once = PTHREAD_ONCE_INIT;

static void init_hangup_posted(void)
{
    sem_init(&hangup_posted, 0, 0);
}

static void wake_waiters(void)
{
    if (wake_pipe[1] < 0)
        return;
    int saved_errno = errno; /* a handler must not clobber the interrupted code's errno */
    char byte = 1;
    /* Non-blocking: a full pipe is still readable, so a lost byte does not matter. */
    ssize_t ignored = write(wake_pipe[1], &byte, 1);
    (void)ignored;
    errno = saved_errno;
}

static void on_stop_signal(int signal_number)
{
    (void)signal_number;
    atomic_store(&stop_requested, 1);
    wake_waiters();
}

static void on_hangup_signal(int signal_number)
{
    (void)signal_number;
    atomic_fetch_add(&hangup_requests, 1);
    int saved_errno = errno;
    sem_post(&hangup_posted);
    errno = saved_errno;
}

static int install_handler(int signal_number, void (*handler)(int), int flags)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    action.sa_flags = flags;
    sigemptyset(&action.sa_mask);
    return sigaction(signal_number, &action, NULL);
}

static int create_wake_pipe(void)
{
    if (wake_pipe[0] >= 0)
        return 0;
    return pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK);
}

int lifecycle_install_signals(void)
{
    pthread_once(&hangup_posted_once, init_hangup_posted); /* before the handler can post */
    if (create_wake_pipe() != 0)
        return -1;
    /* No SA_RESTART for stop signals: a blocking read or poll in the main
     * thread must return EINTR so the loop sees the request at once. */
    if (install_handler(SIGTERM, on_stop_signal, 0) != 0)
        return -1;
    if (install_handler(SIGINT, on_stop_signal, 0) != 0)
        return -1;
    /* SIGHUP only sets a flag and wakes the reload thread; restarting
     * interrupted calls keeps it from disturbing I/O in progress. */
    if (install_handler(SIGHUP, on_hangup_signal, SA_RESTART) != 0)
        return -1;
    if (install_handler(SIGPIPE, SIG_IGN, 0) != 0)
        return -1;
    return 0;
}

int lifecycle_stop_requested(void)
{
    return atomic_load(&stop_requested);
}

int lifecycle_wake_fd(void)
{
    return wake_pipe[0];
}

/* Several SIGHUPs before a check collapse into one reopen and reload: the
 * second would find the same files. */
int lifecycle_take_hangup_request(void)
{
    return atomic_exchange(&hangup_requests, 0) > 0;
}

void lifecycle_wait_hangup(void)
{
    pthread_once(&hangup_posted_once, init_hangup_posted);
    while (sem_wait(&hangup_posted) != 0 && errno == EINTR)
        continue;
}

void lifecycle_wake_hangup_waiter(void)
{
    pthread_once(&hangup_posted_once, init_hangup_posted);
    sem_post(&hangup_posted);
}

void lifecycle_block_signals(sigset_t *previous)
{
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &blocked, previous);
}

void lifecycle_restore_signals(const sigset_t *previous)
{
    pthread_sigmask(SIG_SETMASK, previous, NULL);
}
