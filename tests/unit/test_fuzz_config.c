/* Fuzz-style tests of core/config.c: thousands of generated plugins.ini files
 * (random bytes, mutated copies of the shipped plugins.ini, line-built files
 * with odd sections, very long lines, NUL bytes, env: values) must each load
 * or fail with one line naming the file, and a loaded config must be in range. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "fuzz_input.h"
#include "base/log.h"

#define ITERATIONS_PER_KIND 1000

struct fixture {
    char directory[64];
    char ini_path[128];
    char log_path[128];
    char *shipped; /* the repository's plugins.ini */
    fuzz_rng rng;
    fuzz_text text;
    int loaded;    /* how many inputs loaded: the generator must reach both outcomes */
    int refused;
};

static char *read_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return NULL;
    char *text = calloc(1, 65536);
    size_t length = text ? fread(text, 1, 65535, file) : 0;
    fclose(file);
    if (text != NULL)
        text[length] = '\0';
    return text;
}

static int set_up(void **state)
{
    struct fixture *fixture = calloc(1, sizeof *fixture);
    assert_non_null(fixture);
    snprintf(fixture->directory, sizeof fixture->directory, "/tmp/jarvis_fuzz_config.XXXXXX");
    assert_non_null(mkdtemp(fixture->directory));
    snprintf(fixture->ini_path, sizeof fixture->ini_path, "%s/fuzz.ini", fixture->directory);
    snprintf(fixture->log_path, sizeof fixture->log_path, "%s/log", fixture->directory);
    assert_int_equal(log_open(fixture->log_path, LOG_ERROR), 0);
    fixture->shipped = read_file("plugins.ini");
    if (fixture->shipped == NULL)
        fixture->shipped = read_file("../../plugins.ini");
    assert_non_null(fixture->shipped);
    assert_non_null(strstr(fixture->shipped, "[bot]"));
    *state = fixture;
    return 0;
}

static int tear_down(void **state)
{
    struct fixture *fixture = *state;
    log_close();
    unlink(fixture->ini_path);
    unlink(fixture->log_path);
    rmdir(fixture->directory);
    fuzz_free(&fixture->text);
    free(fixture->shipped);
    free(fixture);
    return 0;
}

static int is_plugin_name(const char *name)
{
    size_t length = strlen(name);
    if (length == 0 || length > 32)
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == length;
}

static void assert_config_in_range(const struct config *config)
{
    assert_true(config->workers >= 1 && config->workers <= 64);
    assert_true(config->poll_timeout >= 0 && config->poll_timeout <= 600);
    assert_true(config->log_level >= LOG_ERROR && config->log_level <= LOG_DEBUG);
    assert_true(config->transport == TRANSPORT_AUTO || config->transport == TRANSPORT_TELEGRAM ||
                config->transport == TRANSPORT_CONSOLE);
    assert_true(strncmp(config->api_base, "http://", 7) == 0 ||
                strncmp(config->api_base, "https://", 8) == 0);
    assert_true(config->state_dir[0] != '\0');
    assert_true(config->plugin_dir[0] != '\0');
    assert_non_null(config->token);
    assert_non_null(config->log_file);
    assert_non_null(config->lock_path);
    assert_true(config->lock_max_wait >= 0);
    assert_true(config->handler_budget_ms >= 1 && config->shutdown_grace_ms >= 1);
    assert_true(config->backoff_initial_ms >= 1 && config->backoff_max_ms >= 1);
    assert_true(isfinite(config->send_rate_per_chat) && config->send_rate_per_chat > 0);
    assert_true(isfinite(config->send_burst_per_chat) && config->send_burst_per_chat > 0);
    assert_true(isfinite(config->send_rate_total) && config->send_rate_total > 0);
    if (config->transport == TRANSPORT_TELEGRAM)
        assert_true(config->token[0] != '\0');
    for (size_t i = 0; i < config->admin_count; i++)
        assert_true(config->admins[i] >= 1);
    for (size_t i = 0; i < config->enable_count; i++)
        assert_true(is_plugin_name(config->enable[i]));
    for (size_t i = 0; i < config->entry_count; i++) {
        const struct config_entry *entry = &config->entries[i];
        assert_true(is_plugin_name(entry->section));
        assert_non_null(entry->key);
        assert_non_null(entry->value);
        assert_true(entry->line >= 1);
        /* the later of two equal keys replaced the first: lookups find this one */
        assert_ptr_equal(config_lookup(config, entry->section, entry->key), entry->value);
        assert_int_equal(config_lookup_line(config, entry->section, entry->key), entry->line);
    }
}

/* Writes the input, loads it and checks the contract of config_load. */
static void check_one(struct fixture *fixture)
{
    FILE *file = fopen(fixture->ini_path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(fixture->text.data, 1, fixture->text.length, file),
                     fixture->text.length);
    fclose(file);

    struct config config;
    char error[256];
    memset(error, 'x', sizeof error);
    int result = config_load(fixture->ini_path, &config, error, sizeof error);
    if (result == 0) {
        fixture->loaded++;
        assert_string_equal(error, "");
        assert_config_in_range(&config);
        config_free(&config);
        return;
    }
    fixture->refused++;
    assert_int_equal(result, -1);
    /* one or more lines, each "PATH:LINE: what" or "PATH: reason"; a random
     * token value may mask part of the path */
    if (strnlen(error, sizeof error) == sizeof error || error[0] == '\0')
        fail_msg("not a terminated, non-empty error: '%.*s'", (int)sizeof error, error);
    assert_null(strchr(error, '\r'));
    for (char *line = error; line != NULL;) {
        char *newline = strchr(line, '\n');
        if (newline != NULL)
            *newline = '\0';
        if (strncmp(line, fixture->ini_path, strlen(fixture->ini_path)) != 0)
            assert_non_null(strstr(line, "***"));
        line = newline != NULL ? newline + 1 : NULL;
    }
    assert_null(config.path); /* a failed load leaves nothing to free */
    assert_int_equal(config.entry_count, 0);
}

static void test_random_bytes(void **state)
{
    struct fixture *fixture = *state;
    fuzz_seed(&fixture->rng, 0xC0FF1601);
    for (int i = 0; i < ITERATIONS_PER_KIND; i++) {
        fuzz_random_bytes(&fixture->rng, &fixture->text, fuzz_below(&fixture->rng, 600),
                          fuzz_one_in(&fixture->rng, 2));
        check_one(fixture);
    }
}

static void test_mutated_shipped_file(void **state)
{
    struct fixture *fixture = *state;
    static const char *const fragments[] = {
        "\n[sentiment]\nlexicon = x\n", "\n[bot]\nworkers = 65\n", "\n[plugins]\nenable = a, a\n",
        "\n[lock]\nmax_wait = -1\n",    "\n  indented = 1\n",        "\nkey = value ; c\n",
    };
    const char *corpus[1 + sizeof fragments / sizeof fragments[0]];
    corpus[0] = fixture->shipped;
    memcpy(corpus + 1, fragments, sizeof fragments);
    fuzz_seed(&fixture->rng, 0xC0FF1602);
    for (int i = 0; i < ITERATIONS_PER_KIND; i++) {
        fuzz_set(&fixture->text, fixture->shipped, strlen(fixture->shipped));
        size_t mutations = 1 + fuzz_below(&fixture->rng, 6);
        for (size_t m = 0; m < mutations; m++)
            fuzz_mutate_once(&fixture->rng, &fixture->text, corpus,
                             sizeof corpus / sizeof corpus[0]);
        check_one(fixture);
    }
}

static const char *const section_lines[] = {
    "[bot]", "[lock]", "[plugins]", "[hello]", "[sentiment]", "[dexter_finance]",
    "[]", "[", "[bot", "[bot]]", "[bot] x", "[BOT]", "[a b]", "[ bot ]", "[x;y]",
    "[sentiment] ; comment", "[\xC3\xA9t\xC3\xA9]", "\xEF\xBB\xBF[bot]",
    "[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]", "[[bot]]", "[core]",
};

static const char *const keys[] = {
    "token", "api_base", "transport", "poll_timeout", "workers", "state_dir", "log_file",
    "log_level", "admins", "handler_budget_ms", "shutdown_grace_ms", "delete_webhook",
    "backoff_initial_ms", "backoff_max_ms", "send_rate_per_chat", "send_burst_per_chat",
    "send_rate_total", "path", "max_wait", "dir", "enable", "lexicon", "provider",
    "data_file", "unknown_key", "", "k\x01y", "key with spaces",
};

static const char *const values[] = {
    "", "0", "1", "64", "65", "-1", "600", "601", "1e6", "1e7", "0.5", "nan", "inf", "-inf",
    "0x10", "9223372036854775807", "9223372036854775808", "telegram", "console", "auto",
    "ws://x", "https://", "https://api.example/", "http://127.0.0.1:1///", "debug", "verbose",
    "true", "maybe", "hello, sentiment", "hello,,hello", "core", "bot", "a b c", "1, 2, -3",
    "env:", "env:HOME", "env:1X", "env:NOT_SET_ANYWHERE_42", "env:A-B", "x ; comment",
    "x # not a comment", "\"quoted\"", "\xFF\xFE", "=", "a=b=c",
};

static void append_random_line(fuzz_rng *rng, fuzz_text *text)
{
    size_t kind = fuzz_below(rng, 12);
    if (kind < 3) {
        fuzz_append_string(text, section_lines[fuzz_below(rng, sizeof section_lines /
                                                                   sizeof section_lines[0])]);
    } else if (kind < 9) {
        if (fuzz_one_in(rng, 8))
            fuzz_append_string(text, fuzz_one_in(rng, 2) ? "  " : "\t");
        fuzz_append_string(text, keys[fuzz_below(rng, sizeof keys / sizeof keys[0])]);
        fuzz_append_string(text, fuzz_one_in(rng, 10) ? " : " : " = ");
        fuzz_append_string(text, values[fuzz_below(rng, sizeof values / sizeof values[0])]);
        if (fuzz_one_in(rng, 6))
            fuzz_append_string(text, fuzz_hostile(rng));
    } else if (kind == 9) { /* near and past the 197-character limit */
        size_t length = 190 + fuzz_below(rng, 20);
        if (fuzz_one_in(rng, 4))
            length = 1000 + fuzz_below(rng, 8000);
        fuzz_append_string(text, "lexicon = ");
        for (size_t i = 0; i < length; i++)
            fuzz_append(text, "v", 1);
    } else if (kind == 10) {
        fuzz_append(text, "workers = 4\0 junk", 17);
    } else {
        fuzz_append_string(text, fuzz_one_in(rng, 2) ? "; comment" : "# comment");
    }
    static const char *const endings[] = {"\n", "\n", "\n", "\r\n", "\r", ""};
    fuzz_append_string(text, endings[fuzz_below(rng, sizeof endings / sizeof endings[0])]);
}

static void test_line_built_files(void **state)
{
    struct fixture *fixture = *state;
    fuzz_seed(&fixture->rng, 0xC0FF1603);
    for (int i = 0; i < ITERATIONS_PER_KIND; i++) {
        fuzz_clear(&fixture->text);
        size_t lines = fuzz_below(&fixture->rng, 24);
        for (size_t line = 0; line < lines; line++)
            append_random_line(&fixture->rng, &fixture->text);
        check_one(fixture);
    }
    /* the generator must exercise both sides of the contract */
    assert_true(fixture->loaded > 20);
    assert_true(fixture->refused > 20);
}

/* Inputs that once misbehaved or sit on an edge, kept as fixed cases;
 * expected: NULL when the file must load, else a fragment of the error. */
static void test_regressions(void **state)
{
    struct fixture *fixture = *state;
    static const struct {
        const char *text;
        const char *expected;
    } cases[] = {
        {"[bot]\nworkers = 4\r5\n", "workers must be an integer"}, /* CR inside a value */
        {"[bot]\nk\ry = 1\n", NULL},            /* CR inside an unknown key: a warning */
        {"[bot]\n\rworkers = 4\n", NULL},       /* CR before the key */
        {"[x\ry]\n", "invalid section name"},
        {"[sentiment]\na = 1\n a = 2\n", "would continue the value of 'a'"},
        {"key = value\n", "outside any section"},
        {"\xEF\xBB\xBF[bot]\nworkers = 2\n", NULL}, /* BOM */
        {"[bot]\nworkers\n", "expected 'key = value'"},
        {"[plugins]\nenable = hello, hello\n", "listed twice"},
        /* found by test_random_bytes: the key was quoted raw, CR and all */
        {"A\x01" "cH\r~w = 1\n", "key 'A cH ~w' is outside any section"},
        {"[bot]\nk\ry = env:1X\n", "[bot] k y: invalid environment variable name"},
        {"[sentiment]\nk\ry = 1\n\tk\ry = 2\n", "continue the value of 'k y'"},
        /* found by the section-name invariant: inih skips \v \f \r before a
         * header, the check did not, so "[x\ry]" became a plugin section */
        {"\v[x\ry]\nkey = 1\n", "fuzz.ini:1: invalid section name"},
        {"\f[]\nkey = 1\n", "fuzz.ini:1: invalid section name"},
        {"\r[BOT]\nkey = 1\n", "fuzz.ini:1: invalid section name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fuzz_set(&fixture->text, cases[i].text, strlen(cases[i].text));
        check_one(fixture);
        struct config config;
        char error[256] = "";
        int result = config_load(fixture->ini_path, &config, error, sizeof error);
        if (cases[i].expected == NULL) {
            assert_int_equal(result, 0);
            config_free(&config);
        } else {
            assert_int_equal(result, -1);
            if (strstr(error, cases[i].expected) == NULL)
                fail_msg("case %zu: '%s' lacks '%s'", i, error, cases[i].expected);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_random_bytes, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_mutated_shipped_file, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_line_built_files, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_regressions, set_up, tear_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
