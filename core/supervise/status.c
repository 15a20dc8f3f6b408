/* `jarvis status`: a read-only report for people and monitoring scripts.
 * It probes the lock without taking it, reads the poll status that the
 * Telegram transport keeps in the store, the inbox and outbox, and the
 * running bot's snapshot (status_snapshot.h). The facts are gathered into
 * one JSON object, printed as is (--json) or as "name: value" lines. */
#include "supervise/status.h"

#include "base/clock.h"
#include "config/config.h"
#include "instance/host_lease_status.h"
#include "instance/instance.h"
#include "supervise/status_snapshot.h"
#include "state/store.h"
#include "base/core_keys.h"
#include "state/store_pipeline.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define STATUS_RUNNING 0
#define STATUS_UNREADABLE 1
#define STATUS_NOT_RUNNING 3

static void format_utc_ms(int64_t unix_ms, char *buffer, size_t size)
{
    time_t seconds = (time_t)(unix_ms / 1000);
    struct tm utc;
    if (gmtime_r(&seconds, &utc) == NULL || strftime(buffer, size, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0)
        snprintf(buffer, size, "%" PRId64 " ms", unix_ms);
}

static json_t *utc_text(int64_t unix_ms)
{
    char when[32];
    format_utc_ms(unix_ms, when, sizeof when);
    return json_string(when);
}

/* Text from the store or a file: one line, and valid UTF-8 for JSON. */
static json_t *one_line(const char *text)
{
    char *copy = strdup(text);
    if (copy == NULL)
        return json_string("?");
    for (unsigned char *p = (unsigned char *)copy; *p != '\0'; p++)
        if (*p < 0x20)
            *p = ' ';
    json_t *value = json_string(copy);
    for (unsigned char *p = (unsigned char *)copy; value == NULL && *p != '\0'; p++)
        if (*p >= 0x80)
            *p = '?';
    if (value == NULL)
        value = json_string(copy);
    free(copy);
    return value;
}

/* ---- gathering ---- */

static int add_holder(const struct config *config, json_t *report, pid_t *pid)
{
    struct instance_holder holder;
    int found = instance_query(config, &holder);
    json_t *entry = json_object();
    json_object_set_new(report, "holder", entry);
    *pid = 0;
    if (found < 0) {
        json_object_set_new(entry, "state", json_string("unknown"));
        return STATUS_UNREADABLE;
    }
    if (found == 0) {
        json_object_set_new(entry, "state", json_string("none"));
        return STATUS_NOT_RUNNING;
    }
    json_object_set_new(entry, "state", json_string("running"));
    if (holder.pid > 0) {
        *pid = holder.pid;
        json_object_set_new(entry, "pid", json_integer(holder.pid));
        json_object_set_new(entry, "since", utc_text(holder.since_s * 1000));
    }
    return STATUS_RUNNING;
}

/* With backend = postgres: which host holds the lock across hosts. */
static void add_database_lock(const struct config *config, json_t *report)
{
    struct host_lease_holder holder;
    char problem[512] = "";
    int held = host_lease_query(config, &holder, problem, sizeof problem);
    json_t *entry = json_object();
    json_object_set_new(report, "database_lock", entry);
    if (held < 0) {
        json_object_set_new(entry, "state", json_string("unknown"));
        json_object_set_new(entry, "problem", one_line(problem));
        return;
    }
    json_object_set_new(entry, "state", json_string(held ? "held" : "none"));
    if (!held)
        return;
    json_object_set_new(entry, "session", json_integer(holder.backend_pid));
    if (!holder.named)
        return;
    json_object_set_new(entry, "hostname", one_line(holder.hostname));
    json_object_set_new(entry, "pid", json_integer(holder.pid));
    json_object_set_new(entry, "since", utc_text(holder.since_s * 1000));
    json_object_set_new(entry, "renewed_ms_ago", json_integer(holder.renewed_age_ms));
}

/* 0 and a malloc'd value, 1 when absent, -1 on error. */
static int read_key(struct store *store, const char *key, char **value)
{
    size_t length = 0;
    *value = NULL;
    return store_get(store, CORE_SPACE, key, value, &length);
}

/* A stale "1" survives a kill -9, so without a holder nobody is polling. */
static const char *polling_answer(struct store *store, int holder_running)
{
    if (!holder_running)
        return "no";
    char *value = NULL;
    if (store == NULL || read_key(store, STATUS_KEY_POLLING, &value) != 0)
        return "unknown";
    const char *answer = strcmp(value, "1") == 0 ? "yes" : "no";
    free(value);
    return answer;
}

static void add_last_poll(struct store *store, json_t *report)
{
    char *value = NULL;
    if (read_key(store, STATUS_KEY_LAST_POLL_OK, &value) != 0)
        return;
    char *end = NULL;
    long long poll_ms = strtoll(value, &end, 10);
    json_t *entry = json_object();
    if (end == value) {
        json_object_set_new(entry, "unreadable", json_true());
    } else {
        long long age_s = (wall_ms() - poll_ms) / 1000;
        json_object_set_new(entry, "time", utc_text(poll_ms));
        json_object_set_new(entry, "age_s", json_integer(age_s < 0 ? 0 : age_s));
    }
    json_object_set_new(report, "last_poll", entry);
    free(value);
}

/* The record is "<unix ms> <one line>". */
static void add_last_error(struct store *store, json_t *report)
{
    char *value = NULL;
    if (read_key(store, STATUS_KEY_LAST_ERROR, &value) != 0)
        return;
    char *end = NULL;
    long long error_ms = strtoll(value, &end, 10);
    json_t *entry = json_object();
    if (end == value) {
        json_object_set_new(entry, "text", one_line(value));
    } else {
        const char *text = end;
        while (*text == ' ')
            text++;
        json_object_set_new(entry, "time", utc_text(error_ms));
        json_object_set_new(entry, "text", one_line(text));
    }
    json_object_set_new(report, "last_error", entry);
    free(value);
}

static void add_queue_depths(struct store *store, json_t *report)
{
    long inbox = store_inbox_count(store);
    long outbox = store_outbox_count(store);
    if (inbox >= 0)
        json_object_set_new(report, "inbox", json_integer(inbox));
    if (outbox >= 0)
        json_object_set_new(report, "outbox", json_integer(outbox));
}

static void add_store_facts(const struct config *config, int holder_running, json_t *report)
{
    const char *state_dir = config->state_dir; /* never empty: config.c refuses that */
    json_t *state = json_object();
    json_object_set_new(report, "state", state);
    json_object_set_new(state, "dir", one_line(state_dir));
    struct stat info;
    int postgres = config->state_backend == STATE_BACKEND_POSTGRES;
    json_object_set_new(state, "backend", json_string(postgres ? "postgres" : "sqlite"));
    int missing_dir = !postgres && stat(state_dir, &info) != 0 && errno == ENOENT;
    if (!postgres && (missing_dir || !store_exists(state_dir))) {
        json_object_set_new(state, "problem",
                            json_string(missing_dir ? "does not exist" : "holds no database"));
        json_object_set_new(report, "polling", json_string(polling_answer(NULL, holder_running)));
        return;
    }
    char error[256] = "";
    /* postgres: the error names host, port and database, never the password */
    struct store_settings settings = {.backend =
                                          postgres ? STORE_BACKEND_POSTGRES : STORE_BACKEND_SQLITE,
                                      .state_dir = state_dir,
                                      .dsn = config->state_dsn};
    struct store *store = store_open_settings(&settings, error, sizeof error, NULL);
    if (store == NULL) {
        json_object_set_new(state, "unreadable", one_line(error));
        return;
    }
    json_object_set_new(report, "polling", json_string(polling_answer(store, holder_running)));
    add_last_poll(store, report);
    add_last_error(store, report);
    add_queue_depths(store, report);
    store_close(store);
}

/* The snapshot is believed only when the live holder wrote it: after a
 * kill -9 the file stays behind with the dead process's pid. */
static void add_snapshot(const struct config *config, pid_t holder_pid, json_t *report)
{
    char problem[256];
    json_t *snapshot = status_snapshot_read(config->state_dir, problem, sizeof problem);
    if (snapshot == NULL) {
        if (problem[0] != '\0')
            json_object_set_new(report, "snapshot_problem", one_line(problem));
        return;
    }
    json_t *pid = json_object_get(snapshot, "pid");
    if (holder_pid <= 0 || !json_is_integer(pid) || json_integer_value(pid) != holder_pid) {
        json_decref(snapshot);
        return;
    }
    static const char *const copied[] = {"version", "store_failing", "plugins", "counters",
                                         "recent_errors"};
    for (size_t i = 0; i < sizeof copied / sizeof *copied; i++) {
        json_t *value = json_object_get(snapshot, copied[i]);
        if (value != NULL)
            json_object_set(report, copied[i], value);
    }
    json_t *started = json_object_get(snapshot, "started_ms");
    if (json_is_integer(started)) {
        int64_t started_ms = json_integer_value(started);
        int64_t uptime_s = (wall_ms() - started_ms) / 1000;
        json_object_set_new(report, "started", utc_text(started_ms));
        json_object_set_new(report, "uptime_s", json_integer(uptime_s < 0 ? 0 : uptime_s));
    }
    json_decref(snapshot);
}

/* ---- the text form ---- */

static const char *text_of(json_t *object, const char *key)
{
    const char *text = json_string_value(json_object_get(object, key));
    return text != NULL ? text : "";
}

static void print_holder(json_t *report, FILE *out)
{
    json_t *holder = json_object_get(report, "holder");
    const char *state = text_of(holder, "state");
    if (strcmp(state, "unknown") == 0)
        fputs("holder: unknown (the lock file cannot be read)\n", out);
    else if (strcmp(state, "none") == 0)
        fputs("holder: none\n", out);
    else if (json_object_get(holder, "pid") == NULL)
        fputs("holder: pid unknown (lock held, no record yet)\n", out);
    else
        fprintf(out, "holder: pid %" JSON_INTEGER_FORMAT " since %s\n",
                json_integer_value(json_object_get(holder, "pid")), text_of(holder, "since"));
}

static void print_database_lock(json_t *report, FILE *out)
{
    json_t *lock = json_object_get(report, "database_lock");
    if (lock == NULL)
        return;
    const char *state = text_of(lock, "state");
    if (strcmp(state, "unknown") == 0)
        fprintf(out, "database lock: unknown (%s)\n", text_of(lock, "problem"));
    else if (strcmp(state, "none") == 0)
        fputs("database lock: free (no host polls)\n", out);
    else if (json_object_get(lock, "hostname") == NULL)
        fprintf(out, "database lock: held by session %" JSON_INTEGER_FORMAT " (no lease row yet)\n",
                json_integer_value(json_object_get(lock, "session")));
    else
        fprintf(out,
                "database lock: held by host %s pid %" JSON_INTEGER_FORMAT
                " since %s (renewed %" JSON_INTEGER_FORMAT " ms ago)\n",
                text_of(lock, "hostname"), json_integer_value(json_object_get(lock, "pid")),
                text_of(lock, "since"),
                json_integer_value(json_object_get(lock, "renewed_ms_ago")));
}

static void print_uptime(json_t *report, FILE *out)
{
    json_t *version = json_object_get(report, "version");
    if (version != NULL)
        fprintf(out, "version: %s\n", json_string_value(version));
    json_t *uptime = json_object_get(report, "uptime_s");
    if (uptime == NULL)
        return;
    long long seconds = json_integer_value(uptime);
    fprintf(out, "uptime: %lldd %02lldh %02lldm %02llds (since %s)\n", seconds / 86400,
            seconds / 3600 % 24, seconds / 60 % 60, seconds % 60, text_of(report, "started"));
}

static void print_poll_lines(json_t *report, FILE *out)
{
    fprintf(out, "polling: %s\n", text_of(report, "polling"));
    json_t *last_poll = json_object_get(report, "last_poll");
    if (last_poll == NULL)
        fputs("last poll: never\n", out);
    else if (json_object_get(last_poll, "unreadable") != NULL)
        fputs("last poll: unknown (unreadable record)\n", out);
    else
        fprintf(out, "last poll: %s (%" JSON_INTEGER_FORMAT " s ago)\n", text_of(last_poll, "time"),
                json_integer_value(json_object_get(last_poll, "age_s")));
    json_t *last_error = json_object_get(report, "last_error");
    if (last_error == NULL)
        fputs("last error: none\n", out);
    else if (json_object_get(last_error, "time") == NULL)
        fprintf(out, "last error: %s\n", text_of(last_error, "text"));
    else
        fprintf(out, "last error: %s %s\n", text_of(last_error, "time"),
                text_of(last_error, "text"));
}

static void print_state(json_t *report, FILE *out)
{
    json_t *state = json_object_get(report, "state");
    if (json_object_get(state, "unreadable") != NULL) {
        fprintf(out, "state: unreadable (%s)\n", text_of(state, "unreadable"));
        return;
    }
    if (json_object_get(state, "problem") != NULL)
        fprintf(out, "state: no state yet (%s %s)\n", text_of(state, "dir"),
                text_of(state, "problem"));
    else
        fprintf(out, "state: %s\n", text_of(state, "dir"));
    print_poll_lines(report, out);
    json_t *inbox = json_object_get(report, "inbox");
    json_t *outbox = json_object_get(report, "outbox");
    if (inbox != NULL)
        fprintf(out, "inbox: %" JSON_INTEGER_FORMAT " update(s) waiting\n",
                json_integer_value(inbox));
    if (outbox != NULL)
        fprintf(out, "outbox: %" JSON_INTEGER_FORMAT " message part(s) waiting\n",
                json_integer_value(outbox));
}

static void print_plugins(json_t *report, FILE *out)
{
    json_t *plugins = json_object_get(report, "plugins");
    if (plugins == NULL)
        return;
    fputs("plugins:", out);
    size_t index;
    json_t *plugin;
    json_array_foreach(plugins, index, plugin) fprintf(
        out, "%s %s %s", index > 0 ? "," : "", text_of(plugin, "name"), text_of(plugin, "version"));
    fputs(json_array_size(plugins) == 0 ? " none\n" : "\n", out);
}

/* One counter as Prometheus writes it: name{label="value"} N. */
static void print_counter(json_t *counter, FILE *out)
{
    fprintf(out, "  %s", text_of(counter, "name"));
    json_t *labels = json_object_get(counter, "labels");
    const char *key;
    json_t *value;
    int first = 1;
    json_object_foreach(labels, key, value)
    {
        fprintf(out, "%s%s=\"%s\"", first ? "{" : ",", key, json_string_value(value));
        first = 0;
    }
    fprintf(out, "%s %" JSON_INTEGER_FORMAT "\n", first ? "" : "}",
            json_integer_value(json_object_get(counter, "value")));
}

static void print_activity(json_t *report, FILE *out)
{
    json_t *counters = json_object_get(report, "counters");
    size_t index;
    json_t *item;
    if (counters != NULL) {
        fputs("counters since start:\n", out);
        json_array_foreach(counters, index, item) print_counter(item, out);
    }
    json_t *errors = json_object_get(report, "recent_errors");
    if (errors == NULL)
        return;
    fprintf(out, "recent errors:%s\n", json_array_size(errors) == 0 ? " none" : "");
    json_array_foreach(errors, index, item)
        fprintf(out, "  %s %s [%s] %s\n", text_of(item, "time"), text_of(item, "level"),
                text_of(item, "origin"), text_of(item, "message"));
}

/* From the holder's snapshot: the store cannot record its own failure. */
static void print_store_failing(json_t *report, FILE *out)
{
    json_t *failing = json_object_get(report, "store_failing");
    if (failing == NULL)
        return;
    char since[32];
    format_utc_ms(json_integer_value(json_object_get(failing, "since_ms")), since, sizeof since);
    fprintf(out, "store: failing since %s (%s; %" JSON_INTEGER_FORMAT " failed writes)\n", since,
            text_of(failing, "reason"), json_integer_value(json_object_get(failing, "failures")));
}

static void print_text(json_t *report, FILE *out)
{
    print_holder(report, out);
    print_database_lock(report, out);
    print_uptime(report, out);
    print_plugins(report, out);
    print_state(report, out);
    print_store_failing(report, out);
    print_activity(report, out);
    json_t *problem = json_object_get(report, "snapshot_problem");
    if (problem != NULL)
        fprintf(out, "snapshot: unreadable (%s)\n", json_string_value(problem));
}

/* The exit code answers "is it running?" from the lock alone; an unreadable
 * store is reported on its line but does not hide a live holder. */
int status_run(const struct config *config, int json, FILE *out)
{
    json_t *report = json_object();
    pid_t holder_pid = 0;
    int result = add_holder(config, report, &holder_pid);
    if (config->state_backend == STATE_BACKEND_POSTGRES)
        add_database_lock(config, report);
    add_store_facts(config, result == STATUS_RUNNING, report);
    if (result == STATUS_RUNNING)
        add_snapshot(config, holder_pid, report);
    if (json) {
        json_dumpf(report, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fputc('\n', out);
    } else {
        print_text(report, out);
    }
    json_decref(report);
    fflush(out);
    return result;
}
