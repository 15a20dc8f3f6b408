/* Building, writing and reading <state_dir>/status.json. Everything in it
 * is already safe to show: plugin names and versions, counters by fixed
 * labels, and log lines after the log's own secret masking. */
#include "supervise/status_snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "config/config.h"
#include "plugin/host.h"
#include "base/log.h"
#include "base/metrics.h"
#include "plugin/plugin_record.h"
#include "plugin/registry.h"
#include "state/store.h"
#include "base/version.h"

static json_t *plugin_list(struct host *host)
{
    json_t *plugins = json_array();
    size_t count = host->registry != NULL ? registry_plugin_count(host->registry) : 0;
    for (size_t i = 0; i < count; i++) {
        struct jv_plugin *plugin = registry_plugin_at(host->registry, i);
        if (plugin == NULL)
            continue;
        json_t *entry = json_object();
        json_object_set_new(entry, "name", json_string(plugin->name));
        const char *version = plugin->info.version != NULL ? plugin->info.version : "";
        json_t *version_value = json_string(version);
        json_object_set_new(entry, "version",
                            version_value != NULL ? version_value : json_string("?"));
        json_array_append_new(plugins, entry);
    }
    return plugins;
}

static void add_counter(const char *name, const char *label_a_name, const char *label_a,
                        const char *label_b_name, const char *label_b, double value, void *context)
{
    json_t *counters = context;
    json_t *entry = json_object();
    json_object_set_new(entry, "name", json_string(name));
    json_t *labels = json_object();
    if (label_a_name != NULL)
        json_object_set_new(labels, label_a_name, json_string(label_a));
    if (label_b_name != NULL)
        json_object_set_new(labels, label_b_name, json_string(label_b));
    json_object_set_new(entry, "labels", labels);
    json_object_set_new(entry, "value", json_integer((json_int_t)value));
    json_array_append_new(counters, entry);
}

static json_t *problem_list(void)
{
    struct log_problem problems[LOG_RECENT_PROBLEMS];
    size_t count = log_recent_problems(problems, LOG_RECENT_PROBLEMS);
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++) {
        json_t *entry = json_object();
        json_object_set_new(entry, "time", json_string(problems[i].time));
        json_object_set_new(entry, "level", json_string(problems[i].level));
        json_object_set_new(entry, "origin", json_string(problems[i].origin));
        json_t *message = json_string(problems[i].message);
        json_object_set_new(entry, "message",
                            message != NULL ? message : json_string("(not UTF-8)"));
        json_array_append_new(list, entry);
    }
    return list;
}

/* Writes failing, for `jarvis status`: the one thing the holder knows that
 * the store cannot record (it is the store that fails). */
static void add_store_failing(struct host *host, json_t *snapshot)
{
    int64_t since_ms = 0;
    long failures = 0;
    char reason[160] = "";
    if (!store_write_failing(host->store, &since_ms, &failures, reason, sizeof reason))
        return;
    json_t *failing = json_object();
    json_object_set_new(failing, "since_ms", json_integer(since_ms));
    json_object_set_new(failing, "failures", json_integer(failures));
    json_t *text = json_string(reason);
    json_object_set_new(failing, "reason", text != NULL ? text : json_string("(not UTF-8)"));
    json_object_set_new(snapshot, "store_failing", failing);
}

static json_t *build_snapshot(struct host *host, int64_t started_ms, int brief)
{
    json_t *snapshot = json_object();
    json_object_set_new(snapshot, "pid", json_integer(getpid()));
    json_object_set_new(snapshot, "version", json_string(JARVIS_VERSION));
    json_object_set_new(snapshot, "started_ms", json_integer(started_ms));
    add_store_failing(host, snapshot);
    json_object_set_new(snapshot, "plugins", plugin_list(host));
    if (brief)
        return snapshot;
    json_t *counters = json_array();
    metrics_for_each_counter(add_counter, counters);
    json_object_set_new(snapshot, "counters", counters);
    json_object_set_new(snapshot, "recent_errors", problem_list());
    return snapshot;
}

/* The file is padded with spaces (JSON allows them) to whole blocks plus
 * room, so that a full disk, where no new file can be written, still lets
 * the next snapshot overwrite it in place. */
#define SNAPSHOT_BLOCK 4096
#define SNAPSHOT_ROOM 2048

static char *snapshot_text(struct host *host, int64_t started_ms, int brief, size_t *length)
{
    json_t *snapshot = build_snapshot(host, started_ms, brief);
    char *text = json_dumps(snapshot, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(snapshot);
    if (text != NULL)
        *length = strlen(text);
    return text;
}

static int write_whole(int fd, const char *text, size_t length, size_t padded)
{
    static const char spaces[256] = {[0 ... 255] = ' '};
    if (pwrite(fd, text, length, 0) != (ssize_t)length)
        return -1;
    for (size_t at = length; at < padded;) {
        size_t part = padded - at < sizeof spaces ? padded - at : sizeof spaces;
        if (pwrite(fd, spaces, part, (off_t)at) != (ssize_t)part)
            return -1;
        at += part;
    }
    return 0;
}

/* The usual way: a new file renamed over the old, so a reader sees one
 * snapshot or the other. */
static int write_renamed(const char *path, const char *temporary, const char *text, size_t length)
{
    size_t padded = (length + SNAPSHOT_ROOM + SNAPSHOT_BLOCK - 1) / SNAPSHOT_BLOCK * SNAPSHOT_BLOCK;
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int written = write_whole(fd, text, length, padded) == 0;
    if (close(fd) == 0 && written && rename(temporary, path) == 0)
        return 0;
    unlink(temporary);
    return -1;
}

/* The full-disk way: over the old file's own blocks, its size unchanged;
 * the brief form (no counters, no recent errors) when the whole one would
 * not fit. */
static int write_in_place(struct host *host, int64_t started_ms, const char *path, const char *text,
                          size_t length)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    struct stat info;
    if (fd < 0)
        return -1;
    int result = -1;
    if (fstat(fd, &info) == 0) {
        size_t room = (size_t)info.st_size;
        size_t brief_length = 0;
        char *brief = length > room ? snapshot_text(host, started_ms, 1, &brief_length) : NULL;
        if (length <= room)
            result = write_whole(fd, text, length, room);
        else if (brief != NULL && brief_length <= room)
            result = write_whole(fd, brief, brief_length, room);
        free(brief);
    }
    close(fd);
    return result;
}

/* 1 when the file holds text already (the last write's, still there). */
static int already_written(const char *path, const char *text, char *const *last_written)
{
    struct stat info;
    return last_written != NULL && *last_written != NULL && strcmp(*last_written, text) == 0 &&
           stat(path, &info) == 0;
}

int status_snapshot_write(struct host *host, int64_t started_ms, char **last_written)
{
    size_t length = 0;
    char *text = snapshot_text(host, started_ms, 0, &length);
    if (text == NULL)
        return -1;
    const char *state_dir = host->config->state_dir;
    size_t path_size = strlen(state_dir) + sizeof "/" STATUS_SNAPSHOT_FILE ".tmp";
    char path[path_size], temporary[path_size];
    snprintf(path, path_size, "%s/%s", state_dir, STATUS_SNAPSHOT_FILE);
    snprintf(temporary, path_size, "%s.tmp", path);
    if (already_written(path, text, last_written)) {
        free(text);
        return 0;
    }
    int result = write_renamed(path, temporary, text, length);
    if (result != 0)
        result = write_in_place(host, started_ms, path, text, length);
    if (result == 0 && last_written != NULL) {
        free(*last_written);
        *last_written = text;
        return 0;
    }
    free(text);
    return result;
}

json_t *status_snapshot_read(const char *state_dir, char *problem, size_t problem_size)
{
    size_t path_size = strlen(state_dir) + sizeof "/" STATUS_SNAPSHOT_FILE;
    char path[path_size];
    snprintf(path, path_size, "%s/%s", state_dir, STATUS_SNAPSHOT_FILE);
    problem[0] = '\0';
    FILE *file = fopen(path, "re");
    if (file == NULL) {
        if (errno != ENOENT)
            snprintf(problem, problem_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    json_error_t error;
    json_t *snapshot = json_loadf(file, 0, &error);
    fclose(file);
    if (!json_is_object(snapshot)) {
        snprintf(problem, problem_size, "%s: not a status snapshot (%s)", path, error.text);
        json_decref(snapshot);
        return NULL;
    }
    return snapshot;
}
