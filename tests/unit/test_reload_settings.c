/* Unit tests for core/reload_settings.c: which plugin sections count as
 * changed, restart-only settings carried over from the running
 * configuration with one log line each (the token never shown), and the
 * live settings' description. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "base/log.h"
#include "config/reload_settings.h"

struct fixture {
    char directory[64];
    char log_path[128];
    struct config running;
    struct config adopted;
};

static int set_up(void **state)
{
    struct fixture *fixture = calloc(1, sizeof *fixture);
    assert_non_null(fixture);
    snprintf(fixture->directory, sizeof fixture->directory, "/tmp/jarvis_test_reload.XXXXXX");
    assert_non_null(mkdtemp(fixture->directory));
    snprintf(fixture->log_path, sizeof fixture->log_path, "%s/log", fixture->directory);
    assert_int_equal(log_open(fixture->log_path, LOG_DEBUG), 0);
    *state = fixture;
    return 0;
}

static int tear_down(void **state)
{
    struct fixture *fixture = *state;
    config_free(&fixture->running);
    config_free(&fixture->adopted);
    log_close();
    char path[160];
    snprintf(path, sizeof path, "%s/a.ini", fixture->directory);
    unlink(path);
    snprintf(path, sizeof path, "%s/b.ini", fixture->directory);
    unlink(path);
    unlink(fixture->log_path);
    rmdir(fixture->directory);
    free(fixture);
    return 0;
}

static void load(struct fixture *fixture, const char *name, const char *text,
                 struct config *config)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", fixture->directory, name);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(text, file);
    fclose(file);
    char error[512];
    assert_int_equal(config_load(path, config, error, sizeof error), 0);
}

static char *log_contents(struct fixture *fixture)
{
    log_close();
    FILE *file = fopen(fixture->log_path, "r");
    assert_non_null(file);
    static char text[8192];
    size_t length = fread(text, 1, sizeof text - 1, file);
    text[length] = '\0';
    fclose(file);
    assert_int_equal(log_open(fixture->log_path, LOG_DEBUG), 0);
    return text;
}

static void test_section_changes(void **state)
{
    struct fixture *fixture = *state;
    load(fixture, "a.ini",
         "[plugins]\nenable = a, b, c\n[a]\nx = 1\ny = 2\n[b]\nx = 1\n[c]\nx = 1\n",
         &fixture->running);
    load(fixture, "b.ini",
         "[plugins]\nenable = a, b, c, d\n[a]\nx = 1\ny = 2\n[b]\nx = 2\n[c]\nx = 1\nz = 3\n"
         "[d]\nx = 1\n",
         &fixture->adopted);
    assert_false(reload_section_changed(&fixture->running, &fixture->adopted, "a"));
    assert_true(reload_section_changed(&fixture->running, &fixture->adopted, "b"));
    assert_true(reload_section_changed(&fixture->running, &fixture->adopted, "c"));
    assert_true(reload_section_changed(&fixture->running, &fixture->adopted, "d"));
    assert_true(reload_section_changed(&fixture->adopted, &fixture->running, "c"));
    assert_false(reload_section_changed(&fixture->running, &fixture->adopted, "absent"));
}

static void test_restart_settings_are_carried_over(void **state)
{
    struct fixture *fixture = *state;
    load(fixture, "a.ini",
         "[bot]\ntoken = 111:AAsecretSECRETsecretSECRETsecret1\nworkers = 2\n"
         "log_level = info\nadmins = 5\n[lock]\nmax_wait = 7\n",
         &fixture->running);
    load(fixture, "b.ini",
         "[bot]\ntoken = 222:AAotherOTHERotherOTHERotherOTH2\nworkers = 6\n"
         "log_level = debug\nadmins = 5, 6\nhandler_budget_ms = 500\n[lock]\nmax_wait = 7\n",
         &fixture->adopted);
    assert_int_equal(reload_settings_carry_over(&fixture->running, &fixture->adopted), 2);
    assert_string_equal(fixture->adopted.token, fixture->running.token);
    assert_int_equal(fixture->adopted.workers, 2);
    assert_int_equal(fixture->adopted.lock_max_wait, 7);
    /* live settings keep the new value */
    assert_int_equal(fixture->adopted.admin_count, 2);
    assert_int_equal(fixture->adopted.log_level, LOG_DEBUG);
    assert_int_equal(fixture->adopted.handler_budget_ms, 500);
    char *log = log_contents(fixture);
    assert_non_null(strstr(log, "reload: [bot] workers changed (2 -> 6): needs a restart"));
    assert_non_null(strstr(log, "reload: [bot] token changed: needs a restart"));
    assert_null(strstr(log, "admins"));
    assert_null(strstr(log, "AAother"));
    assert_null(strstr(log, "max_wait"));
    char live[256];
    reload_settings_describe_live(&fixture->running, &fixture->adopted, live, sizeof live);
    assert_string_equal(live,
                        "log_level info -> debug, handler_budget_ms 10000 -> 500, admins (2 now)");
}

static void test_nothing_differs(void **state)
{
    struct fixture *fixture = *state;
    const char *text = "[bot]\nworkers = 3\n[plugins]\nenable = a\n[a]\nk = v\n";
    load(fixture, "a.ini", text, &fixture->running);
    load(fixture, "b.ini", text, &fixture->adopted);
    assert_int_equal(reload_settings_carry_over(&fixture->running, &fixture->adopted), 0);
    char live[256];
    reload_settings_describe_live(&fixture->running, &fixture->adopted, live, sizeof live);
    assert_string_equal(live, "");
    assert_false(reload_section_changed(&fixture->running, &fixture->adopted, "a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_section_changes, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_restart_settings_are_carried_over, set_up,
                                        tear_down),
        cmocka_unit_test_setup_teardown(test_nothing_differs, set_up, tear_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
