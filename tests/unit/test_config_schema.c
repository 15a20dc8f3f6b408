/* Unit tests for core/config_schema.c: the key table drives defaults,
 * parsing and formatting consistently, and docs/config.md's key tables are
 * exactly what the table renders. `test_config_schema --write docs/config.md`
 * (make config-doc) regenerates them. Run from the repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/config_schema.h"

#define DOC_PATH "docs/config.md"
#define BEGIN_MARK "<!-- BEGIN generated from core/config_schema.c by make config-doc -->\n"
#define END_MARK "<!-- END generated -->\n"

static char *read_all(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return NULL;
    char *text = calloc(1, 1 << 20);
    size_t length = text != NULL ? fread(text, 1, (1 << 20) - 1, file) : 0;
    fclose(file);
    if (text != NULL)
        text[length] = '\0';
    return text;
}

/* noinline: gcc 12 mistakes the memstream buffer for a dangling local */
__attribute__((noinline)) static char *rendered_tables(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    config_schema_write_markdown(out);
    fclose(out);
    return text;
}

/* The generated block of the document, or NULL when the markers are missing. */
static char *documented_tables(const char *document)
{
    const char *begin = strstr(document, BEGIN_MARK);
    const char *end = begin != NULL ? strstr(begin, END_MARK) : NULL;
    if (end == NULL)
        return NULL;
    begin += strlen(BEGIN_MARK);
    return strndup(begin, (size_t)(end - begin));
}

static void test_docs_match_the_schema(void **state)
{
    (void)state;
    char *document = read_all(DOC_PATH);
    assert_non_null(document);
    char *documented = documented_tables(document);
    if (documented == NULL)
        fail_msg("%s lacks the generated block markers", DOC_PATH);
    char *rendered = rendered_tables();
    if (strcmp(documented, rendered) != 0)
        fail_msg("%s differs from the schema in core/config_schema.c; run make config-doc",
                 DOC_PATH);
    free(rendered);
    free(documented);
    free(document);
}

static void test_every_key_documented_once(void **state)
{
    (void)state;
    char *rendered = rendered_tables();
    for (const struct config_key *key = config_keys; key->name != NULL; key++) {
        /* within its section's table: "listen" is in [metrics] and [webhook] */
        char heading[64], cell[80];
        snprintf(heading, sizeof heading, "## [%s]\n", key->section);
        const char *table = strstr(rendered, heading);
        assert_non_null(table);
        const char *next = strstr(table + 1, "## [");
        size_t table_length = next != NULL ? (size_t)(next - table) : strlen(table);
        snprintf(cell, sizeof cell, "| `%s` |", key->name);
        const char *first = memmem(table, table_length, cell, strlen(cell));
        assert_non_null(first);
        const char *after = first + 1;
        assert_null(memmem(after, table_length - (size_t)(after - table), cell, strlen(cell)));
        assert_non_null(key->meaning);
        assert_true(strlen(key->meaning) > 10);
    }
    free(rendered);
}

/* Defaults parse (config_schema_set_defaults aborts otherwise), and every
 * value formatted from a config parses back to the same text. */
static void test_format_parses_back(void **state)
{
    (void)state;
    struct config config;
    memset(&config, 0, sizeof config);
    config_schema_set_defaults(&config);
    char problem[256];
    assert_int_equal(config_schema_set(&config, config_schema_find("bot", "admins"), "5, 7",
                                       problem, sizeof problem),
                     0);
    assert_int_equal(config_schema_set(&config, config_schema_find("plugins", "enable"),
                                       "hello, sentiment", problem, sizeof problem),
                     0);
    for (const struct config_key *key = config_keys; key->name != NULL; key++) {
        char first[512], second[512];
        config_schema_format(&config, key, first, sizeof first);
        if (key->flags & CONFIG_SECRET)
            continue;
        if (config_schema_set(&config, key, first, problem, sizeof problem) != 0)
            fail_msg("[%s] %s: '%s' does not parse back: %s", key->section, key->name, first,
                     problem);
        config_schema_format(&config, key, second, sizeof second);
        assert_string_equal(first, second);
    }
    char admins[64];
    config_schema_format(&config, config_schema_find("bot", "admins"), admins, sizeof admins);
    assert_string_equal(admins, "5, 7");
    config.path = NULL;
    config_free(&config);
}

static void test_range_comes_from_the_table(void **state)
{
    (void)state;
    struct config config;
    memset(&config, 0, sizeof config);
    config_schema_set_defaults(&config);
    const struct config_key *workers = config_schema_find("bot", "workers");
    assert_non_null(workers);
    char problem[256];
    assert_int_equal(config_schema_set(&config, workers, "64", problem, sizeof problem), 0);
    assert_int_equal(config.workers, 64);
    assert_int_equal(config_schema_set(&config, workers, "65", problem, sizeof problem), -1);
    assert_string_equal(problem, "workers must be an integer 1..64 (found '65')");
    assert_int_equal(config.workers, 64); /* a refused value changes nothing */
    char description[128];
    config_schema_describe(workers, description, sizeof description);
    assert_string_equal(description, "integer `1..64`");
    config_free(&config);
}

static void test_suggestions(void **state)
{
    (void)state;
    assert_string_equal(config_schema_suggest("bot", "wokers"), "workers");
    assert_string_equal(config_schema_suggest("bot", "poll_timout"), "poll_timeout");
    assert_string_equal(config_schema_suggest("lock", "max-wait"), "max_wait");
    assert_string_equal(config_schema_suggest("plugins", "dirs"), "dir");
    assert_null(config_schema_suggest("bot", "colour"));
    assert_null(config_schema_suggest("lock", "workers")); /* only keys of that section */
    assert_null(config_schema_find("bot", "dir"));
}

/* --write FILE: replace the generated block of FILE with the rendering. */
static int write_document(const char *path)
{
    char *document = read_all(path);
    const char *begin = document != NULL ? strstr(document, BEGIN_MARK) : NULL;
    const char *end = begin != NULL ? strstr(begin, END_MARK) : NULL;
    if (end == NULL) {
        fprintf(stderr, "%s: no generated block markers\n", path);
        free(document);
        return 1;
    }
    FILE *out = fopen(path, "wb");
    if (out == NULL) {
        perror(path);
        free(document);
        return 1;
    }
    fwrite(document, 1, (size_t)(begin - document) + strlen(BEGIN_MARK), out);
    config_schema_write_markdown(out);
    fputs(end, out);
    int failed = fclose(out) != 0;
    free(document);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write") == 0)
        return write_document(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docs_match_the_schema),
        cmocka_unit_test(test_every_key_documented_once),
        cmocka_unit_test(test_format_parses_back),
        cmocka_unit_test(test_range_comes_from_the_table),
        cmocka_unit_test(test_suggestions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
