/* Unit tests for core/base/json_pick.c, the strict reader of getUpdates
 * answers and webhook bodies: what a rule names is built and the rest
 * stands as null; escapes decode as jansson decodes them; every input
 * jansson refuses (U+0000, lone surrogates, integers beyond int64, 1e400,
 * nesting past 2048, invalid UTF-8, grammar errors, any cut-short body) is
 * refused with a one-line reason; and on mutated updates it agrees with
 * jansson's verdict byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/json_pick.h"

static const char *const no_names[] = {NULL};
static const struct json_pick_rule scalars = {no_names, NULL, NULL};
static const char *const some_values[] = {"s", "deep", NULL};
static const struct json_pick_rule some = {no_names, NULL, some_values};
static const char *const top_names[] = {"kept", "some", NULL};
static const struct json_pick_rule *const top_rules[] = {&scalars, &some};
static const struct json_pick_rule top = {top_names, top_rules, NULL};

/* Picks a whole text (nothing but whitespace after the value). */
static json_t *pick(const char *text, size_t length, int depth_above, char *why, size_t why_size)
{
    size_t end = 0;
    json_t *value = json_pick(text, length, &top, depth_above, &end, why, why_size);
    if (value == NULL)
        return NULL;
    for (; end < length; end++)
        if (strchr(" \t\r\n", text[end]) == NULL) {
            snprintf(why, why_size, "trailing bytes");
            json_decref(value);
            return NULL;
        }
    return value;
}

static json_t *pick_text(const char *text)
{
    char why[128];
    return pick(text, strlen(text), 0, why, sizeof why);
}

static void test_named_objects_are_built_and_the_rest_stands_as_null(void **state)
{
    (void)state;
    json_t *value = pick_text(" {\"a\":1,\"kept\":{\"s\":\"x\",\"deep\":{\"y\":2},\"n\":null},"
                              "\"other\":{\"z\":3},\"list\":[1,{\"q\":[]}],\"t\":true,"
                              "\"f\":false,\"r\":-2.5e-3,\"big\":-9223372036854775808,"
                              "\"some\":{\"s\":1,\"x\":\"gone\",\"deep\":[1],\"y\":{\"z\":[true]}}} ");
    assert_non_null(value);
    assert_int_equal(json_integer_value(json_object_get(value, "a")), 1);
    json_t *kept = json_object_get(value, "kept");
    assert_true(json_is_object(kept));
    assert_string_equal(json_string_value(json_object_get(kept, "s")), "x");
    assert_true(json_is_null(json_object_get(kept, "deep"))); /* not named by its rule */
    assert_true(json_is_null(json_object_get(kept, "n")));
    assert_true(json_is_null(json_object_get(value, "other")));
    assert_true(json_is_null(json_object_get(value, "list")));
    assert_true(json_is_true(json_object_get(value, "t")));
    assert_true(json_is_false(json_object_get(value, "f")));
    assert_true(json_real_value(json_object_get(value, "r")) == -2.5e-3);
    assert_true(json_integer_value(json_object_get(value, "big")) == INT64_MIN);
    /* a rule with values keeps those and leaves the other members out */
    json_t *some = json_object_get(value, "some");
    assert_int_equal(json_object_size(some), 2);
    assert_int_equal(json_integer_value(json_object_get(some, "s")), 1);
    assert_true(json_is_null(json_object_get(some, "deep")));
    /* members keep their order (the parser names an update's kind by its
     * first member after update_id) */
    const char *first = json_object_iter_key(json_object_iter(value));
    assert_string_equal(first, "a");
    json_decref(value);
}

static void test_escapes_decode_as_jansson_decodes_them(void **state)
{
    (void)state;
    const char *text = "{\"caf\\u00e9\":\"\\/echo \\\"q\\\" \\\\ \\b\\f\\n\\r\\t "
                       "\\u041f\\ud83d\\ude00\\u20ac\xc3\xa9\xf0\x9f\x98\x80\","
                       "\"dup\":1,\"dup\":2}";
    json_t *picked = pick_text(text);
    json_t *loaded = json_loads(text, 0, NULL);
    assert_non_null(picked);
    assert_non_null(loaded);
    assert_true(json_equal(picked, loaded)); /* the last of two equal names wins, too */
    assert_non_null(json_object_get(picked, "caf\xc3\xa9"));
    json_decref(picked);
    json_decref(loaded);
    /* a long escaped string (decoded through a heap buffer) */
    size_t count = 2000;
    char *long_text = malloc(count * 6 + 16);
    strcpy(long_text, "\"");
    for (size_t i = 0; i < count; i++)
        strcat(long_text, "\\u00e9");
    strcat(long_text, "\"");
    picked = pick_text(long_text);
    assert_non_null(picked);
    assert_int_equal(json_string_length(picked), count * 2);
    json_decref(picked);
    free(long_text);
}

static void assert_refused(const char *text, size_t length, const char *why_part)
{
    char why[128];
    json_t *value = pick(text, length, 0, why, sizeof why);
    if (value != NULL)
        fail_msg("accepted: %.*s", (int)length, text);
    assert_non_null(strstr(why, why_part));
    assert_null(strchr(why, '\n'));
}

static void test_what_jansson_refuses_is_refused(void **state)
{
    (void)state;
    static const struct {
        const char *text, *why;
    } cases[] = {
        {"{\"t\":\"a\\u0000b\"}", "\\u0000"},
        {"{\"a\\u0000\":1}", "\\u0000"},
        {"[\"\\ud800\"]", "surrogate"},
        {"[\"\\ud800\\u0041\"]", "surrogate"},
        {"[\"\\udc00\"]", "surrogate"},
        {"{\"kept\":{\"n\":9223372036854775808}}", "int64"},
        {"[-9223372036854775809]", "int64"},
        {"[123456789012345678901234567890]", "int64"},
        {"{\"x\":1e400}", "overflow"},
        {"{\"some\":{\"y\":[1e400]}}", "overflow"}, /* left out, still checked */
        {"{\"some\":{\"x\":\"\\u0000\"}}", "\\u0000"},
        {"[-1E+400]", "overflow"},
        {"[\"\xc0\x80\"]", "UTF-8"},     /* overlong */
        {"[\"\xed\xa0\x80\"]", "UTF-8"}, /* an encoded surrogate */
        {"[\"\xf5\x80\x80\x80\"]", "UTF-8"},
        {"[\"\xe2\x82\"]", "UTF-8"},
        {"[\"tab\there\"]", "control"},
        {"[\"\\x\"]", "escape"},
        {"[\"\\u12g4\"]", "escape"},
        {"[01]", "expected"},
        {"[1.]", "number"},
        {"[.5]", "unexpected"},
        {"[-]", "number"},
        {"[+1]", "unexpected"},
        {"[1e]", "number"},
        {"[tru]", "unexpected"},
        {"[1,]", "unexpected"},
        {"{\"a\":1,}", "member name"},
        {"{\"a\" 1}", "':'"},
        {"{1:2}", "member name"},
        {"[1 2]", "expected"},
        {"\"open", "unterminated"},
        {"", "end"},
        {"\xef\xbb\xbf{}", "unexpected"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_refused(cases[i].text, strlen(cases[i].text), cases[i].why);
        assert_null(json_loads(cases[i].text, JSON_DECODE_ANY, NULL)); /* jansson agrees */
    }
    /* 1e-400 is no overflow (it reads as 0), and a NUL byte outside strings is */
    json_t *tiny = pick_text("[1e-400]");
    assert_non_null(tiny);
    json_decref(tiny);
    assert_refused("[1,\0 2]", 7, "unexpected");
    assert_refused("[\"\\\0\"]", 5, "escape"); /* a backslash before a NUL byte (fuzzing) */
}

/* n levels of '[' (or of {"k": ...}) around 1, closed. */
static char *nested(size_t levels, int objects)
{
    char *text = malloc(levels * 6 + 8);
    size_t at = 0;
    for (size_t i = 0; i < levels; i++)
        at += (size_t)sprintf(text + at, "%s", objects ? "{\"k\":" : "[");
    text[at++] = '1';
    for (size_t i = 0; i < levels; i++)
        text[at++] = objects ? '}' : ']';
    text[at] = '\0';
    return text;
}

static const struct json_pick_rule self;
static const char *const self_names[] = {"k", NULL};
static const struct json_pick_rule *const self_rules[] = {&self};
static const struct json_pick_rule self = {self_names, self_rules, NULL};

static void test_nesting_up_to_the_limit_and_not_beyond(void **state)
{
    (void)state;
    char why[128];
    for (int objects = 0; objects <= 1; objects++) {
        char *deepest = nested(JSON_PICK_MAX_DEPTH, objects);
        json_t *value = pick(deepest, strlen(deepest), 0, why, sizeof why);
        assert_non_null(value);
        json_decref(value);
        /* the levels around it count: an update inside the envelope */
        assert_null(pick(deepest, strlen(deepest), 2, why, sizeof why));
        assert_non_null(strstr(why, "nesting"));
        free(deepest);
        char *deeper = nested(JSON_PICK_MAX_DEPTH + 1, objects);
        assert_null(pick(deeper, strlen(deeper), 0, why, sizeof why));
        assert_non_null(strstr(why, "nesting"));
        assert_null(json_loads(deeper, 0, NULL));
        free(deeper);
    }
    /* a rule that names itself is built as deep as the text goes */
    char *deep = nested(100, 1);
    size_t end;
    json_t *built = json_pick(deep, strlen(deep), &self, 0, &end, why, sizeof why);
    assert_non_null(built);
    json_t *inner = built;
    for (int i = 0; i < 99; i++)
        inner = json_object_get(inner, "k");
    assert_int_equal(json_integer_value(json_object_get(inner, "k")), 1);
    json_decref(built);
    free(deep);
}

static const char update[] =
    "{\"update_id\":815001,\"message\":{\"message_id\":7,\"from\":{\"id\":42,\"is_bot\":false,"
    "\"first_name\":\"Ann\\u00e9\",\"language_code\":\"en\"},\"chat\":{\"id\":-100123,"
    "\"type\":\"supergroup\"},\"date\":1700000000,\"text\":\"\\/echo hi \\ud83d\\ude00\","
    "\"entities\":[{\"offset\":0,\"length\":5,\"type\":\"bot_command\"}],\"location\":"
    "{\"latitude\":51.5,\"longitude\":-0.12},\"reply_to_message\":{\"message_id\":6}}}";

static void test_every_cut_short_update_is_refused(void **state)
{
    (void)state;
    char why[128];
    for (size_t length = 0; length < sizeof update - 1; length++) {
        size_t end;
        json_t *value = json_pick(update, length, &top, 0, &end, why, sizeof why);
        if (value != NULL)
            fail_msg("a prefix of %zu bytes was accepted", length);
        assert_true(why[0] != '\0');
    }
}

/* Byte-level mutations of a real update: json_pick accepts exactly what
 * jansson accepts, and where both accept, the scalars agree. */
static void test_agrees_with_jansson_on_mutated_updates(void **state)
{
    (void)state;
    static const char alphabet[] = "{}[]\",:\\u0123456789eE+-.tfnrl \x80\xc3\xa9\xff";
    uint64_t seed = 0x9E3779B97F4A7C15u;
    char text[sizeof update + 8];
    int accepted = 0, refused = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(text, update, sizeof update);
        size_t length = sizeof update - 1;
        int mutations = 1 + (int)(seed % 3);
        for (int m = 0; m < mutations; m++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            size_t at = (size_t)(seed >> 33) % length;
            char c = alphabet[(seed >> 20) % (sizeof alphabet - 1)];
            if ((seed >> 10) % 4 == 0 && length < sizeof update + 4) { /* insert */
                memmove(text + at + 1, text + at, length - at);
                length++;
            } else if ((seed >> 10) % 4 == 1 && length > 1) { /* delete */
                memmove(text + at, text + at + 1, length - at - 1);
                length--;
                continue;
            }
            text[at] = c;
        }
        char why[128];
        json_t *picked = pick(text, length, 0, why, sizeof why);
        json_t *loaded = json_loadb(text, length, JSON_DECODE_ANY, NULL);
        if ((picked != NULL) != (loaded != NULL))
            fail_msg("json_pick %s, jansson %s: %.*s (%s)", picked ? "accepts" : "refuses",
                     loaded ? "accepts" : "refuses", (int)length, text, picked ? "" : why);
        if (picked != NULL && json_is_object(picked)) {
            const char *key;
            json_t *value;
            json_object_foreach(loaded, key, value)
            {
                json_t *mine = json_object_get(picked, key);
                assert_non_null(mine);
                if (!json_is_object(value) && !json_is_array(value))
                    assert_true(json_equal(mine, value));
            }
            assert_int_equal(json_object_size(picked), json_object_size(loaded));
        }
        accepted += picked != NULL;
        refused += picked == NULL;
        json_decref(picked);
        json_decref(loaded);
    }
    /* the mutations reach both verdicts */
    assert_true(accepted > 500 && refused > 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_objects_are_built_and_the_rest_stands_as_null),
        cmocka_unit_test(test_escapes_decode_as_jansson_decodes_them),
        cmocka_unit_test(test_what_jansson_refuses_is_refused),
        cmocka_unit_test(test_nesting_up_to_the_limit_and_not_beyond),
        cmocka_unit_test(test_every_cut_short_update_is_refused),
        cmocka_unit_test(test_agrees_with_jansson_on_mutated_updates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
