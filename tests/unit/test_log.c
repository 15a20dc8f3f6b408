/* Unit tests for core/log.c: line format, level filter, one line per call,
 * secret and token masking, truncation, reopen after rename, threads. */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"

#define TOKEN_ID "123456789"
#define TOKEN_SECRET "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"

struct fixture {
    char directory[64];
    char path[128];
};

static int set_up(void **state)
{
    struct fixture *fixture = calloc(1, sizeof *fixture);
    assert_non_null(fixture);
    snprintf(fixture->directory, sizeof fixture->directory, "/tmp/jarvis_test_log.XXXXXX");
    assert_non_null(mkdtemp(fixture->directory));
    snprintf(fixture->path, sizeof fixture->path, "%s/jarvis.log", fixture->directory);
    assert_int_equal(log_open(fixture->path, LOG_DEBUG), 0);
    *state = fixture;
    return 0;
}

static int tear_down(void **state)
{
    struct fixture *fixture = *state;
    log_close();
    char rotated[160];
    snprintf(rotated, sizeof rotated, "%s.1", fixture->path);
    unlink(fixture->path);
    unlink(rotated);
    rmdir(fixture->directory);
    free(fixture);
    return 0;
}

static char *read_whole_file(const char *path)
{
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *text = calloc(1, (size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)size, file), (size_t)size);
    fclose(file);
    return text;
}

static size_t count_lines(const char *text)
{
    size_t lines = 0;
    for (const char *p = text; *p != '\0'; p++)
        lines += *p == '\n';
    return lines;
}

static void assert_matches(const char *text, const char *pattern)
{
    regex_t regex;
    assert_int_equal(regcomp(&regex, pattern, REG_EXTENDED | REG_NOSUB), 0);
    int result = regexec(&regex, text, 0, NULL, 0);
    regfree(&regex);
    if (result != 0)
        fail_msg("'%s' does not match /%s/", text, pattern);
}

static void test_line_format(void **state)
{
    struct fixture *fixture = *state;
    log_write(LOG_WARN, "myplugin", "hello %d", 42);
    log_error("core says %s", "bye");
    char *text = read_whole_file(fixture->path);
    assert_matches(text, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                         "WARN  \\[myplugin\\] hello 42\n"
                         "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                         "ERROR \\[core\\] core says bye\n$");
    free(text);
}

static void test_file_mode_is_private(void **state)
{
    struct fixture *fixture = *state;
    log_info("x");
    struct stat info;
    assert_int_equal(stat(fixture->path, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0600);
}

static void test_level_filter(void **state)
{
    struct fixture *fixture = *state;
    log_set_level(LOG_WARN);
    log_debug("debug hidden");
    log_info("info hidden");
    log_warn("warn shown");
    log_error("error shown");
    log_set_level(LOG_DEBUG);
    log_debug("debug shown");
    char *text = read_whole_file(fixture->path);
    assert_null(strstr(text, "hidden"));
    assert_non_null(strstr(text, "warn shown"));
    assert_non_null(strstr(text, "error shown"));
    assert_non_null(strstr(text, "DEBUG [core] debug shown"));
    assert_int_equal(count_lines(text), 3);
    free(text);
}

static void test_level_parse(void **state)
{
    (void)state;
    assert_int_equal(log_level_parse("error"), LOG_ERROR);
    assert_int_equal(log_level_parse("warn"), LOG_WARN);
    assert_int_equal(log_level_parse("info"), LOG_INFO);
    assert_int_equal(log_level_parse("debug"), LOG_DEBUG);
    /* plugins.ini has always accepted any case; this is the one parser of it */
    assert_int_equal(log_level_parse("INFO"), LOG_INFO);
    assert_int_equal(log_level_parse("Debug"), LOG_DEBUG);
    assert_int_equal(log_level_parse("verbose"), -1);
    assert_int_equal(log_level_parse(NULL), -1);
}

static void test_control_characters_stay_on_one_line(void **state)
{
    struct fixture *fixture = *state;
    log_info("first\nsecond\r\nthird\tfourth\x1b[31m");
    char *text = read_whole_file(fixture->path);
    assert_int_equal(count_lines(text), 1);
    assert_non_null(strstr(text, "first second  third fourth [31m\n"));
    free(text);
}

static void test_long_message_truncated(void **state)
{
    struct fixture *fixture = *state;
    char *long_text = malloc(10001);
    assert_non_null(long_text);
    memset(long_text, 'x', 10000);
    long_text[10000] = '\0';
    log_info("%s", long_text);
    free(long_text);
    char *text = read_whole_file(fixture->path);
    assert_int_equal(count_lines(text), 1);
    assert_true(strlen(text) <= 4096);
    assert_true(strlen(text) > 4000);
    assert_string_equal(text + strlen(text) - 5, "x...\n");
    free(text);
}

static void test_truncation_keeps_utf8_whole(void **state)
{
    struct fixture *fixture = *state;
    /* 3000 two-byte characters: the cut must not split one */
    char *long_text = malloc(6001);
    assert_non_null(long_text);
    for (int i = 0; i < 3000; i++)
        memcpy(long_text + 2 * i, "\xC3\xA9", 2);
    long_text[6000] = '\0';
    log_info("%s", long_text);
    free(long_text);
    char *text = read_whole_file(fixture->path);
    char *mark = strstr(text, "...\n");
    assert_non_null(mark);
    assert_true((unsigned char)mark[-1] == 0xA9);
    free(text);
}

static void test_registered_secret_masked(void **state)
{
    struct fixture *fixture = *state;
    log_add_secret("hunter2-very-secret");
    log_add_secret("ab"); /* too short: would mask ordinary text */
    log_info("key=hunter2-very-secret, again hunter2-very-secret; about abc");
    char *text = read_whole_file(fixture->path);
    assert_null(strstr(text, "hunter2"));
    assert_non_null(strstr(text, "key=***, again ***; about abc"));
    free(text);
}

static void test_longer_secret_masked_whole(void **state)
{
    struct fixture *fixture = *state;
    log_add_secret("inner");
    log_add_secret("outer-inner-outer");
    log_info("v=outer-inner-outer");
    char *text = read_whole_file(fixture->path);
    assert_non_null(strstr(text, "v=***\n"));
    free(text);
}

static void test_unregistered_token_shape_masked(void **state)
{
    struct fixture *fixture = *state;
    log_info("GET https://api.telegram.org/bot" TOKEN_ID ":" TOKEN_SECRET "/getMe failed");
    log_info("bare " TOKEN_ID ":" TOKEN_SECRET);
    log_info("encoded chat_id=1&token=" TOKEN_ID "%%3A" TOKEN_SECRET "&x=1");
    log_info("not a token: 1234:" TOKEN_SECRET " or 123456:short");
    char *text = read_whole_file(fixture->path);
    assert_null(strstr(text, TOKEN_SECRET "/"));
    assert_non_null(strstr(text, "https://api.telegram.org/bot***/getMe failed"));
    assert_non_null(strstr(text, "bare ***\n"));
    assert_non_null(strstr(text, "encoded chat_id=1&token=***&x=1\n"));
    /* too few id digits / too short a secret: left alone */
    assert_non_null(strstr(text, "not a token: 1234:" TOKEN_SECRET " or 123456:short"));
    free(text);
}

static void test_secret_not_leaked_by_truncation(void **state)
{
    struct fixture *fixture = *state;
    char *long_text = malloc(5000);
    assert_non_null(long_text);
    memset(long_text, 'y', 4040);
    snprintf(long_text + 4040, 5000 - 4040, "%s", TOKEN_ID ":" TOKEN_SECRET);
    log_info("%s", long_text);
    free(long_text);
    char *text = read_whole_file(fixture->path);
    assert_null(strstr(text, TOKEN_ID ":"));
    assert_null(strstr(text, "AAHdq"));
    free(text);
}

static void test_redact_in_place(void **state)
{
    (void)state;
    log_add_secret("sk-test-0123456789");
    char text[128] = "Authorization failed for sk-test-0123456789 via bot" TOKEN_ID
                     ":" TOKEN_SECRET "/sendMessage";
    log_redact(text, sizeof text);
    assert_string_equal(text, "Authorization failed for *** via bot***/sendMessage");

    char unterminated[8];
    memcpy(unterminated, "abcdefgh", 8);
    log_redact(unterminated, sizeof unterminated);
    assert_string_equal(unterminated, "abcdefg");
}

static void test_reopen_after_rename(void **state)
{
    struct fixture *fixture = *state;
    char rotated[160];
    snprintf(rotated, sizeof rotated, "%s.1", fixture->path);
    log_info("before rotation");
    assert_int_equal(rename(fixture->path, rotated), 0);
    log_info("still old file");
    assert_int_equal(log_reopen(), 0);
    log_info("after reopen");
    char *old_text = read_whole_file(rotated);
    char *new_text = read_whole_file(fixture->path);
    assert_non_null(strstr(old_text, "before rotation"));
    assert_non_null(strstr(old_text, "still old file"));
    assert_null(strstr(old_text, "after reopen"));
    assert_non_null(strstr(new_text, "after reopen"));
    assert_int_equal(count_lines(new_text), 1);
    free(old_text);
    free(new_text);
}

static void test_open_failure_reports_errno(void **state)
{
    struct fixture *fixture = *state;
    char bad_path[200];
    snprintf(bad_path, sizeof bad_path, "%s/missing/dir/x.log", fixture->directory);
    errno = 0;
    assert_int_equal(log_open(bad_path, LOG_INFO), -1);
    assert_int_equal(errno, ENOENT);
    /* the previous file stays in use */
    log_info("kept");
    char *text = read_whole_file(fixture->path);
    assert_non_null(strstr(text, "kept"));
    free(text);
}

#define THREADS 8
#define LINES_PER_THREAD 500

static void *write_lines(void *argument)
{
    intptr_t number = (intptr_t)argument;
    for (int i = 0; i < LINES_PER_THREAD; i++)
        log_write(LOG_INFO, "worker", "thread %ld line %d with\nembedded newline",
                  (long)number, i);
    return NULL;
}

static void test_threads_never_interleave(void **state)
{
    struct fixture *fixture = *state;
    pthread_t threads[THREADS];
    for (intptr_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, write_lines, (void *)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    char *text = read_whole_file(fixture->path);
    assert_int_equal(count_lines(text), THREADS * LINES_PER_THREAD);
    regex_t regex;
    assert_int_equal(regcomp(&regex,
                             "^[0-9T:.Z-]{24} INFO  \\[worker\\] thread [0-9] line [0-9]+ with "
                             "embedded newline$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    char *saveptr = NULL;
    for (char *line = strtok_r(text, "\n", &saveptr); line != NULL;
         line = strtok_r(NULL, "\n", &saveptr)) {
        if (regexec(&regex, line, 0, NULL, 0) != 0)
            fail_msg("malformed line: %s", line);
    }
    regfree(&regex);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_format, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_file_mode_is_private, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_level_filter, set_up, tear_down),
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test_setup_teardown(test_control_characters_stay_on_one_line, set_up,
                                        tear_down),
        cmocka_unit_test_setup_teardown(test_long_message_truncated, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_truncation_keeps_utf8_whole, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_registered_secret_masked, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_longer_secret_masked_whole, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_unregistered_token_shape_masked, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_secret_not_leaked_by_truncation, set_up, tear_down),
        cmocka_unit_test(test_redact_in_place),
        cmocka_unit_test_setup_teardown(test_reopen_after_rename, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_open_failure_reports_errno, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_threads_never_interleave, set_up, tear_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
