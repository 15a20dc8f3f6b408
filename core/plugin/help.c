/* The command listing: the built-in commands plus every plugin command with
 * its help text, for /help and /start replies and Telegram's menu. */
#include "plugin/help.h"

#include "plugin/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plugin/registry_internal.h"

static const char *const builtin_commands[][2] = {
    {"help", "list the commands"},
    {"start", "say hello and list the commands"},
};

#define BUILTIN_COUNT (sizeof builtin_commands / sizeof builtin_commands[0])

int registry_is_builtin_command(const char *name)
{
    for (size_t i = 0; i < BUILTIN_COUNT; i++)
        if (strcmp(builtin_commands[i][0], name) == 0)
            return 1;
    return 0;
}

struct command_line {
    char *name;
    char *help;
    uint32_t flags;
};

static int compare_command_lines(const void *a, const void *b)
{
    return strcmp(((const struct command_line *)a)->name, ((const struct command_line *)b)->name);
}

/* Built-ins first, then the plugins' commands sorted by name; all copied so
 * the caller works without the registry lock. */
static struct command_line *snapshot_commands(struct registry *registry, size_t *count)
{
    pthread_mutex_lock(&registry->lock);
    size_t total = BUILTIN_COUNT + registry->commands.count;
    struct command_line *lines = calloc(total, sizeof *lines);
    for (size_t i = 0; lines && i < total; i++) {
        const char *name, *help;
        if (i < BUILTIN_COUNT) {
            name = builtin_commands[i][0];
            help = builtin_commands[i][1];
        } else {
            struct command *command = registry->commands.items[i - BUILTIN_COUNT];
            name = command->name;
            help = *command->help ? command->help : command->usage;
            lines[i].flags = command->flags;
        }
        lines[i].name = strdup(name);
        lines[i].help = strdup(help);
    }
    pthread_mutex_unlock(&registry->lock);
    if (!lines) {
        *count = 0;
        return NULL;
    }
    qsort(lines + BUILTIN_COUNT, total - BUILTIN_COUNT, sizeof *lines, compare_command_lines);
    *count = total;
    return lines;
}

static void free_command_lines(struct command_line *lines, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(lines[i].name);
        free(lines[i].help);
    }
    free(lines);
}

char *registry_help_text(struct registry *registry)
{
    size_t count;
    struct command_line *lines = snapshot_commands(registry, &count);
    char *text = NULL;
    size_t length = 0;
    FILE *stream = open_memstream(&text, &length);
    if (!stream) {
        free_command_lines(lines, count);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        if (!lines[i].name || !lines[i].help)
            continue;
        /* in /help, not in Telegram's menu: the menu has no room for it */
        const char *marker = (lines[i].flags & JV_COMMAND_GROUP_ADMIN) ? " (group admins)" : "";
        if (*lines[i].help)
            fprintf(stream, "/%s - %s%s\n", lines[i].name, lines[i].help, marker);
        else
            fprintf(stream, "/%s%s\n", lines[i].name, marker);
    }
    fclose(stream);
    free_command_lines(lines, count);
    return text;
}

void registry_for_each_command(struct registry *registry,
                               void (*visit)(const char *name, const char *help, void *context),
                               void *context)
{
    if (!registry || !visit)
        return;
    size_t count;
    struct command_line *lines = snapshot_commands(registry, &count);
    for (size_t i = 0; i < count; i++)
        if (lines[i].name && lines[i].help)
            visit(lines[i].name, lines[i].help, context);
    free_command_lines(lines, count);
}

/* "/name - help\nUsage: usage\n(admins only)" for one command, or NULL
 * when there is none of that name (a leading '/' is allowed). */
char *registry_command_help(struct registry *registry, const char *name)
{
    if (registry == NULL || name == NULL)
        return NULL;
    if (name[0] == '/')
        name++;
    for (size_t i = 0; i < BUILTIN_COUNT; i++)
        if (strcasecmp(builtin_commands[i][0], name) == 0) {
            char *text = NULL;
            return asprintf(&text, "/%s - %s\nUsage: /%s%s", builtin_commands[i][0],
                            builtin_commands[i][1], builtin_commands[i][0],
                            i == 0 ? " [command]" : "") < 0
                       ? NULL
                       : text;
        }
    char *text = NULL;
    pthread_mutex_lock(&registry->lock);
    for (size_t i = 0; i < registry->commands.count; i++) {
        const struct command *command = registry->commands.items[i];
        if (strcasecmp(command->name, name) != 0)
            continue;
        const char *usage = command->usage && *command->usage ? command->usage : "";
        if (asprintf(&text, "/%s - %s%s%s%s%s", command->name,
                     command->help && *command->help ? command->help : "(no description)",
                     *usage ? "\nUsage: " : "", usage,
                     (command->flags & JV_COMMAND_ADMIN) ? "\nFor admins only." : "",
                     (command->flags & JV_COMMAND_GROUP_ADMIN)
                         ? "\nIn a group, for the group's admins only."
                         : "") < 0)
            text = NULL;
        break;
    }
    pthread_mutex_unlock(&registry->lock);
    return text;
}
