/* Unit tests for core/config.c: defaults, the shipped plugins.ini, every kind
 * of error naming its line, env: values (resolved and registered as secrets),
 * warnings, line-length limit, inline comments. Run from the repository root. */
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
#include "config/config_paths.h"
#include "config/config_schema.h"

struct fixture {
    char directory[64];
    char ini_path[128];
    char log_path[128];
    char error[512];
    struct config config;
};

static int set_up(void **state)
{
    struct fixture *fixture = calloc(1, sizeof *fixture);
    assert_non_null(fixture);
    snprintf(fixture->directory, sizeof fixture->directory, "/tmp/jarvis_test_config.XXXXXX");
    assert_non_null(mkdtemp(fixture->directory));
    snprintf(fixture->ini_path, sizeof fixture->ini_path, "%s/test.ini", fixture->directory);
    snprintf(fixture->log_path, sizeof fixture->log_path, "%s/log", fixture->directory);
    assert_int_equal(log_open(fixture->log_path, LOG_DEBUG), 0);
    *state = fixture;
    return 0;
}

static int tear_down(void **state)
{
    struct fixture *fixture = *state;
    config_free(&fixture->config);
    log_close();
    unlink(fixture->ini_path);
    unlink(fixture->log_path);
    rmdir(fixture->directory);
    free(fixture);
    return 0;
}

static void write_ini(struct fixture *fixture, const char *text)
{
    FILE *file = fopen(fixture->ini_path, "w");
    assert_non_null(file);
    fputs(text, file);
    fclose(file);
}

static int load(struct fixture *fixture, const char *text)
{
    write_ini(fixture, text);
    config_free(&fixture->config);
    fixture->error[0] = '\0';
    return config_load(fixture->ini_path, &fixture->config, fixture->error,
                       sizeof fixture->error);
}

static char *read_log(struct fixture *fixture)
{
    FILE *file = fopen(fixture->log_path, "r");
    assert_non_null(file);
    char *text = calloc(1, 65536);
    assert_non_null(text);
    size_t length = fread(text, 1, 65535, file);
    text[length] = '\0';
    fclose(file);
    return text;
}

/* The error is one line "PATH:LINE: ..." containing every expected fragment. */
static void assert_error(struct fixture *fixture, const char *text, int line,
                         const char *fragment, const char *second_fragment)
{
    assert_int_equal(load(fixture, text), -1);
    char prefix[200];
    snprintf(prefix, sizeof prefix, "%s:%d: ", fixture->ini_path, line);
    if (strncmp(fixture->error, prefix, strlen(prefix)) != 0)
        fail_msg("error '%s' does not start with '%s'", fixture->error, prefix);
    if (strstr(fixture->error, fragment) == NULL)
        fail_msg("error '%s' lacks '%s'", fixture->error, fragment);
    if (second_fragment != NULL && strstr(fixture->error, second_fragment) == NULL)
        fail_msg("error '%s' lacks '%s'", fixture->error, second_fragment);
    assert_null(strchr(fixture->error, '\n'));
}

static void test_defaults(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(load(fixture, "; nothing but a comment\n"), 0);
    struct config *config = &fixture->config;
    assert_string_equal(config->path, fixture->ini_path);
    assert_string_equal(config->token, "");
    assert_string_equal(config->api_base, "https://api.telegram.org");
    assert_int_equal(config->transport, TRANSPORT_AUTO);
    assert_int_equal(config->poll_timeout, 50);
    assert_int_equal(config->workers, 4);
    char expected[200];
    snprintf(expected, sizeof expected, "%s/state", fixture->directory);
    assert_string_equal(config->state_dir, expected); /* relative to the file, not the cwd */
    assert_string_equal(config->directory, fixture->directory);
    assert_string_equal(config->log_file, "");
    assert_int_equal(config->log_level, LOG_INFO);
    assert_int_equal(config->admin_count, 0);
    assert_int_equal(config->handler_budget_ms, 10000);
    assert_int_equal(config->shutdown_grace_ms, 10000);
    assert_int_equal(config->delete_webhook, 0);
    assert_string_equal(config->lock_path, "");
    assert_int_equal(config->lock_max_wait, 30);
    snprintf(expected, sizeof expected, "%s/plugins", fixture->directory);
    assert_string_equal(config->plugin_dir, expected);
    assert_int_equal(config->enable_count, 0);
    assert_int_equal(config->entry_count, 0);
    assert_string_equal(fixture->error, "");
}

static void test_shipped_file_loads(void **state)
{
    struct fixture *fixture = *state;
    unsetenv("TELEGRAM_BOT_TOKEN");
    setenv("XAI_API_KEY", "xai-shipped-test-key", 1);
    struct config *config = &fixture->config;
    int result = config_load("plugins.ini", config, fixture->error, sizeof fixture->error);
    if (result != 0)
        fail_msg("plugins.ini: %s", fixture->error);
    assert_string_equal(config->token, "");
    assert_int_equal(config->transport, TRANSPORT_AUTO);
    assert_int_equal(config->poll_timeout, 50);
    assert_string_equal(config->log_file, "");
    assert_int_equal(config->admin_count, 0);
    assert_string_equal(config->lock_path, "");
    assert_true(config->enable_count >= 1);
    for (size_t i = 0; i < config->enable_count; i++)
        assert_non_null(strstr("hello sentiment grok_weighting dexter_finance",
                               config->enable[i]));
    assert_string_equal(config_lookup(config, "grok_weighting", "api_key"),
                        "xai-shipped-test-key");
    assert_true(config_lookup_line(config, "grok_weighting", "api_key") > 0);
    unsetenv("XAI_API_KEY");
}

static void test_full_file_values(void **state)
{
    struct fixture *fixture = *state;
    const char *text = "[bot]\n"
                       "token = 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1\n"
                       "api_base = http://127.0.0.1:8081/\n"
                       "transport = telegram\n"
                       "poll_timeout = 1\n"
                       "workers = 64\n"
                       "state_dir = /var/lib/jarvis\n"
                       "log_file = /var/log/jarvis.log\n"
                       "log_level = debug\n"
                       "admins = 11, 22 33\n"
                       "handler_budget_ms = 250\n"
                       "shutdown_grace_ms = 1\n"
                       "delete_webhook = yes\n"
                       "[lock]\n"
                       "path = /run/jarvis.lock\n"
                       "max_wait = 0\n"
                       "[plugins]\n"
                       "dir = /opt/plugins\n"
                       "enable = b_one,a_two ,  c3\n"
                       "[a_two]\n"
                       "colour = blue\n"
                       "empty =\n";
    assert_int_equal(load(fixture, text), 0);
    struct config *config = &fixture->config;
    assert_string_equal(config->token, "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1");
    assert_string_equal(config->api_base, "http://127.0.0.1:8081");
    assert_int_equal(config->transport, TRANSPORT_TELEGRAM);
    assert_int_equal(config->poll_timeout, 1);
    assert_int_equal(config->workers, 64);
    assert_string_equal(config->state_dir, "/var/lib/jarvis");
    assert_string_equal(config->log_file, "/var/log/jarvis.log");
    assert_int_equal(config->log_level, LOG_DEBUG);
    assert_int_equal(config->admin_count, 3);
    assert_true(config_is_admin(config, 22));
    assert_true(config_is_admin(config, 33));
    assert_false(config_is_admin(config, 44));
    assert_int_equal(config->handler_budget_ms, 250);
    assert_int_equal(config->shutdown_grace_ms, 1);
    assert_int_equal(config->delete_webhook, 1);
    assert_string_equal(config->lock_path, "/run/jarvis.lock");
    assert_int_equal(config->lock_max_wait, 0);
    assert_string_equal(config->plugin_dir, "/opt/plugins");
    assert_int_equal(config->enable_count, 3);
    assert_string_equal(config->enable[0], "b_one");
    assert_string_equal(config->enable[1], "a_two");
    assert_string_equal(config->enable[2], "c3");
    assert_string_equal(config_lookup(config, "a_two", "colour"), "blue");
    assert_int_equal(config_lookup_line(config, "a_two", "colour"), 21);
    assert_string_equal(config_lookup(config, "a_two", "empty"), "");
    assert_int_equal(config_lookup_line(config, "a_two", "empty"), 22);
    assert_null(config_lookup(config, "a_two", "missing"));
    assert_int_equal(config_lookup_line(config, "a_two", "missing"), 0);
    assert_null(config_lookup(config, "bot", "token"));

    /* the literal token is now a secret of the log */
    char line[128] = "token is 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1";
    log_redact(line, sizeof line);
    assert_string_equal(line, "token is ***");
}

static void test_booleans(void **state)
{
    struct fixture *fixture = *state;
    static const char *const truths[] = {"true", "YES", "on", "1"};
    static const char *const falsehoods[] = {"false", "no", "Off", "0"};
    char text[128];
    for (size_t i = 0; i < 4; i++) {
        snprintf(text, sizeof text, "[bot]\ndelete_webhook = %s\n", truths[i]);
        assert_int_equal(load(fixture, text), 0);
        assert_int_equal(fixture->config.delete_webhook, 1);
        snprintf(text, sizeof text, "[bot]\ndelete_webhook = %s\n", falsehoods[i]);
        assert_int_equal(load(fixture, text), 0);
        assert_int_equal(fixture->config.delete_webhook, 0);
    }
    assert_error(fixture, "[bot]\ndelete_webhook = maybe\n", 2, "delete_webhook", "'maybe'");
}

/* The shared readers the loader and the host API both use. */
static void test_shared_boolean_and_reserved_name_readers(void **state)
{
    (void)state;
    int value = -1;
    assert_int_equal(config_parse_boolean("On", &value), 0);
    assert_int_equal(value, 1);
    assert_int_equal(config_parse_boolean("NO", &value), 0);
    assert_int_equal(value, 0);
    value = 7;
    assert_int_equal(config_parse_boolean("maybe", &value), -1);
    assert_int_equal(value, 7);
    assert_true(config_is_reserved_name("bot"));
    assert_true(config_is_reserved_name("lock"));
    assert_true(config_is_reserved_name("plugins"));
    assert_true(config_is_reserved_name("core"));
    assert_false(config_is_reserved_name("sentiment"));
    assert_false(config_is_reserved_name(NULL));
}

static void test_integer_errors_name_line(void **state)
{
    struct fixture *fixture = *state;
    assert_error(fixture, "[bot]\n\nworkers = many\n", 3, "workers", "'many'");
    assert_error(fixture, "[bot]\nworkers = 0\n", 2, "workers must be an integer 1..64", "'0'");
    assert_error(fixture, "[bot]\nworkers = 65\n", 2, "workers", "'65'");
    assert_error(fixture, "[bot]\nworkers = 4x\n", 2, "workers", "'4x'");
    assert_error(fixture, "[bot]\nworkers =\n", 2, "workers", "''");
    assert_error(fixture, "[bot]\npoll_timeout = 601\n", 2, "poll_timeout", "'601'");
    assert_error(fixture, "[bot]\npoll_timeout = 99999999999999999999\n", 2, "poll_timeout",
                 NULL);
    assert_error(fixture, "[bot]\nhandler_budget_ms = -5\n", 2, "handler_budget_ms", "'-5'");
    assert_error(fixture, "[bot]\nshutdown_grace_ms = soon\n", 2, "shutdown_grace_ms", NULL);
    assert_error(fixture, "[bot]\nshutdown_grace_ms = 0\n", 2, "shutdown_grace_ms", "'0'");
    assert_error(fixture, "[lock]\nmax_wait = -1\n", 2, "max_wait", "'-1'");
}

static void test_enum_errors_name_line(void **state)
{
    struct fixture *fixture = *state;
    assert_error(fixture, "[bot]\ntransport = pigeon\n", 2, "unknown transport", "'pigeon'");
    assert_error(fixture, "[bot]\nlog_level = loud\n", 2, "unknown log_level", "'loud'");
    assert_error(fixture, "[bot]\napi_base = ftp://example.org\n", 2, "api_base", NULL);
    assert_error(fixture, "[bot]\nstate_dir =\n", 2, "state_dir must not be empty", NULL);
    assert_error(fixture, "[plugins]\ndir =\n", 2, "dir must not be empty", NULL);
}

static void test_admin_errors_name_line(void **state)
{
    struct fixture *fixture = *state;
    assert_error(fixture, "[bot]\nadmins = 12, bob\n", 2, "admins", "'bob'");
    assert_error(fixture, "[bot]\nadmins = -3\n", 2, "admins", "'-3'");
    assert_int_equal(load(fixture, "[bot]\nadmins =\n"), 0);
    assert_int_equal(fixture->config.admin_count, 0);
}

static void test_enable_errors_name_line(void **state)
{
    struct fixture *fixture = *state;
    assert_error(fixture, "[plugins]\nenable = good, Bad-Name\n", 2, "invalid plugin name",
                 "'Bad-Name'");
    assert_error(fixture,
                 "[plugins]\nenable = a123456789012345678901234567890123\n", 2,
                 "invalid plugin name", NULL);
    assert_error(fixture, "[plugins]\nenable = hello, sentiment, hello\n", 2,
                 "'hello' is listed twice", NULL);
    assert_error(fixture, "[plugins]\nenable = bot\n", 2, "invalid plugin name", "'bot'");
    assert_error(fixture, "[plugins]\nenable = hello, core\n", 2, "invalid plugin name", "'core'");
}

static void test_section_errors_name_line(void **state)
{
    struct fixture *fixture = *state;
    assert_error(fixture, "[bot]\n[Bad Name]\n", 2, "invalid section name", "'Bad Name'");
    assert_error(fixture, "[bot]\n\n[a123456789012345678901234567890123]\n", 3,
                 "invalid section name", NULL);
    assert_error(fixture, "[bot]\n[lock\n", 2, "without closing ']'", NULL);
    assert_error(fixture, "[bot] extra\n", 1, "unexpected text after section header", NULL);
    assert_error(fixture, "workers = 4\n[bot]\n", 1, "outside any section", "'workers'");
    /* an empty plugin section is fine */
    assert_int_equal(load(fixture, "[hello] ; a comment\n[bot]\n"), 0);
}

static void test_syntax_error_names_line(void **state)
{
    struct fixture *fixture = *state;
    assert_error(fixture, "[bot]\nworkers = 4\njust some words\nworkers = 5\n", 3,
                 "expected 'key = value' or '[section]'", "'just some words'");
}

/* line n of the error text (0-based), copied into out */
static const char *error_line(const struct fixture *fixture, int n, char *out, size_t size)
{
    const char *line = fixture->error;
    for (int i = 0; i < n && line != NULL; i++) {
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    if (line == NULL)
        return NULL;
    snprintf(out, size, "%.*s", (int)strcspn(line, "\n"), line);
    return out;
}

static void test_every_error_is_reported(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(load(fixture, "[bot]\nnonsense line\nworkers = 99\n[Bad-Name]\n"
                                   "inside = skipped\n[lock]\nmax_wait = -1\n"),
                     -1);
    char line[300], expected[300];
    snprintf(expected, sizeof expected, "%s:2: expected 'key = value'", fixture->ini_path);
    assert_non_null(error_line(fixture, 0, line, sizeof line));
    assert_true(strncmp(line, expected, strlen(expected)) == 0);
    snprintf(expected, sizeof expected, "%s:3: workers must be an integer 1..64",
             fixture->ini_path);
    assert_true(strncmp(error_line(fixture, 1, line, sizeof line), expected, strlen(expected)) == 0);
    snprintf(expected, sizeof expected, "%s:4: invalid section name", fixture->ini_path);
    assert_true(strncmp(error_line(fixture, 2, line, sizeof line), expected, strlen(expected)) == 0);
    /* the refused section's keys are not reported as well */
    snprintf(expected, sizeof expected, "%s:7: max_wait must be an integer", fixture->ini_path);
    assert_true(strncmp(error_line(fixture, 3, line, sizeof line), expected, strlen(expected)) == 0);
    assert_null(error_line(fixture, 4, line, sizeof line));
}

static void test_errors_stop_at_the_limit(void **state)
{
    struct fixture *fixture = *state;
    char text[4096] = "[bot]\n";
    for (int i = 0; i < CONFIG_ERROR_LIMIT + 5; i++)
        strcat(text, "workers = 0\n");
    assert_int_equal(load(fixture, text), -1);
    char big_error[8192];
    config_free(&fixture->config);
    assert_int_equal(config_load(fixture->ini_path, &fixture->config, big_error, sizeof big_error),
                     -1);
    int lines = 1;
    for (const char *p = big_error; *p != '\0'; p++)
        lines += *p == '\n';
    assert_int_equal(lines, CONFIG_ERROR_LIMIT + 1);
    char expected[300];
    snprintf(expected, sizeof expected, "%s: 5 more error(s) not shown", fixture->ini_path);
    assert_non_null(strstr(big_error, expected));
    /* a small buffer holds whole lines only */
    assert_non_null(strchr(fixture->error, '\n'));
    for (int n = 0; error_line(fixture, n, expected, sizeof expected) != NULL; n++) {
        size_t length = strlen(expected);
        assert_true(strncmp(expected, fixture->ini_path, strlen(fixture->ini_path)) == 0);
        assert_true(expected[length - 1] == ')' || strstr(expected, "not shown") != NULL);
    }
}

static void test_did_you_mean(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(load(fixture, "[bot]\nwokers = 3\nstate-dir = x\nzzzzzzzz = 1\n"
                                   "[plugins]\nenabel = hello\n"),
                     0);
    char *log_text = read_log(fixture);
    assert_non_null(strstr(log_text, "unknown key 'wokers' in [bot], ignored (did you mean 'workers'?)"));
    assert_non_null(strstr(log_text, "unknown key 'state-dir' in [bot], ignored (did you mean 'state_dir'?)"));
    assert_non_null(strstr(log_text, "unknown key 'enabel' in [plugins], ignored (did you mean 'enable'?)"));
    assert_non_null(strstr(log_text, "unknown key 'zzzzzzzz' in [bot], ignored\n"));
    free(log_text);
}

static void test_section_of_no_enabled_plugin_warns(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(load(fixture, "[plugins]\nenable = hello\n[hello]\n[weather]\nkey = 1\n"
                                   "[wether]\n"),
                     0);
    char *log_text = read_log(fixture);
    char expected[300];
    snprintf(expected, sizeof expected,
             "%s:4: section [weather] matches no enabled plugin (not in [plugins] enable)",
             fixture->ini_path);
    assert_non_null(strstr(log_text, expected));
    snprintf(expected, sizeof expected, "%s:6: section [wether] matches", fixture->ini_path);
    assert_non_null(strstr(log_text, expected));
    assert_null(strstr(log_text, "section [hello]"));
    free(log_text);
}

static void test_relative_paths_follow_the_file(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(load(fixture, "[bot]\nstate_dir = data/state\nlog_file = jarvis.log\n"
                                   "[lock]\npath = run/jarvis.lock\n"
                                   "[plugins]\ndir = local:/usr/lib/jarvis/plugins::../up\n"),
                     0);
    const struct config *config = &fixture->config;
    char expected[400];
    snprintf(expected, sizeof expected, "%s/data/state", fixture->directory);
    assert_string_equal(config->state_dir, expected);
    snprintf(expected, sizeof expected, "%s/jarvis.log", fixture->directory);
    assert_string_equal(config->log_file, expected);
    snprintf(expected, sizeof expected, "%s/run/jarvis.lock", fixture->directory);
    assert_string_equal(config->lock_path, expected);
    snprintf(expected, sizeof expected, "%s/local:/usr/lib/jarvis/plugins:%s/../up",
             fixture->directory, fixture->directory);
    assert_string_equal(config->plugin_dir, expected);
    /* the same file read through a relative name from its own directory */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(fixture->directory), 0);
    struct config again;
    char error[512];
    int result = config_load("test.ini", &again, error, sizeof error);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(result, 0);
    snprintf(expected, sizeof expected, "%s/data/state", fixture->directory);
    assert_string_equal(again.state_dir, expected);
    config_free(&again);
    /* empty log_file and lock path keep meaning "the default place" */
    assert_int_equal(load(fixture, "[bot]\nlog_file =\n[lock]\npath =\n"), 0);
    assert_string_equal(fixture->config.log_file, "");
    assert_string_equal(fixture->config.lock_path, "");
    assert_int_equal(load(fixture, "[plugins]\ndir = ::\n"), -1);
    assert_non_null(strstr(fixture->error, "[plugins] dir names no directory"));
}

static void test_config_lookup_order(void **state)
{
    struct fixture *fixture = *state;
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(fixture->directory), 0);
    unsetenv("JARVIS_CONFIG");
    assert_string_equal(config_choose_path("given.ini", "/etc/jarvis/plugins.ini"), "given.ini");
    assert_string_equal(config_choose_path(NULL, "/etc/jarvis/plugins.ini"),
                        "/etc/jarvis/plugins.ini"); /* no ./plugins.ini here */
    FILE *file = fopen("plugins.ini", "w");
    assert_non_null(file);
    fclose(file);
    assert_string_equal(config_choose_path(NULL, "/etc/jarvis/plugins.ini"), "plugins.ini");
    setenv("JARVIS_CONFIG", "/srv/bot/plugins.ini", 1);
    assert_string_equal(config_choose_path(NULL, "/etc/jarvis/plugins.ini"),
                        "/srv/bot/plugins.ini");
    assert_string_equal(config_choose_path("given.ini", "/etc/x"), "given.ini");
    unsetenv("JARVIS_CONFIG");
    unlink("plugins.ini");
    assert_int_equal(chdir(cwd), 0);
}

static void test_telegram_without_token_names_transport_line(void **state)
{
    struct fixture *fixture = *state;
    unsetenv("JARVIS_TEST_MISSING_TOKEN");
    assert_error(fixture,
                 "[bot]\ntoken = env:JARVIS_TEST_MISSING_TOKEN\nworkers = 2\ntransport = telegram\n",
                 4, "transport = telegram needs a token", NULL);
    assert_int_equal(load(fixture, "[bot]\ntransport = console\n"), 0);
    assert_int_equal(fixture->config.transport, TRANSPORT_CONSOLE);
}

static void test_missing_file(void **state)
{
    struct fixture *fixture = *state;
    char path[200];
    snprintf(path, sizeof path, "%s/absent.ini", fixture->directory);
    assert_int_equal(config_load(path, &fixture->config, fixture->error, sizeof fixture->error),
                     -1);
    char expected[300];
    snprintf(expected, sizeof expected, "%s: cannot open: No such file or directory", path);
    assert_string_equal(fixture->error, expected);
}

static void test_directory_is_not_a_file(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(config_load(fixture->directory, &fixture->config, fixture->error,
                                 sizeof fixture->error),
                     -1);
    assert_non_null(strstr(fixture->error, fixture->directory));
    assert_non_null(strstr(fixture->error, "Is a directory"));
}

static void test_env_values_resolved_and_secret(void **state)
{
    struct fixture *fixture = *state;
    setenv("JARVIS_TEST_API_KEY", "xai-resolved-secret-42", 1);
    setenv("JARVIS_TEST_TOKEN", "987654321:ZZtestTokenValueThatIsLongEnough_123", 1);
    unsetenv("JARVIS_TEST_UNSET");
    assert_int_equal(load(fixture, "[bot]\n"
                                   "token = env:JARVIS_TEST_TOKEN\n"
                                   "transport = telegram\n"
                                   "[grok]\n"
                                   "api_key = env:JARVIS_TEST_API_KEY\n"
                                   "other = env:JARVIS_TEST_UNSET\n"),
                     0);
    struct config *config = &fixture->config;
    assert_string_equal(config->token, "987654321:ZZtestTokenValueThatIsLongEnough_123");
    assert_string_equal(config_lookup(config, "grok", "api_key"), "xai-resolved-secret-42");
    assert_string_equal(config_lookup(config, "grok", "other"), "");

    char text[128] = "key xai-resolved-secret-42 in text";
    log_redact(text, sizeof text);
    assert_string_equal(text, "key *** in text");

    char *log_text = read_log(fixture);
    char expected[300];
    snprintf(expected, sizeof expected, "%s:6: [grok] other: environment variable "
             "JARVIS_TEST_UNSET is not set", fixture->ini_path);
    if (strstr(log_text, expected) == NULL)
        fail_msg("log lacks '%s':\n%s", expected, log_text);
    assert_null(strstr(log_text, "xai-resolved"));
    assert_null(strstr(log_text, "ZZtestToken"));
    free(log_text);
    unsetenv("JARVIS_TEST_API_KEY");
    unsetenv("JARVIS_TEST_TOKEN");
}

static void test_bad_env_name(void **state)
{
    struct fixture *fixture = *state;
    assert_error(fixture, "[p]\nkey = env:1BAD-NAME\n", 2, "invalid environment variable name",
                 NULL);
    assert_error(fixture, "[p]\nkey = env:\n", 2, "invalid environment variable name", NULL);
}

static void test_unknown_reserved_keys_warn(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(load(fixture, "[bot]\ncolour = red\n[lock]\nsize = 3\n[plugins]\n"
                                   "extra = secret-looking-value\n[myplugin]\nanything = ok\n"),
                     0);
    char *log_text = read_log(fixture);
    char expected[300];
    snprintf(expected, sizeof expected, "WARN  [core] %s:2: unknown key 'colour' in [bot]",
             fixture->ini_path);
    assert_non_null(strstr(log_text, expected));
    snprintf(expected, sizeof expected, "%s:4: unknown key 'size' in [lock]", fixture->ini_path);
    assert_non_null(strstr(log_text, expected));
    snprintf(expected, sizeof expected, "%s:6: unknown key 'extra' in [plugins]",
             fixture->ini_path);
    assert_non_null(strstr(log_text, expected));
    /* values are never logged; plugin sections are not checked */
    assert_null(strstr(log_text, "secret-looking-value"));
    assert_null(strstr(log_text, "anything"));
    free(log_text);
}

static void test_duplicate_plugin_key_later_wins(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(load(fixture, "[p]\nk = first\nk = second\n"), 0);
    assert_string_equal(config_lookup(&fixture->config, "p", "k"), "second");
    assert_int_equal(config_lookup_line(&fixture->config, "p", "k"), 3);
    assert_int_equal(fixture->config.entry_count, 1);
}

static char *line_of_length(const char *start, size_t length)
{
    char *line = malloc(length + 2);
    assert_non_null(line);
    size_t start_length = strlen(start);
    memcpy(line, start, start_length);
    memset(line + start_length, 'v', length - start_length);
    line[length] = '\n';
    line[length + 1] = '\0';
    return line;
}

static void test_long_line_is_an_error(void **state)
{
    struct fixture *fixture = *state;
    char *line = line_of_length("key = ", 500);
    char text[700];
    snprintf(text, sizeof text, "[p]\n%snext = 1\n", line);
    assert_error(fixture, text, 2, "line is too long", NULL);
    free(line);

    /* the same without a final newline */
    line = line_of_length("key = ", 250);
    line[250] = '\0';
    snprintf(text, sizeof text, "[p]\n%s", line);
    assert_error(fixture, text, 2, "line is too long", NULL);
    free(line);
}

static void test_longest_accepted_line_kept_whole(void **state)
{
    struct fixture *fixture = *state;
    /* 197 characters is the limit of Debian's inih (INI_MAX_LINE 200) */
    char *line = line_of_length("key = ", 197);
    char text[400];
    snprintf(text, sizeof text, "[p]\r\n%s", line);
    assert_int_equal(load(fixture, text), 0);
    assert_int_equal(strlen(config_lookup(&fixture->config, "p", "key")), 197 - 6);
    free(line);

    line = line_of_length("key = ", 198);
    snprintf(text, sizeof text, "[p]\n%s", line);
    assert_error(fixture, text, 2, "line is too long", "197");
    free(line);
}

static void test_inline_comments(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(load(fixture, "# hash comment\n"
                                   "[bot]   ; section comment\n"
                                   "workers = 8            ; eight\n"
                                   "log_file =             ; empty: stderr\n"
                                   "[p]\n"
                                   "semicolon = a;b\n"
                                   "hash = x # not a comment\n"),
                     0);
    assert_int_equal(fixture->config.workers, 8);
    assert_string_equal(fixture->config.log_file, "");
    /* only " ;" starts an inline comment; '#' only at the start of a line */
    assert_string_equal(config_lookup(&fixture->config, "p", "semicolon"), "a;b");
    assert_string_equal(config_lookup(&fixture->config, "p", "hash"), "x # not a comment");
}

static void test_continuation_is_an_error(void **state)
{
    struct fixture *fixture = *state;
    assert_error(fixture, "[p]\nkey = a\n  more text\n", 3, "continue the value of 'key'",
                 NULL);
    assert_error(fixture, "[p]\nkey = a\n\n    other = b\n", 4, "continue the value of 'key'",
                 NULL);
    /* an indented first key of a section is just a key */
    assert_int_equal(load(fixture, "[p]\n  key = a\n[q]\n  key = b\n"), 0);
    assert_string_equal(config_lookup(&fixture->config, "q", "key"), "b");
}

static void test_error_text_masks_secrets(void **state)
{
    struct fixture *fixture = *state;
    setenv("JARVIS_TEST_WORKERS", "worker-secret-value", 1);
    assert_error(fixture, "[bot]\nworkers = env:JARVIS_TEST_WORKERS\n", 2, "workers", "'***'");
    assert_null(strstr(fixture->error, "worker-secret"));
    unsetenv("JARVIS_TEST_WORKERS");

    /* inih also reads "name: value"; a stray token line is a key, and only the
     * key reaches the log */
    assert_int_equal(load(fixture, "[bot]\n123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1\n"), 0);
    char *log_text = read_log(fixture);
    assert_non_null(strstr(log_text, "unknown key '123456789' in [bot]"));
    assert_null(strstr(log_text, "AAHdq"));
    free(log_text);
}

/* An error quotes at most 56 bytes of a value; a longer secret must not
 * leak its head through that cut. */
static void test_error_text_masks_long_secrets(void **state)
{
    struct fixture *fixture = *state;
    setenv("JARVIS_TEST_LONG_KEY",
           "xai-headofthesecret-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 1);
    assert_error(fixture, "[bot]\nworkers = env:JARVIS_TEST_LONG_KEY\n", 2, "workers", "'***'");
    assert_null(strstr(fixture->error, "headofthesecret"));
    assert_error(fixture, "[bot]\ntransport = env:JARVIS_TEST_LONG_KEY\n", 2, "transport",
                 "'***'");
    assert_null(strstr(fixture->error, "headofthesecret"));
    unsetenv("JARVIS_TEST_LONG_KEY");
}

static void test_bom_crlf_and_colon_syntax(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(load(fixture, "\xEF\xBB\xBF[bot]\r\nworkers: 7\r\n[p]\r\nk = v\r\n"), 0);
    assert_int_equal(fixture->config.workers, 7);
    assert_string_equal(config_lookup(&fixture->config, "p", "k"), "v");
    assert_int_equal(config_lookup_line(&fixture->config, "p", "k"), 4);
}

static void test_nul_byte_is_an_error(void **state)
{
    struct fixture *fixture = *state;
    FILE *file = fopen(fixture->ini_path, "w");
    assert_non_null(file);
    static const char text[] = "[bot]\nworkers = 4\0 hidden\n";
    fwrite(text, 1, sizeof text - 1, file);
    fclose(file);
    assert_int_equal(config_load(fixture->ini_path, &fixture->config, fixture->error,
                                 sizeof fixture->error),
                     -1);
    char expected[200];
    snprintf(expected, sizeof expected, "%s:2: line contains a NUL byte", fixture->ini_path);
    assert_string_equal(fixture->error, expected);
}

static void test_failed_load_leaves_config_empty(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(load(fixture, "[p]\nk = v\n[bot]\nworkers = 0\n"), -1);
    assert_null(fixture->config.entries);
    assert_null(fixture->config.path);
    config_free(&fixture->config); /* and a second free is harmless */
}

static void test_telegram_rates_and_backoff(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(load(fixture, "[bot]\n"), 0);
    assert_int_equal(fixture->config.backoff_initial_ms, 1000);
    assert_int_equal(fixture->config.backoff_max_ms, 60000);
    assert_true(fixture->config.send_rate_per_chat == 1.0);
    assert_true(fixture->config.send_rate_total == 30.0);
    assert_int_equal(fixture->config.send_connections, 4);
    assert_int_equal(load(fixture, "[bot]\nsend_rate_per_chat = 0.5\nbackoff_initial_ms = 400\n"
                                   "backoff_max_ms = 400\nsend_connections = 8\n"),
                     0);
    assert_true(fixture->config.send_rate_per_chat == 0.5);
    assert_int_equal(fixture->config.send_connections, 8);
    assert_int_equal(fixture->config.backoff_max_ms, 400);
    /* a cap under the first step used to be raised silently to it */
    assert_error(fixture, "[bot]\nbackoff_initial_ms = 500\nbackoff_max_ms = 400\n", 3,
                 "backoff_max_ms (400) must not be below backoff_initial_ms (500)", NULL);
    assert_error(fixture, "[bot]\nbackoff_max_ms = 400\n", 2, "backoff_max_ms (400)", "(1000)");
    assert_error(fixture, "[bot]\nbackoff_initial_ms = 90000\n\n", 2, "(60000)", "(90000)");
    assert_error(fixture, "[bot]\n\nsend_rate_total = fast\n", 3, "send_rate_total", "'fast'");
    assert_error(fixture, "[bot]\nsend_burst_per_chat = 0\n", 2, "send_burst_per_chat", "'0'");
    assert_error(fixture, "[bot]\nbackoff_initial_ms = -1\n", 2, "backoff_initial_ms", "'-1'");
    assert_error(fixture, "[bot]\nsend_connections = 0\n", 2, "send_connections", "'0'");
    assert_error(fixture, "[bot]\nsend_connections = 65\n", 2, "send_connections", "'65'");
}

int main(void)
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, set_up, tear_down)
    const struct CMUnitTest tests[] = {
        TEST(test_defaults),
        TEST(test_shipped_file_loads),
        TEST(test_full_file_values),
        TEST(test_booleans),
        TEST(test_shared_boolean_and_reserved_name_readers),
        TEST(test_integer_errors_name_line),
        TEST(test_enum_errors_name_line),
        TEST(test_admin_errors_name_line),
        TEST(test_enable_errors_name_line),
        TEST(test_section_errors_name_line),
        TEST(test_syntax_error_names_line),
        TEST(test_every_error_is_reported),
        TEST(test_errors_stop_at_the_limit),
        TEST(test_did_you_mean),
        TEST(test_section_of_no_enabled_plugin_warns),
        TEST(test_relative_paths_follow_the_file),
        TEST(test_config_lookup_order),
        TEST(test_telegram_without_token_names_transport_line),
        TEST(test_missing_file),
        TEST(test_directory_is_not_a_file),
        TEST(test_env_values_resolved_and_secret),
        TEST(test_bad_env_name),
        TEST(test_unknown_reserved_keys_warn),
        TEST(test_duplicate_plugin_key_later_wins),
        TEST(test_long_line_is_an_error),
        TEST(test_longest_accepted_line_kept_whole),
        TEST(test_inline_comments),
        TEST(test_continuation_is_an_error),
        TEST(test_error_text_masks_secrets),
        TEST(test_error_text_masks_long_secrets),
        TEST(test_bom_crlf_and_colon_syntax),
        TEST(test_nul_byte_is_an_error),
        TEST(test_failed_load_leaves_config_empty),
        TEST(test_telegram_rates_and_backoff),
    };
#undef TEST
    return cmocka_run_group_tests(tests, NULL, NULL);
}
