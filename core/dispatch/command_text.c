/* Chat text as a command: "/cmd@bot args" (command_text.h), by Telegram's
 * rules for command names and the @username suffix in groups. */
#include "dispatch/command_text.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "base/text.h"

static int is_command_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The name after '/' ends at whitespace, '@' or the end; it must be Telegram's
 * [A-Za-z0-9_]{1,32}, otherwise the text ("/", "/usr/bin", "/ä") is free text. */
static size_t command_name_length(const char *name)
{
    size_t length = 0;
    while (name[length] != '\0' && !text_is_space(name[length]) && name[length] != '@') {
        if (!is_command_char(name[length]))
            return 0;
        length++;
    }
    return length <= COMMAND_NAME_MAX ? length : 0;
}

static int addressed_to_us(const char *mention, size_t length, const char *bot_username)
{
    if (bot_username == NULL || bot_username[0] == '\0')
        return 0;
    return strlen(bot_username) == length && strncasecmp(mention, bot_username, length) == 0;
}

int command_parse(const char *text, const char *bot_username, char *command, size_t command_size,
                  const char **args)
{
    if (command != NULL && command_size > 0)
        command[0] = '\0';
    if (args != NULL)
        *args = NULL;
    if (text == NULL)
        return 0;
    const char *start = text_skip_spaces(text);
    if (*start != '/')
        return 0;
    const char *name = start + 1;
    size_t name_length = command_name_length(name);
    if (name_length == 0)
        return 0;
    const char *rest = name + name_length;
    if (*rest == '@') {
        const char *mention = rest + 1;
        size_t mention_length = 0;
        while (mention[mention_length] != '\0' && !text_is_space(mention[mention_length]))
            mention_length++;
        if (!addressed_to_us(mention, mention_length, bot_username))
            return -1;
        rest = mention + mention_length;
    }
    if (command != NULL && command_size > 0) {
        size_t copy = name_length < command_size - 1 ? name_length : command_size - 1;
        for (size_t i = 0; i < copy; i++)
            command[i] = (char)tolower((unsigned char)name[i]);
        command[copy] = '\0';
    }
    if (args != NULL)
        *args = text_skip_spaces(rest);
    return 1;
}

int command_mentions(const char *text, const char *username)
{
    size_t length = strlen(username);
    if (length == 0)
        return 0;
    for (const char *at = strchr(text, '@'); at != NULL; at = strchr(at + 1, '@')) {
        if (strncasecmp(at + 1, username, length) == 0 && !is_command_char(at[1 + length]))
            return 1;
    }
    return 0;
}
