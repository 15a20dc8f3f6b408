/* Where jarvis finds its files: which plugins.ini it reads, and every
 * relative path in it taken from that file's directory, so
 * `jarvis -c /srv/bot/plugins.ini` works from any working directory. */
#include "config/config_paths.h"

#include "config/settings.h"

#include "config/config_schema.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *config_choose_path(const char *option_path, const char *system_path)
{
    if (option_path != NULL)
        return option_path;
    const char *from_environment = getenv("JARVIS_CONFIG");
    if (from_environment != NULL && from_environment[0] != '\0')
        return from_environment;
    if (access("plugins.ini", F_OK) == 0 || system_path == NULL)
        return "plugins.ini";
    return system_path;
}

/* The directory part of path made absolute; not resolved through symlinks,
 * so a config linked into /etc keeps /etc as its directory, as nginx does. */
static char *absolute_directory(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == path)
        return config_copy_text("/");
    if (slash != NULL && path[0] == '/') {
        char *directory = config_copy_text(path);
        directory[slash - path] = '\0';
        return directory;
    }
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL)
        return NULL;
    int length = slash != NULL ? (int)(slash - path) : 0;
    char *directory = NULL;
    if (length == 0 || (length == 1 && path[0] == '.'))
        return config_copy_text(cwd);
    if (asprintf(&directory, "%s/%.*s", strcmp(cwd, "/") == 0 ? "" : cwd, length, path) < 0)
        return NULL;
    return directory;
}

static char *absolute_path(const char *directory, const char *path, size_t length)
{
    char *joined = NULL;
    if (path[0] == '/') {
        if (asprintf(&joined, "%.*s", (int)length, path) < 0)
            return NULL;
    } else if (asprintf(&joined, "%s/%.*s", strcmp(directory, "/") == 0 ? "" : directory,
                        (int)length, path) < 0) {
        return NULL;
    }
    return joined;
}

/* Empty stays empty: it means "the default place" for log_file and lock path. */
static int resolve_one(const char *directory, char **field)
{
    if (*field == NULL || (*field)[0] == '\0')
        return 0;
    char *resolved = absolute_path(directory, *field, strlen(*field));
    if (resolved == NULL)
        return -1;
    free(*field);
    *field = resolved;
    return 0;
}

/* Each ':'-separated directory on its own; empty items are dropped. */
static int resolve_list(const char *directory, char **field)
{
    size_t capacity = strlen(*field) * 2 + strlen(directory) * (strlen(*field) + 1) + 2;
    char *joined = calloc(1, capacity);
    if (joined == NULL)
        return -1;
    const char *item = *field;
    while (*item != '\0') {
        size_t length = strcspn(item, ":");
        if (length > 0) {
            char *resolved = absolute_path(directory, item, length);
            if (resolved == NULL) {
                free(joined);
                return -1;
            }
            if (joined[0] != '\0')
                strcat(joined, ":");
            strcat(joined, resolved);
            free(resolved);
        }
        item += length;
        if (*item == ':')
            item++;
    }
    free(*field);
    *field = joined;
    return 0;
}

int config_resolve_paths(struct config *config, char *error, size_t error_size)
{
    free(config->directory);
    config->directory = absolute_directory(config->path);
    if (config->directory == NULL) {
        snprintf(error, error_size, "cannot find the directory of %s: %s", config->path,
                 strerror(errno));
        return -1;
    }
    for (const struct config_key *key = config_keys; key->name != NULL; key++) {
        char **field = (char **)((char *)config + key->offset);
        int result = 0;
        if (key->type == CONFIG_PATH)
            result = resolve_one(config->directory, field);
        else if (key->type == CONFIG_PATH_LIST)
            result = resolve_list(config->directory, field);
        if (result != 0) {
            snprintf(error, error_size, "[%s] %s: out of memory", key->section, key->name);
            return -1;
        }
    }
    if (config->plugin_dir[0] == '\0') {
        snprintf(error, error_size, "[plugins] dir names no directory");
        return -1;
    }
    return 0;
}

int config_enter_directory(const struct config *config)
{
    return chdir(config->directory);
}
