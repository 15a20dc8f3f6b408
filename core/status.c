/* `jarvis status`: a read-only report for people and monitoring scripts.
 * It probes the lock without taking it and reads the poll status that the
 * Telegram transport keeps in the store; one "name: value" per line. */
#include "status.h"

#include "clock.h"
#include "config.h"
#include "instance.h"
#include "store.h"

#include <errno.h>
#include <inttypes.h>
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

static int print_holder(const struct config *config, FILE *out)
{
    struct instance_holder holder;
    int found = instance_query(config, &holder);
    if (found < 0) {
        fputs("holder: unknown (the lock file cannot be read)\n", out);
        return STATUS_UNREADABLE;
    }
    if (found == 0) {
        fputs("holder: none\n", out);
        return STATUS_NOT_RUNNING;
    }
    if (holder.pid <= 0) {
        fputs("holder: pid unknown (lock held, no record yet)\n", out);
        return STATUS_RUNNING;
    }
    char since[32];
    format_utc_ms(holder.since_s * 1000, since, sizeof since);
    fprintf(out, "holder: pid %ld since %s\n", (long)holder.pid, since);
    return STATUS_RUNNING;
}

/* 0 and a malloc'd value, 1 when absent, -1 on error. */
static int read_key(struct store *store, const char *key, char **value)
{
    size_t length = 0;
    *value = NULL;
    return store_get(store, STATUS_SPACE, key, value, &length);
}

/* A stale "1" survives a kill -9, so without a holder nobody is polling. */
static void print_polling(struct store *store, int holder_running, FILE *out)
{
    char *value = NULL;
    int found = read_key(store, STATUS_KEY_POLLING, &value);
    const char *answer = "unknown";
    if (!holder_running)
        answer = "no";
    else if (found == 0)
        answer = strcmp(value, "1") == 0 ? "yes" : "no";
    fprintf(out, "polling: %s\n", answer);
    free(value);
}

static void print_last_poll(struct store *store, FILE *out)
{
    char *value = NULL;
    if (read_key(store, STATUS_KEY_LAST_POLL_OK, &value) != 0) {
        fputs("last poll: never\n", out);
        return;
    }
    char *end = NULL;
    long long poll_ms = strtoll(value, &end, 10);
    if (end == value) {
        fputs("last poll: unknown (unreadable record)\n", out);
    } else {
        char when[32];
        format_utc_ms(poll_ms, when, sizeof when);
        long long age_s = (wall_ms() - poll_ms) / 1000;
        fprintf(out, "last poll: %s (%lld s ago)\n", when, age_s < 0 ? 0 : age_s);
    }
    free(value);
}

/* The record is "<unix ms> <one line>". */
static void print_last_error(struct store *store, FILE *out)
{
    char *value = NULL;
    if (read_key(store, STATUS_KEY_LAST_ERROR, &value) != 0) {
        fputs("last error: none\n", out);
        return;
    }
    char *end = NULL;
    long long error_ms = strtoll(value, &end, 10);
    const char *text = end;
    while (*text == ' ')
        text++;
    for (char *cursor = value; *cursor != '\0'; cursor++)
        if (*cursor == '\n' || *cursor == '\r')
            *cursor = ' ';
    if (end == value) {
        fprintf(out, "last error: %s\n", value);
    } else {
        char when[32];
        format_utc_ms(error_ms, when, sizeof when);
        fprintf(out, "last error: %s %s\n", when, text);
    }
    free(value);
}

static void print_store(const struct config *config, int holder_running, FILE *out)
{
    const char *state_dir = config->state_dir; /* never empty: config.c refuses that */
    struct stat info;
    int missing_dir = stat(state_dir, &info) != 0 && errno == ENOENT;
    if (missing_dir || !store_exists(state_dir)) {
        fprintf(out, "state: no state yet (%s %s)\n", state_dir,
                missing_dir ? "does not exist" : "holds no database");
        fprintf(out, "polling: %s\n", holder_running ? "unknown" : "no");
        fputs("last poll: never\nlast error: none\n", out);
        return;
    }
    char error[256] = "";
    struct store *store = store_open(state_dir, error, sizeof error);
    if (store == NULL) {
        fprintf(out, "state: unreadable (%s)\n", error);
        return;
    }
    fprintf(out, "state: %s\n", state_dir);
    print_polling(store, holder_running, out);
    print_last_poll(store, out);
    print_last_error(store, out);
    store_close(store);
}

/* The exit code answers "is it running?" from the lock alone; an unreadable
 * store is reported on its line but does not hide a live holder. */
int status_run(const struct config *config, FILE *out)
{
    int result = print_holder(config, out);
    print_store(config, result == STATUS_RUNNING, out);
    fflush(out);
    return result;
}
