/* Fuzz-style tests of command_parse: random and mutated chat text,
 * bot usernames and output sizes. Each answer is checked against the
 * documented contract and an independent re-statement of the rule
 * ("/name[@bot] args", name [A-Za-z0-9_]{1,32}). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "dispatch/dispatch.h"
#include "fuzz_input.h"
#include "dispatch/command_text.h"

#define ITERATIONS 4000
#define NAME_MAX_LENGTH 32

static const char *const samples[] = {
    "/ping", "/echo a  b ", "  /help", "/start@jarvis_bot", "/PING@Jarvis_Bot hi",
    "/ask@other_bot what", "/sentiment SOL", "/ask is $SOL bullish?", "/", "//",
    "/usr/bin/env", "/\xC3\xA4", "/a@", "/@x", "\t/x\ty", "/echo\n\nline",
    "/abcdefghijklmnopqrstuvwxyz0123456", "/abcdefghijklmnopqrstuvwxyz012345 x", "hello /ping",
    "/x@jarvis_bot\x80", "/ping@jarvis_botx",
};

static const char *const usernames[] = {NULL, "", "jarvis_bot", "JARVIS_BOT", "x", "a b"};

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The rule written out again, to compare: the expected return value. */
static int expected_kind(const char *text, const char *username, size_t *name_start,
                         size_t *name_length)
{
    size_t i = 0;
    while (is_space(text[i]))
        i++;
    if (text[i] != '/')
        return 0;
    *name_start = ++i;
    while (is_name_char(text[i]))
        i++;
    *name_length = i - *name_start;
    if (*name_length == 0 || *name_length > NAME_MAX_LENGTH)
        return 0;
    if (text[i] != '\0' && !is_space(text[i]) && text[i] != '@')
        return 0;
    if (text[i] != '@')
        return 1;
    size_t mention = ++i;
    while (text[i] != '\0' && !is_space(text[i]))
        i++;
    if (username == NULL || username[0] == '\0' || strlen(username) != i - mention)
        return -1;
    return strncasecmp(text + mention, username, i - mention) == 0 ? 1 : -1;
}

static int counts[3];

static void check_one(const char *text, const char *username, size_t command_size)
{
    char command[64];
    memset(command, 'Z', sizeof command);
    const char *args = (const char *)0x1;
    int kind = command_parse(text, username, command_size ? command : NULL,
                                      command_size, &args);
    assert_true(kind >= -1 && kind <= 1);
    counts[kind + 1]++;
    size_t name_start = 0, name_length = 0;
    assert_int_equal(kind, expected_kind(text, username, &name_start, &name_length));
    if (kind != 1) {
        assert_null(args);
        if (command_size > 0)
            assert_string_equal(command, "");
        return;
    }
    size_t text_length = strlen(text);
    assert_true(args >= text && args <= text + text_length);
    assert_false(is_space(*args));
    if (command_size == 0)
        return;
    size_t length = strnlen(command, command_size);
    assert_true(length < command_size); /* NUL-terminated inside the buffer */
    assert_int_equal(length, name_length < command_size - 1 ? name_length : command_size - 1);
    for (size_t i = 0; i < length; i++) {
        assert_true(is_name_char(command[i]) && !(command[i] >= 'A' && command[i] <= 'Z'));
        assert_true(command[i] == text[name_start + i] ||
                    command[i] == text[name_start + i] - 'A' + 'a');
    }
    assert_int_equal(command[command_size], 'Z'); /* nothing written past the size */
}

static void test_random_and_mutated_text(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 2, 5, 33, 34, 63};
    fuzz_rng rng;
    fuzz_text text = {0};
    fuzz_seed(&rng, 0xD15A7C01);
    for (int i = 0; i < ITERATIONS; i++) {
        size_t choice = fuzz_below(&rng, 4);
        if (choice == 0)
            fuzz_random_bytes(&rng, &text, fuzz_below(&rng, 80), 0);
        else
            fuzz_mutated_copy(&rng, &text, samples, sizeof samples / sizeof samples[0], 3);
        if (choice == 3) { /* a long line behind a command */
            fuzz_insert(&text, 0, "/echo ", 6);
            for (int n = 0; n < 500; n++)
                fuzz_append_string(&text, fuzz_hostile(&rng));
        }
        const char *username = usernames[fuzz_below(&rng, sizeof usernames / sizeof usernames[0])];
        check_one(text.data, username, sizes[fuzz_below(&rng, sizeof sizes / sizeof sizes[0])]);
    }
    /* the inputs reach every answer */
    assert_true(counts[0] > 50 && counts[1] > 50 && counts[2] > 50);
    fuzz_free(&text);
}

static void test_null_text_and_outputs(void **state)
{
    (void)state;
    char command[8] = "x";
    const char *args = "x";
    assert_int_equal(command_parse(NULL, "jarvis_bot", command, sizeof command, &args),
                     0);
    assert_string_equal(command, "");
    assert_null(args);
    assert_int_equal(command_parse("/ping a", NULL, NULL, 0, NULL), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_and_mutated_text),
        cmocka_unit_test(test_null_text_and_outputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
