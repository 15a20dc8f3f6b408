/* Chat text as a command: "/cmd@bot a b" split into the command name and
 * its arguments, and whether text mentions the bot by @username. */
#ifndef JARVIS_COMMAND_TEXT_H
#define JARVIS_COMMAND_TEXT_H

#include <stddef.h>

/* Telegram's limit for a command name ([A-Za-z0-9_]{1,32}). */
#define COMMAND_NAME_MAX 32

/* Splits "/cmd@bot a b" into command "cmd" and args "a b". Returns 1 for a
 * command addressed to us (no @, or @username case-insensitively), 0 for
 * free text, -1 for a command addressed to another bot. command gets at
 * most command_size-1 bytes, lower-cased; *args points into text. */
int command_parse(const char *text, const char *bot_username, char *command, size_t command_size,
                  const char **args);
/* 1 when text contains @username (case-insensitive, not followed by a
 * name character), 0 otherwise or for an empty username. */
int command_mentions(const char *text, const char *username);

#endif
