/* Unit tests for core/log.c's JSON lines and recent problems: one object per
 * line with time, level, origin, message and the event's fields; secrets
 * masked inside field values too; invalid UTF-8 kept readable; only
 * warnings and errors remembered, newest first, at most three. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

#define SECRET "s3cret-VALUE-for-the-test"

static char path[64];

static int set_up(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/jarvis_test_log_json.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(log_open(path, LOG_INFO), 0);
    log_set_format(LOG_FORMAT_JSON);
    log_add_secret(SECRET);
    return 0;
}

static int tear_down(void **state)
{
    (void)state;
    log_set_format(LOG_FORMAT_TEXT);
    log_close();
    unlink(path);
    return 0;
}

/* Every line of the log as a JSON object; NULL-terminated array. */
static json_t *read_events(void)
{
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    json_t *events = json_array();
    char line[8192];
    while (fgets(line, sizeof line, file) != NULL) {
        json_error_t error;
        json_t *event = json_loads(line, 0, &error);
        if (event == NULL)
            fail_msg("not JSON: %s (%s)", line, error.text);
        json_array_append_new(events, event);
    }
    fclose(file);
    return events;
}

static void lines_are_objects_with_fields(void **state)
{
    (void)state;
    struct log_field fields[] = {
        {.key = "update_id", .kind = LOG_FIELD_INTEGER, .integer = 42},
        {.key = "duration_ms", .kind = LOG_FIELD_REAL, .real = 1.5},
        {.key = "plugin", .text = "hello"},
        {.key = "absent", .text = NULL},
        {.key = "text", .text = "token " SECRET " \"quoted\""},
    };
    log_write_fields(LOG_INFO, NULL, fields, sizeof fields / sizeof *fields, "update %d done",
                     42);
    log_write(LOG_WARN, "sentiment", "plain line with " SECRET);
    log_write(LOG_DEBUG, NULL, "below the threshold");
    json_t *events = read_events();
    assert_int_equal(json_array_size(events), 2);
    json_t *update = json_array_get(events, 0);
    assert_string_equal(json_string_value(json_object_get(update, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(update, "origin")), "core");
    assert_string_equal(json_string_value(json_object_get(update, "message")), "update 42 done");
    assert_int_equal(json_integer_value(json_object_get(update, "update_id")), 42);
    assert_true(json_real_value(json_object_get(update, "duration_ms")) == 1.5);
    assert_string_equal(json_string_value(json_object_get(update, "plugin")), "hello");
    assert_null(json_object_get(update, "absent"));
    assert_string_equal(json_string_value(json_object_get(update, "text")),
                        "token *** \"quoted\"");
    const char *time = json_string_value(json_object_get(update, "time"));
    assert_non_null(time);
    assert_int_equal(strlen(time), strlen("2026-01-01T00:00:00.000Z"));
    assert_int_equal(time[strlen(time) - 1], 'Z');
    json_t *warning = json_array_get(events, 1);
    assert_string_equal(json_string_value(json_object_get(warning, "origin")), "sentiment");
    assert_string_equal(json_string_value(json_object_get(warning, "message")),
                        "plain line with ***");
    json_decref(events);
}

static void invalid_utf8_and_control_characters(void **state)
{
    (void)state;
    log_write(LOG_INFO, NULL, "bad \xff\xfe bytes\nand a newline");
    json_t *events = read_events();
    json_t *last = json_array_get(events, json_array_size(events) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "message")),
                        "bad ?? bytes and a newline");
    json_decref(events);
}

static void long_values_keep_the_line_within_its_limit(void **state)
{
    (void)state;
    char *long_text = malloc(6001);
    assert_non_null(long_text);
    memset(long_text, 'x', 6000);
    long_text[6000] = '\0';
    struct log_field fields[] = {{.key = "text", .text = long_text}};
    log_write_fields(LOG_INFO, NULL, fields, 1, "%s", long_text);
    free(long_text);
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    char line[16384];
    assert_non_null(fgets(line, sizeof line, file));
    fclose(file);
    assert_true(strlen(line) <= 4096);
    json_t *event = json_loads(line, 0, NULL);
    assert_non_null(event);
    const char *text = json_string_value(json_object_get(event, "text"));
    assert_non_null(text);
    assert_string_equal(text + strlen(text) - 3, "...");
    json_decref(event);
}

static void recent_problems_newest_first(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR); /* warnings are remembered even when not written */
    log_write(LOG_WARN, NULL, "first");
    log_write(LOG_ERROR, "dexter_finance", "second " SECRET);
    log_write(LOG_INFO, NULL, "not a problem");
    log_write(LOG_WARN, NULL, "third");
    log_write(LOG_ERROR, NULL, "fourth");
    log_set_level(LOG_INFO);
    struct log_problem problems[LOG_RECENT_PROBLEMS + 1];
    size_t count = log_recent_problems(problems, LOG_RECENT_PROBLEMS + 1);
    assert_int_equal(count, 3);
    assert_string_equal(problems[0].message, "fourth");
    assert_string_equal(problems[0].level, "error");
    assert_string_equal(problems[1].message, "third");
    assert_string_equal(problems[1].level, "warn");
    assert_string_equal(problems[2].message, "second ***");
    assert_string_equal(problems[2].origin, "dexter_finance");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(lines_are_objects_with_fields, set_up, tear_down),
        cmocka_unit_test_setup_teardown(invalid_utf8_and_control_characters, set_up, tear_down),
        cmocka_unit_test_setup_teardown(long_values_keep_the_line_within_its_limit, set_up,
                                        tear_down),
        cmocka_unit_test_setup_teardown(recent_problems_newest_first, set_up, tear_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
