/* jarvis entry point: parses argv (getopt_long), then wires the modules
 * together for `run` (the bot), `check` (check.c), `status`, `reload`
 * (SIGHUP to the running instance) and `new-plugin` (scaffold.c). Exit codes follow sysexits: 0 ok, 64 usage,
 * 69 lock file deleted under us, 73 cannot create, 74 state database
 * unusable, 75 lock wait timed out, 78 bad config, 1 internal failure. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jarvis/plugin.h>

#include "supervise/check.h"
#include "base/clock.h"
#include "state/crash_record.h"
#include "config/config.h"
#include "base/core_dumps.h"
#include "dispatch/dispatch.h"
#include "plugin/host.h"
#include "base/http.h"
#include "instance/host_lease.h"
#include "instance/instance.h"
#include "base/lifecycle.h"
#include "base/log.h"
#include "instance/notify.h"
#include "supervise/operations.h"
#include "plugin/registry.h"
#include "supervise/reload.h"
#include "plugin/scaffold.h"
#include "dispatch/sched.h"
#include "state/state_dir.h"
#include "supervise/status.h"
#include "state/store.h"
#include "base/test_hooks.h"
#include "transport/transport.h"

#include "base/version.h"
#include "plugin/plugins.h"
#include "dispatch/host_api.h"
#include "config/config_paths.h"
#include "supervise/reload_request.h"
#include "transport/console.h"
#include "transport/telegram/telegram.h"
#ifndef JARVIS_SYSCONFDIR /* set by the Makefile from SYSCONFDIR */
#define JARVIS_SYSCONFDIR "/usr/local/etc"
#endif
#define SYSTEM_CONFIG_PATH JARVIS_SYSCONFDIR "/jarvis/plugins.ini"
/* EX_IOERR: the state database is damaged or its storage refuses I/O. Not
 * 78: the config is fine, and a supervisor (RestartPreventExitStatus) and a
 * human must tell the two apart; a restart fixes neither. */
#define EXIT_STATE_UNUSABLE EX_IOERR
/* set_up's own result for a standby stopped by a signal; never an exit code */
#define STOPPED_WHILE_WAITING -1

enum command { COMMAND_RUN, COMMAND_STATUS, COMMAND_CHECK, COMMAND_NEW_PLUGIN, COMMAND_RELOAD };

struct options {
    enum command command;
    const char *config_path; /* NULL: the lookup order of config_choose_path */
    enum check_detail detail;
    const char *operands[2]; /* new-plugin NAME [DIR] */
    int json;                /* status --json */
};

static const char usage_text[] =
    "usage: jarvis [run|status|check|reload] [-c FILE] [-q|-v]\n"
    "       jarvis new-plugin NAME [DIR]\n"
    "  run         run the bot (the default)\n"
    "  status      report whether an instance runs and polls\n"
    "  check       load every enabled plugin once and report (-q: only problems,\n"
    "              -v: also every setting in effect)\n"
    "  reload      make the running instance re-read FILE (SIGHUP)\n"
    "  new-plugin  write DIR/NAME.c, a new plugin with the command /NAME\n"
    "  -c, --config=FILE  configuration file (default: $JARVIS_CONFIG, else\n"
    "                     ./plugins.ini, else " SYSTEM_CONFIG_PATH ")\n"
    "  --json      status as one JSON object\n"
    "  -h, --help  -V, --version  --  (ends the options)\n";

/* ---- argv ---- */

static int usage_error(const char *format, const char *argument)
{
    fputs("jarvis: ", stderr);
    fprintf(stderr, format, argument);
    fputc('\n', stderr);
    fputs(usage_text, stderr);
    return EX_USAGE;
}

static int parse_command_word(const char *word, enum command *command)
{
    static const char *const words[] = {"run", "status", "check", "new-plugin", "reload"};
    for (int i = 0; i < 5; i++) {
        if (strcmp(word, words[i]) == 0) {
            *command = (enum command)i;
            return 0;
        }
    }
    return -1;
}

/* Not an exit code (those are >= 0): the arguments are read, run the command. */
enum { ARGUMENTS_PARSED = -1 };

static int parse_operands(int count, char **operands, struct options *options)
{
    if (count == 0)
        return ARGUMENTS_PARSED;
    if (parse_command_word(operands[0], &options->command) != 0)
        return usage_error("unknown command '%s'", operands[0]);
    int allowed = options->command == COMMAND_NEW_PLUGIN ? 2 : 0;
    if (options->command == COMMAND_NEW_PLUGIN && count < 2)
        return usage_error("%s needs a plugin name", operands[0]);
    if (count - 1 > allowed)
        return usage_error("unexpected argument '%s'", operands[allowed + 1]);
    for (int i = 1; i < count; i++)
        options->operands[i - 1] = operands[i];
    if (options->detail != CHECK_NORMAL && options->command != COMMAND_CHECK)
        return usage_error("%s: -q and -v are options of check", operands[0]);
    if (options->json && options->command != COMMAND_STATUS)
        return usage_error("%s is an option of status only", "--json");
    return ARGUMENTS_PARSED;
}

/* ARGUMENTS_PARSED to run the command, or the exit code to end with (0 after
 * --help / --version). */
static int parse_arguments(int argc, char **argv, struct options *options)
{
    static const struct option long_options[] = {
        {"config", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    memset(options, 0, sizeof *options);
    options->detail = CHECK_NORMAL;
    opterr = 0;
    int option;
    while ((option = getopt_long(argc, argv, ":c:qvVh", long_options, NULL)) != -1) {
        switch (option) {
            case 'c': options->config_path = optarg; break;
            case 'q': options->detail = CHECK_QUIET; break;
            case 'v': options->detail = CHECK_VERBOSE; break;
            case 'V':
                printf("jarvis %s (plugin ABI %d.%d)\n", JARVIS_VERSION, JV_ABI_MAJOR,
                       JV_ABI_MINOR);
                return 0;
            case 'h': fputs(usage_text, stdout); return 0;
            case 'j': options->json = 1; break;
            case ':': return usage_error("%s needs a file name", argv[optind - 1]);
            default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    int result = parse_operands(argc - optind, argv + optind, options);
    if (result == ARGUMENTS_PARSED && optind >= argc && options->json)
        return usage_error("%s is an option of status only", "--json");
    return result;
}

/* ---- shared steps ---- */

static int load_config(const char *path, struct config *config)
{
    char error[4096];
    if (config_load(path, config, error, sizeof error) == 0)
        return 0;
    for (char *line = strtok(error, "\n"); line != NULL; line = strtok(NULL, "\n"))
        fprintf(stderr, "jarvis: %s\n", line);
    return EX_CONFIG;
}

/* ---- run ---- */

struct runtime {
    struct config *config;
    struct host host;
    struct instance_lock lock;
    int lock_held;
    int http_ready;
    struct operations *operations;
    struct reloader *reloader;
    struct sched *sched;
};

static struct transport *choose_transport(const struct config *config)
{
    int telegram = config->transport == TRANSPORT_TELEGRAM ||
                   (config->transport == TRANSPORT_AUTO && config->token[0] != '\0');
    if (!telegram)
        return console_transport_create();
    struct transport *transport = telegram_transport_create();
    if (transport == NULL)
        log_error("cannot create the Telegram transport: out of memory");
    return transport;
}

/* How long a store call may wait for PostgreSQL: half the lease, so that a
 * hung server turns into "database gone" (no polling, no sending, one log
 * line) well before a standby may take over; at least 2 s (or the whole
 * lease when shorter), so that a loaded server is not taken for gone. */
static int64_t store_call_timeout_ms(int lease_s)
{
    int64_t lease_ms = (int64_t)lease_s * 1000;
    int64_t floor_ms = lease_ms < 2000 ? lease_ms : 2000;
    return lease_ms / 2 > floor_ms ? lease_ms / 2 : floor_ms;
}

/* Webhook hosts on one database each own the rows they take: named by
 * machine and state dir, one instance each by the file lock, so a restart
 * finds its own rows at once and the others wait for its claim to lapse
 * (lease_s) before taking them over. Polling hosts and SQLite own every row. */
static void name_row_owner(const struct config *config, struct store_settings *settings,
                           char *owner, size_t owner_size)
{
    if (config->state_backend != STATE_BACKEND_POSTGRES || config->bot_mode != BOT_MODE_WEBHOOK)
        return;
    char hostname[256] = "";
    gethostname(hostname, sizeof hostname - 1);
    snprintf(owner, owner_size, "%s:%s", hostname, config->state_dir);
    settings->owner = owner;
    settings->claim_ms = (int64_t)config->lease_s * 1000;
}

/* Everything before the transport runs. Returns 0 or an exit code; whatever
 * was set up is recorded in runtime for release_runtime. */
static int set_up(struct runtime *runtime)
{
    struct config *config = runtime->config;
    if (log_open(config->log_file, (enum log_level)config->log_level) != 0) {
        fprintf(stderr, "jarvis: %s: cannot open log_file '%s'\n", config->path, config->log_file);
        return EX_CONFIG;
    }
    log_set_format((enum log_format)config->log_format);
    if (config->token != NULL && config->token[0] != '\0')
        log_add_secret(config->token);
    /* Before the lock: a standby waiting for it must stop cleanly on SIGTERM. */
    if (lifecycle_install_signals() != 0) {
        log_error("cannot install signal handlers");
        return 1;
    }
    /* libcurl's (and the TLS library's) start-up is slow and touches no
     * network: a standby pays it while it waits, not after the takeover */
    if (http_global_init() != 0) {
        log_error("cannot initialise libcurl");
        return 1;
    }
    runtime->http_ready = 1;
    int lock_result = instance_acquire(config, &runtime->lock);
    if (lock_result == EX_TEMPFAIL && lifecycle_stop_requested())
        return STOPPED_WHILE_WAITING;
    if (lock_result != 0)
        return lock_result;
    runtime->lock_held = 1;
    runtime->host.lock = &runtime->lock;
    char error[2048];
    if (state_dir_check(config->state_dir, error, sizeof error) != 0) {
        log_error("%s", error);
        return EX_CONFIG;
    }
    enum store_open_failure store_failure;
    struct store_settings store_settings = {
        .backend = config->state_backend == STATE_BACKEND_POSTGRES ? STORE_BACKEND_POSTGRES
                                                                   : STORE_BACKEND_SQLITE,
        .state_dir = config->state_dir,
        .dsn = config->state_dsn,
        .call_timeout_ms = store_call_timeout_ms(config->lease_s),
        .sent_journal = 1}; /* the lock is held: this process is the one writer */
    char owner[320];
    name_row_owner(config, &store_settings, owner, sizeof owner);
    runtime->host.store = store_open_settings(&store_settings, error, sizeof error, &store_failure);
    if (runtime->host.store == NULL) {
        log_error("%s", error);
        return store_failure == STORE_OPEN_UNUSABLE ? EXIT_STATE_UNUSABLE : EX_CONFIG;
    }
    /* before the first pipeline commit (the prefetch's batch) */
    host_lease_fence_store(runtime->lock.lease, runtime->host.store);
    if (crash_record_open(config->state_dir) != 0)
        return EX_CONFIG;
    runtime->host.transport = choose_transport(config);
    if (runtime->host.transport == NULL)
        return 1;
    /* before the plugins: what waits for a new holder is fetched first */
    if (runtime->host.transport->prefetch != NULL)
        runtime->host.transport->prefetch(runtime->host.transport, &runtime->host);
    runtime->host.registry = registry_create(&runtime->host, host_api_table());
    if (runtime->host.registry == NULL)
        return 1;
    size_t loaded = 0, refused = 0;
    plugins_load_all(runtime->host.registry, &loaded, &refused);
    runtime->operations = operations_start(&runtime->host);
    return 0;
}

/* Starts the workers, the transport and the jobs. */
static int start_running(struct runtime *runtime)
{
    struct host *host = &runtime->host;
    host->dispatch = dispatch_create(host, runtime->config->workers);
    if (host->dispatch == NULL) {
        log_error("cannot start the worker pool");
        return 1;
    }
    int start_result = host->transport->start(host->transport, host);
    if (start_result != 0)
        return start_result;
    dispatch_set_bot_username(host->dispatch, host->transport->bot_username(host->transport));
    runtime->sched = sched_start(host);
    if (runtime->sched == NULL) {
        log_error("cannot start the scheduler");
        return 1;
    }
    runtime->reloader = reload_start(host, runtime->sched);
    if (runtime->reloader == NULL) {
        log_error("cannot start the reload thread");
        return 1;
    }
    return 0;
}

/* Jobs and handlers get the shutdown grace period together. Returns how many
 * are still running afterwards. */
static size_t stop_running(struct runtime *runtime)
{
    int64_t started = monotonic_ms();
    reload_stop(runtime->reloader); /* a reload in progress finishes first */
    size_t stuck_jobs = sched_stop(runtime->sched);
    runtime->sched = NULL;
    size_t stuck_handlers = 0;
    if (runtime->host.dispatch != NULL) {
        int64_t grace = runtime->host.config->shutdown_grace_ms; /* a reload may change it */
        int64_t left = grace - (monotonic_ms() - started);
        stuck_handlers = dispatch_drain(runtime->host.dispatch, left > 0 ? left : 0);
        if (stuck_handlers > 0)
            log_error("%zu message(s) still being handled after the %lld ms shutdown grace "
                      "period",
                      stuck_handlers, (long long)grace);
    }
    return stuck_jobs + stuck_handlers;
}

static void release_runtime(struct runtime *runtime)
{
    struct host *host = &runtime->host;
    reload_stop(runtime->reloader);
    operations_stop(runtime->operations);
    runtime->operations = NULL;
    if (runtime->sched != NULL)
        sched_stop(runtime->sched);
    dispatch_destroy(host->dispatch);
    host->dispatch = NULL;
    if (host->registry != NULL) {
        plugins_unload_all(host->registry);
        registry_destroy(host->registry);
        host->registry = NULL;
    }
    if (host->transport != NULL) {
        struct transport *transport = host->transport;
        host->transport = NULL;
        transport->destroy(transport);
    }
    crash_record_close();
    if (host->store != NULL)
        store_close(host->store);
    host->store = NULL;
    if (runtime->http_ready)
        http_global_cleanup();
    if (runtime->lock_held)
        instance_release(&runtime->lock);
    log_close();
}

/* Code is still running inside plugins: unloading them (or freeing what they
 * use) could crash, so leave without cleanup and let the kernel reclaim all,
 * the lock included. Exit 1 tells a supervisor the stop was not clean. */
static void abandon_stuck_handlers(void)
{
    log_error("exiting without unloading plugins (handlers still running)");
    fflush(stdout);
    fflush(stderr);
    _exit(1);
}

static int run_bot(struct config *config)
{
    struct runtime runtime;
    memset(&runtime, 0, sizeof runtime);
    runtime.config = config;
    runtime.host.config = config;
    runtime.lock.fd = -1;
    runtime.lock.guard_fd = -1;
    int result = set_up(&runtime);
    if (result == STOPPED_WHILE_WAITING) {
        release_runtime(&runtime);
        return 0; /* a standby asked to stop never ran: a clean stop */
    }
    if (result == 0)
        result = start_running(&runtime);
    if (result == 0) {
        notify_ready();
        log_info("jarvis %s running (%s transport, %d worker(s))", JARVIS_VERSION,
                 runtime.host.transport->name, config->workers);
        result = runtime.host.transport->run(runtime.host.transport, &runtime.host);
        notify_stopping();
        log_info("stopping");
    }
    if (runtime.host.dispatch != NULL && stop_running(&runtime) > 0)
        abandon_stuck_handlers();
    release_runtime(&runtime);
    reload_destroy(runtime.reloader); /* last: what it frees, host->config may point to */
    return result;
}

/* A closed stdin/stdout/stderr would be reused by the next open() (the lock
 * file, the database), and console input or log lines would then go there. */
static void ensure_standard_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        int opened = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (opened >= 0 && opened != fd)
            close(opened); /* lower fds were open, so this cannot happen; be safe */
    }
}

int main(int argc, char **argv)
{
    /* first: the token may already be in our environment */
    if (core_dumps_forbid() != 0)
        fprintf(stderr, "jarvis: cannot turn core dumps off: %s\n", strerror(errno));
    ensure_standard_fds();
    test_hooks_init();
    /* glibc gives each busy thread its own heap (up to 8 per core), each
     * keeping freed memory resident; the hot small sizes come from the
     * threads' caches anyway, so two heaps serve the workers and senders.
     * Before any thread starts. */
    mallopt(M_ARENA_MAX, 2);
    struct options options;
    int parse_result = parse_arguments(argc, argv, &options);
    if (parse_result != ARGUMENTS_PARSED)
        return parse_result;
    if (options.command == COMMAND_NEW_PLUGIN)
        return scaffold_write(options.operands[0], options.operands[1]);
    if (options.detail == CHECK_QUIET)
        log_set_level(LOG_WARN); /* the config's own INFO lines are not problems */
    struct config config;
    memset(&config, 0, sizeof config);
    int result = load_config(config_choose_path(options.config_path, SYSTEM_CONFIG_PATH), &config);
    if (result != 0)
        return result;
    if (options.command != COMMAND_STATUS && config_enter_directory(&config) != 0) {
        fprintf(stderr, "jarvis: %s: cannot enter its directory %s: %s\n", config.path,
                config.directory, strerror(errno));
        config_free(&config);
        return EX_CONFIG;
    }
    if (config.allow_core_dumps && core_dumps_allow() != 0)
        fprintf(stderr, "jarvis: cannot turn core dumps back on: %s\n", strerror(errno));
    switch (options.command) {
        case COMMAND_CHECK: result = check_run(&config, options.detail); break;
        case COMMAND_STATUS: result = status_run(&config, options.json, stdout); break;
        case COMMAND_RELOAD: result = reload_request(&config, stdout); break;
        case COMMAND_RUN:
        default: result = run_bot(&config); break;
    }
    config_free(&config);
    return result;
}
