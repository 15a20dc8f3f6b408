/* The host lease of host_lease.h: take the advisory lock or wait for it as
 * a standby (ending a holder whose heartbeat stopped), then renew the
 * lease row every lease_s/3 on a thread of its own. The fence is a
 * monotonic deadline that only a renewal started in time extends. */
#include "instance/host_lease.h"

#include "base/backoff.h"
#include "base/clock.h"
#include "config/config.h"
#include "instance/host_lease_db.h"
#include "instance/host_lease_holder.h"
#include "base/lifecycle.h"
#include "base/log.h"
#include "instance/notify.h"
#include "state/store.h"

#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define RETRY_INITIAL_MS 250
#define RETRY_MAX_MS 5000
#define MINIMUM_CHECK_MS 100
#define FOREVER_EXTEND_USEC (365ULL * 24 * 3600 * 1000000ULL)

struct host_lease {
    PGconn *connection;
    int64_t key;
    int64_t lease_ms;
    char hostname[256];
    char *dsn;           /* a copy: a reload may replace the config */
    int64_t check_ms;    /* a standby's lock_timeout: how often it looks at the row */
    int session;         /* our database session (backend pid) that the row names */
    int64_t generation;  /* our tenure's, from the row: the store's fence */
    struct store *store; /* fenced with generation (host_lease_fence_store) */
    /* monotonic ms until which no standby can have ended our session */
    _Atomic int64_t valid_until_ms;
    atomic_int lost;   /* another session took the lock: for good */
    atomic_int paused; /* past valid_until_ms, not lost: for one log line per change */
    atomic_int lost_logged;
    int warned; /* the renewer's one line per failing state */
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    int stopping;
    pthread_t renewer;
    int renewer_started;
};

/* the holder's lease, for the fork child handler */
static struct host_lease *held_lease;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* A forked child must not keep the session (and so the lock) alive after
 * the host dies; PQfinish would end the parent's session, so only the
 * child's copy of the socket is closed. */
static void close_session_in_child(void)
{
    if (held_lease != NULL && held_lease->connection != NULL &&
        PQsocket(held_lease->connection) >= 0)
        close(PQsocket(held_lease->connection));
    held_lease = NULL;
}

static void register_atfork_handler(void)
{
    pthread_atfork(NULL, NULL, close_session_in_child);
}

enum step { STEP_TAKEN, STEP_AGAIN, STEP_DATABASE_FAILED };

static enum step try_lock(struct host_lease *lease);

/* ---- the fence ---- */

static void mark_lost(struct host_lease *lease, const char *why)
{
    atomic_store(&lease->lost, 1);
    atomic_store(&lease->valid_until_ms, 0);
    if (atomic_exchange(&lease->lost_logged, 1) != 0)
        return;
    log_error("database lock for bot %" PRId64 " lost (%s): no more polling or sending here; "
              "stopping (exit 69) so that the supervisor restarts this host as a standby",
              lease->key, why);
}

int host_lease_still_held(struct host_lease *lease)
{
    if (lease == NULL)
        return 1;
    /* the database refused a commit of ours: another tenure began */
    if (!atomic_load(&lease->lost) && lease->store != NULL && store_fenced(lease->store))
        mark_lost(lease, "the database refused a commit: the lease row names a newer holder");
    return !atomic_load(&lease->lost);
}

void host_lease_fence_store(struct host_lease *lease, struct store *store)
{
    if (lease == NULL || store == NULL)
        return;
    store_fence(store, lease->key, lease->generation);
    lease->store = store;
}

int host_lease_valid(struct host_lease *lease)
{
    if (lease == NULL)
        return 1;
    int valid = !atomic_load(&lease->lost) && atomic_load(&lease->valid_until_ms) > monotonic_ms();
    if (!valid && !atomic_load(&lease->lost) && atomic_exchange(&lease->paused, 1) == 0)
        log_warn("database lock: the lease was not renewed in time (this process or the "
                 "database stalled, or the database is unreachable); no polling or sending "
                 "until it is");
    if (valid && atomic_exchange(&lease->paused, 0) == 1)
        log_info("database lock: the lease is renewed; polling and sending again");
    return valid;
}

static void extend(struct host_lease *lease, int64_t started_ms)
{
    int64_t until = atomic_load(&lease->valid_until_ms);
    int64_t next = started_ms + lease->lease_ms * 3 / 4;
    while (!atomic_load(&lease->lost) && until < next &&
           !atomic_compare_exchange_weak(&lease->valid_until_ms, &until, next)) {
    }
}

/* ---- the holder's heartbeat ---- */

enum renewal { RENEWED, RENEWAL_FAILED, SESSION_ENDED, ROW_TAKEN };

static enum renewal renew_row(struct host_lease *lease, char *problem, size_t problem_size)
{
    char key[24];
    snprintf(key, sizeof key, "%" PRId64, lease->key);
    const char *const parameters[] = {key, NULL};
    PGresult *result = lease_db_exec(lease->connection,
                                     "UPDATE jarvis_lease SET renewed_at = now() WHERE bot_id = "
                                     "$1::bigint AND backend_pid = pg_backend_pid()",
                                     parameters);
    enum renewal outcome = RENEWAL_FAILED;
    if (PQresultStatus(result) == PGRES_COMMAND_OK)
        outcome = strcmp(PQcmdTuples(result), "1") == 0 ? RENEWED : ROW_TAKEN;
    else if (PQstatus(lease->connection) == CONNECTION_BAD)
        outcome = SESSION_ENDED;
    if (outcome == RENEWAL_FAILED || outcome == SESSION_ENDED)
        lease_db_problem(lease->connection, result, "heartbeat failed", problem, problem_size);
    PQclear(result);
    return outcome;
}

/* A live session proves the lock was ours all along. A renewal that starts
 * late (the lease about to run out, or already out) is confirmed by a
 * second one: a standby that ended our session just after the first
 * committed is seen by the second. */
static void renew_once(struct host_lease *lease)
{
    char problem[640];
    int64_t started = monotonic_ms();
    int late = atomic_load(&lease->valid_until_ms) - started < lease->lease_ms / 4;
    enum renewal outcome = renew_row(lease, problem, sizeof problem);
    if (outcome == RENEWED && late) {
        started = monotonic_ms();
        outcome = renew_row(lease, problem, sizeof problem);
    }
    if (outcome == RENEWED) {
        extend(lease, started);
        lease->warned = 0;
    } else if (outcome == ROW_TAKEN) {
        mark_lost(lease, "the lease row names another holder");
    } else if (outcome == SESSION_ENDED) {
        /* the database going away is reported by the store; here it is detail */
        log_info("database lock: %s (the session ended); reconnecting", problem);
        PQfinish(lease->connection);
        lease->connection = NULL;
    } else if (!lease->warned) {
        lease->warned = 1;
        log_warn("database lock: %s; the lease runs out unless a later one works", problem);
    }
}

/* A server that hung while we gave up on it (pg_call.h) still keeps our
 * old session, and with it the lock, until it notices the closed socket:
 * that session is ended, not taken for another host's. 1 when the lock is
 * held by our old session (now ended, or ending). */
static int end_own_old_session(struct host_lease *lease)
{
    struct host_lease_holder holder;
    char problem[640];
    if (lease_db_holder(lease->connection, lease->key, 1, &holder, problem, sizeof problem) != 1 ||
        holder.backend_pid != lease->session)
        return 0;
    lease_db_end_holder(lease->connection, lease->key, lease->session, 0, problem, sizeof problem);
    return 1;
}

/* After the database came back: the lock is ours again only if nobody
 * took it meanwhile, i.e. the row still names our old session. */
static void retake(struct host_lease *lease)
{
    char problem[640];
    lease->connection = lease_db_connect(lease->dsn, (int)(lease->lease_ms / 1000), lease->check_ms,
                                         problem, sizeof problem);
    if (lease->connection == NULL) {
        if (!lease->warned)
            log_info("database lock: %s; retrying with backoff", problem);
        lease->warned = 1;
        return;
    }
    enum step step = try_lock(lease);
    if (step == STEP_AGAIN && end_own_old_session(lease)) {
        PQfinish(lease->connection); /* the next round tries again */
        lease->connection = NULL;
        return;
    }
    if (step != STEP_TAKEN) {
        mark_lost(lease, "another host holds it now");
        return;
    }
    char key[24], pid[24], old_session[24], generation[24];
    snprintf(key, sizeof key, "%" PRId64, lease->key);
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    snprintf(old_session, sizeof old_session, "%d", lease->session);
    snprintf(generation, sizeof generation, "%" PRId64, lease->generation);
    const char *const parameters[] = {key, lease->hostname, pid, old_session, generation, NULL};
    int64_t started = monotonic_ms();
    PGresult *result =
        lease_db_exec(lease->connection,
                      "UPDATE jarvis_lease SET backend_pid = pg_backend_pid(), renewed_at = now()"
                      " WHERE bot_id = $1::bigint AND hostname = $2 AND pid = $3::integer"
                      " AND backend_pid = $4::integer AND generation = $5::bigint",
                      parameters);
    int ours = PQresultStatus(result) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(result), "1") == 0;
    int failed = PQresultStatus(result) != PGRES_COMMAND_OK;
    PQclear(result);
    if (failed) {
        PQfinish(lease->connection); /* the next round tries again */
        lease->connection = NULL;
        return;
    }
    if (!ours) {
        mark_lost(lease, "another host held it while the database was away");
        return;
    }
    lease->session = PQbackendPID(lease->connection);
    lease->warned = 0;
    atomic_store(&lease->valid_until_ms, started + lease->lease_ms * 3 / 4);
    log_info("database lock: taken again after the database came back (database session %d)",
             lease->session);
}

static void *renew_loop(void *argument)
{
    pthread_setname_np(pthread_self(), "jv-lease"); /* roles in top -H, /proc */
    struct host_lease *lease = argument;
    struct backoff backoff;
    backoff_init(&backoff, RETRY_INITIAL_MS, RETRY_MAX_MS);
    int64_t pause_ms = lease->lease_ms / 3;
    pthread_mutex_lock(&lease->mutex);
    while (!lease->stopping && !atomic_load(&lease->lost)) {
        struct timespec wake = monotonic_deadline_after(pause_ms);
        pthread_cond_timedwait(&lease->wake, &lease->mutex, &wake);
        if (lease->stopping)
            break;
        pthread_mutex_unlock(&lease->mutex);
        if (lease->connection != NULL)
            renew_once(lease);
        else
            retake(lease);
        if (lease->connection != NULL)
            backoff_reset(&backoff);
        pause_ms = lease->connection != NULL ? lease->lease_ms / 3 : backoff_next_delay(&backoff);
        pthread_mutex_lock(&lease->mutex);
    }
    pthread_mutex_unlock(&lease->mutex);
    return NULL;
}

static int start_renewer(struct host_lease *lease)
{
    sigset_t previous;
    lifecycle_block_signals(&previous); /* SIGTERM must land on the main thread */
    int failed = pthread_create(&lease->renewer, NULL, renew_loop, lease);
    lifecycle_restore_signals(&previous);
    if (failed != 0)
        return -1;
    lease->renewer_started = 1;
    return 0;
}

/* ---- taking it ---- */

/* The lock is ours: the table exists and the row names this session. */
static enum step claim(struct host_lease *lease)
{
    char problem[640];
    if (lease_db_ensure_table(lease->connection, problem, sizeof problem) != 0) {
        log_error("database lock: %s", problem);
        return STEP_DATABASE_FAILED;
    }
    char key[24], pid[24];
    snprintf(key, sizeof key, "%" PRId64, lease->key);
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    const char *const parameters[] = {key, lease->hostname, pid, NULL};
    int64_t started = monotonic_ms();
    /* A new tenure, a new generation: the store's commits name the one
     * they belong to (store_fence), so an old holder's are refused. The
     * row lock this takes waits for a commit of the old holder that is
     * under way, so that commit is either before the takeover, and seen,
     * or refused. */
    PGresult *result = lease_db_exec(
        lease->connection,
        "INSERT INTO jarvis_lease (bot_id, hostname, pid, backend_pid, since, renewed_at,"
        " generation) VALUES ($1::bigint, $2, $3::integer, pg_backend_pid(), now(), now(), 1)"
        " ON CONFLICT (bot_id) DO UPDATE SET hostname = EXCLUDED.hostname, pid = EXCLUDED.pid,"
        " backend_pid = EXCLUDED.backend_pid, since = EXCLUDED.since,"
        " renewed_at = EXCLUDED.renewed_at, generation = jarvis_lease.generation + 1"
        " RETURNING generation",
        parameters);
    int ok = PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1;
    if (ok)
        lease->generation = strtoll(PQgetvalue(result, 0, 0), NULL, 10);
    if (!ok) {
        lease_db_problem(lease->connection, result, "cannot write the lease row", problem,
                         sizeof problem);
        log_error("database lock: %s", problem);
    }
    PQclear(result);
    if (!ok)
        return STEP_DATABASE_FAILED;
    lease->session = PQbackendPID(lease->connection);
    atomic_store(&lease->valid_until_ms, started + lease->lease_ms * 3 / 4);
    return STEP_TAKEN;
}

static enum step try_lock(struct host_lease *lease)
{
    char key[24];
    snprintf(key, sizeof key, "%" PRId64, lease->key);
    const char *const parameters[] = {key, NULL};
    PGresult *result =
        lease_db_exec(lease->connection, "SELECT pg_try_advisory_lock($1::bigint)", parameters);
    enum step step = STEP_DATABASE_FAILED;
    if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1)
        step = strcmp(PQgetvalue(result, 0, 0), "t") == 0 ? STEP_TAKEN : STEP_AGAIN;
    PQclear(result);
    return step;
}

/* Blocks in pg_advisory_lock until the holder's session ends (taken),
 * lock_timeout passes or a stop is requested (again: the caller looks and
 * drops the connection, which ends the wait; PQcancel would block on a
 * server that hangs). A server that does not answer within lock_timeout
 * and the call deadline is taken as failed: reconnect with backoff. */
static enum step wait_for_release(struct host_lease *lease)
{
    char key[24];
    snprintf(key, sizeof key, "%" PRId64, lease->key);
    const char *const parameters[] = {key};
    PGconn *connection = lease->connection;
    if (!PQsendQueryParams(connection, "SELECT pg_advisory_lock($1::bigint)", 1, NULL, parameters,
                           NULL, NULL, 0))
        return STEP_DATABASE_FAILED;
    int64_t deadline = monotonic_ms() + lease->check_ms + lease->lease_ms / 2 + 1000;
    while (PQisBusy(connection)) {
        if (lifecycle_stop_requested())
            return STEP_AGAIN;
        int64_t left = deadline - monotonic_ms();
        if (left <= 0)
            return STEP_DATABASE_FAILED;
        struct pollfd fds[2] = {{.fd = PQsocket(connection), .events = POLLIN},
                                {.fd = lifecycle_wake_fd(), .events = POLLIN}};
        poll(fds, 2, left < 1000 ? (int)left : 1000);
        if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(connection))
            return STEP_DATABASE_FAILED;
    }
    enum step step = STEP_AGAIN;
    PGresult *result;
    while ((result = PQgetResult(connection)) != NULL) {
        if (PQresultStatus(result) == PGRES_TUPLES_OK)
            step = STEP_TAKEN;
        else if (!lease_db_failed_with(result, "55P03") && !lease_db_failed_with(result, "57014"))
            step = STEP_DATABASE_FAILED;
        PQclear(result);
    }
    return step == STEP_TAKEN ? claim(lease) : step;
}

struct standby {
    const struct config *config;
    int announced_backend;    /* the holder last announced, 0 none */
    int unnamed_backend;      /* a holder its lease row does not name... */
    int64_t unnamed_since_ms; /* ...since then */
    int database_failing;
    int connected; /* once: later failures are retried */
    struct backoff backoff;
};

static void announce(struct host_lease *lease, struct standby *standby,
                     const struct host_lease_holder *holder)
{
    if (standby->announced_backend == holder->backend_pid)
        return;
    standby->announced_backend = holder->backend_pid;
    char who[400], status[480], since[32];
    time_t since_s = (time_t)holder->since_s;
    struct tm utc;
    if (gmtime_r(&since_s, &utc) == NULL ||
        strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0)
        snprintf(since, sizeof since, "%" PRId64, holder->since_s);
    if (holder->named)
        snprintf(who, sizeof who, "host %s, pid %ld, since %s", holder->hostname, holder->pid,
                 since);
    else
        snprintf(who, sizeof who, "database session %d, no lease row yet", holder->backend_pid);
    int max_wait = standby->config->lock_max_wait;
    log_info("another jarvis (%s) holds the database lock for bot %" PRId64
             "; waiting as a standby (max_wait %d s%s)",
             who, lease->key, max_wait, max_wait == 0 ? " = forever" : "");
    snprintf(status, sizeof status, "waiting for the database lock held by %s", who);
    notify_status(status);
    notify_extend_timeout(max_wait > 0 ? (uint64_t)max_wait * 1000000ULL + 5000000ULL
                                       : FOREVER_EXTEND_USEC);
}

/* A holder whose heartbeat is older than the lease (or that never wrote
 * its row within two leases) is hung or cut off: its session is ended,
 * which frees the lock for us. */
static void end_stale_holder(struct host_lease *lease, struct standby *standby,
                             const struct host_lease_holder *holder)
{
    int64_t now = monotonic_ms();
    if (!holder->named && standby->unnamed_backend != holder->backend_pid) {
        standby->unnamed_backend = holder->backend_pid;
        standby->unnamed_since_ms = now;
    }
    int stale = holder->named ? holder->renewed_age_ms > lease->lease_ms
                              : now - standby->unnamed_since_ms > 2 * lease->lease_ms;
    if (!stale)
        return;
    char problem[640];
    int ended = lease_db_end_holder(lease->connection, lease->key, holder->backend_pid,
                                    lease->lease_ms, problem, sizeof problem);
    if (ended < 0) {
        log_warn("database lock: %s", problem);
        return;
    }
    if (ended > 0)
        log_warn("the database lock holder (%s%s, pid %ld) renewed no lease for %" PRId64
                 " ms (lease_s %" PRId64 "); ended its database session %d to take over",
                 holder->named ? "host " : "no lease row", holder->hostname, holder->pid,
                 holder->named ? holder->renewed_age_ms : now - standby->unnamed_since_ms,
                 lease->lease_ms / 1000, holder->backend_pid);
}

/* One round: the lock if it is free, else who holds it, else a bounded
 * wait for its release. */
static enum step standby_round(struct host_lease *lease, struct standby *standby)
{
    enum step step = try_lock(lease);
    if (step == STEP_TAKEN)
        return claim(lease);
    if (step != STEP_AGAIN)
        return step;
    struct host_lease_holder holder;
    char problem[640];
    int held = lease_db_holder(lease->connection, lease->key, 1, &holder, problem, sizeof problem);
    if (held < 0) {
        log_warn("database lock: %s", problem);
        return STEP_DATABASE_FAILED;
    }
    if (held == 0)
        return STEP_AGAIN; /* released meanwhile */
    announce(lease, standby, &holder);
    end_stale_holder(lease, standby, &holder);
    return wait_for_release(lease);
}

/* The first connection failing is a start-up error (one line, as the
 * store's), later ones are retried: the database may be restarting. */
static int connect_for_lock(struct host_lease *lease, struct standby *standby)
{
    char problem[640];
    lease->connection = lease_db_connect(lease->dsn, (int)(lease->lease_ms / 1000), lease->check_ms,
                                         problem, sizeof problem);
    /* the standby reads the table while the holder may be about to create it */
    if (lease->connection != NULL &&
        lease_db_ensure_table(lease->connection, problem, sizeof problem) != 0) {
        PQfinish(lease->connection);
        lease->connection = NULL;
    }
    if (lease->connection != NULL) {
        if (standby->database_failing)
            log_info("database lock: the database answers again");
        standby->database_failing = 0;
        standby->connected = 1;
        backoff_reset(&standby->backoff);
        return 0;
    }
    if (!standby->connected) {
        log_error("database lock: %s", problem);
        return EX_IOERR;
    }
    if (!standby->database_failing)
        log_warn("database lock: %s; retrying with backoff", problem);
    standby->database_failing = 1;
    return -1;
}

static void drop_connection(struct host_lease *lease)
{
    PQfinish(lease->connection);
    lease->connection = NULL;
}

static int take_or_wait(struct host_lease *lease, const struct config *config)
{
    struct standby standby = {.config = config};
    backoff_init(&standby.backoff, RETRY_INITIAL_MS, RETRY_MAX_MS);
    int64_t deadline = monotonic_ms() + (int64_t)config->lock_max_wait * 1000;
    for (;;) {
        if (lifecycle_stop_requested()) {
            log_info("stop requested while waiting for the database lock; exiting");
            return EX_TEMPFAIL;
        }
        if (config->lock_max_wait > 0 && monotonic_ms() >= deadline) {
            log_info("database lock still held after max_wait %d s; exiting 75",
                     config->lock_max_wait);
            return EX_TEMPFAIL;
        }
        if (lease->connection == NULL) {
            int connected = connect_for_lock(lease, &standby);
            if (connected > 0)
                return connected;
            if (connected < 0) {
                notify_sleep(backoff_next_delay(&standby.backoff));
                continue;
            }
        }
        enum step step = standby_round(lease, &standby);
        if (step == STEP_TAKEN)
            return 0;
        if (step == STEP_DATABASE_FAILED) {
            if (!standby.database_failing)
                log_warn("database lock: the lock session failed; reconnecting with backoff");
            standby.database_failing = 1;
            drop_connection(lease);
            notify_sleep(backoff_next_delay(&standby.backoff));
        }
    }
}

static void free_lease(struct host_lease *lease)
{
    if (lease->connection != NULL)
        PQfinish(lease->connection);
    pthread_cond_destroy(&lease->wake);
    pthread_mutex_destroy(&lease->mutex);
    free(lease->dsn);
    free(lease);
}

int host_lease_acquire(const struct config *config, struct host_lease **out)
{
    *out = NULL;
    if (config->state_backend != STATE_BACKEND_POSTGRES)
        return 0;
    /* Webhook hosts all receive (behind a load balancer): the shared inbox
     * takes each update once by its id, so no host stands by. */
    if (config->bot_mode == BOT_MODE_WEBHOOK)
        return 0;
    if (config->state_dsn == NULL || config->state_dsn[0] == '\0') {
        log_error("%s: [state] backend = postgres needs [state] dsn (a libpq connection string "
                  "or URI, normally env:JARVIS_PG_DSN)",
                  config->path);
        return EX_CONFIG;
    }
    char problem[640];
    if (lease_db_check_dsn(config->state_dsn, problem, sizeof problem) != 0) {
        log_error("%s: %s", config->path, problem);
        return EX_CONFIG;
    }
    struct host_lease *lease = calloc(1, sizeof *lease);
    if (lease == NULL) {
        log_error("database lock: out of memory");
        return 1;
    }
    pthread_mutex_init(&lease->mutex, NULL);
    monotonic_cond_init(&lease->wake);
    lease->key = lease_db_key(config->token);
    lease->lease_ms = (int64_t)config->lease_s * 1000;
    lease->check_ms =
        lease->lease_ms / 3 > MINIMUM_CHECK_MS ? lease->lease_ms / 3 : MINIMUM_CHECK_MS;
    lease->dsn = strdup(config->state_dsn);
    if (lease->dsn == NULL) {
        log_error("database lock: out of memory");
        free_lease(lease);
        return 1;
    }
    if (gethostname(lease->hostname, sizeof lease->hostname - 1) != 0)
        snprintf(lease->hostname, sizeof lease->hostname, "unknown");
    pthread_once(&atfork_once, register_atfork_handler);
    int result = take_or_wait(lease, config);
    if (result == 0 && start_renewer(lease) != 0) {
        log_error("database lock: cannot start the heartbeat thread");
        result = 1;
    }
    if (result != 0) {
        free_lease(lease);
        return result;
    }
    held_lease = lease;
    log_info("database lock acquired for bot %" PRId64 " (host %s, pid %ld, database session "
             "%d, lease %d s)",
             lease->key, lease->hostname, (long)getpid(), PQbackendPID(lease->connection),
             config->lease_s);
    *out = lease;
    return 0;
}

void host_lease_release(struct host_lease *lease)
{
    if (lease == NULL)
        return;
    if (held_lease == lease)
        held_lease = NULL;
    if (lease->renewer_started) {
        pthread_mutex_lock(&lease->mutex);
        lease->stopping = 1;
        pthread_cond_signal(&lease->wake);
        pthread_mutex_unlock(&lease->mutex);
        pthread_join(lease->renewer, NULL);
    }
    free_lease(lease);
}
