/* /help and /start: the command listing built from the registry. */
#ifndef JARVIS_HELP_H
#define JARVIS_HELP_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>

struct registry;

/* "/name - help" lines, sorted by name; malloc'd. Built-ins included. */
char *registry_help_text(struct registry *registry);
/* One command's help, usage line and admin note (malloc'd), or NULL when no
 * command has that name; "/name" and "name" both work. */
char *registry_command_help(struct registry *registry, const char *name);
/* Visits every command (name, help), for Telegram's setMyCommands. */
void registry_for_each_command(struct registry *registry,
                               void (*visit)(const char *name, const char *help, void *context),
                               void *context);

/* help.c: /help and /start, which no plugin may register. */
int registry_is_builtin_command(const char *name);

#endif
