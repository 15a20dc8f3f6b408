/* The state database's health at open: a damaged file is reported and left
 * exactly as found (jarvis never repairs, truncates or replaces it), so the
 * user decides what to keep; the hint says where it is and what is lost.
 * Later, its writes failing and working again, each said once. */
#include "state/store_health.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"

int store_health_code_is_damage(int code)
{
    int primary = code & 0xFF;
    return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

void store_health_describe(const char *path, int damaged, const char *reason, char *error,
                           size_t error_size)
{
    if (damaged)
        snprintf(error, error_size,
                 "state database %s is damaged (%s); left untouched. To start afresh: stop "
                 "jarvis, mv %s %s.broken (and its -wal and -shm files, if any), start again; "
                 "a new database then loses the Telegram offset (recent updates may be "
                 "handled again), replies not yet sent and all plugin data (subscriptions, "
                 "history, ledgers)",
                 path, reason, path, path);
    else
        snprintf(error, error_size,
                 "state database %s cannot be used (%s); nothing was changed. Check the file "
                 "system (read-only, full, failing disk) and the file's owner and mode, then "
                 "start again",
                 path, reason);
}

int store_health_check(sqlite3 *database, const char *path, char *error, size_t error_size)
{
    sqlite3_stmt *statement = NULL;
    int code = sqlite3_prepare_v2(database, "PRAGMA quick_check(1)", -1, &statement, NULL);
    if (code == SQLITE_OK)
        code = sqlite3_step(statement);
    int result = 0;
    if (code == SQLITE_ROW) {
        const char *verdict = (const char *)sqlite3_column_text(statement, 0);
        if (verdict == NULL || strcmp(verdict, "ok") != 0) {
            char reason[200];
            snprintf(reason, sizeof reason, "integrity check: %s", verdict ? verdict : "no answer");
            /* quick_check's answer may span lines; the log line may not */
            for (char *c = reason; *c != '\0'; c++)
                if (*c == '\n' || *c == '\r')
                    *c = ' ';
            store_health_describe(path, 1, reason, error, error_size);
            result = -1;
        }
    } else {
        int extended = sqlite3_extended_errcode(database);
        store_health_describe(path, store_health_code_is_damage(extended), sqlite3_errmsg(database),
                              error, error_size);
        result = -1;
    }
    sqlite3_finalize(statement);
    return result;
}

void store_health_write_failed(struct store_write_health *health, const char *path,
                               const char *what, const char *reason)
{
    health->failures++;
    if (health->failing) {
        log_debug("store %s: %s: %s (failure %ld)", path, what, reason, health->failures);
        return;
    }
    health->failing = 1;
    health->since_ms = wall_ms();
    snprintf(health->reason, sizeof health->reason, "%s", reason);
    log_error("store %s: writes failing (%s: %s); retried with backoff, nothing accepted is "
              "lost; logged again when they work",
              path, what, reason);
}

void store_health_write_worked(struct store_write_health *health, const char *path)
{
    if (!health->failing)
        return;
    log_warn("store %s: writes work again after %ld failed attempt%s over %" PRId64 " s", path,
             health->failures, health->failures == 1 ? "" : "s",
             (wall_ms() - health->since_ms) / 1000);
    health->failing = 0;
    health->failures = 0;
}
