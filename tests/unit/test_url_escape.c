/* Unit tests for include/jarvis/util.h: jv_url_escape keeps a user's text
 * one query value (no injected parameters, no broken URL) and never writes
 * past the buffer or leaves half an escape. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <jarvis/util.h>

static void test_escapes_what_a_url_would_misread(void **state)
{
    (void)state;
    char out[128];
    assert_int_equal(jv_url_escape("New York", out, sizeof out), 10);
    assert_string_equal(out, "New%20York");
    jv_url_escape("a&b=c", out, sizeof out);
    assert_string_equal(out, "a%26b%3Dc");
    jv_url_escape("/?#+%", out, sizeof out);
    assert_string_equal(out, "%2F%3F%23%2B%25");
    jv_url_escape("Zürich", out, sizeof out);
    assert_string_equal(out, "Z%C3%BCrich");
    jv_url_escape("A-z_0.9~", out, sizeof out);
    assert_string_equal(out, "A-z_0.9~");
    assert_int_equal(jv_url_escape("", out, sizeof out), 0);
    assert_string_equal(out, "");
}

static void test_small_buffers_are_cut_at_whole_escapes(void **state)
{
    (void)state;
    char out[8];
    memset(out, 'x', sizeof out);
    /* "ab%20cd" needs 7 + NUL = 8: fits exactly */
    assert_int_equal(jv_url_escape("ab cd", out, sizeof out), 7);
    assert_string_equal(out, "ab%20cd");
    char small[5];
    memset(small, 'x', sizeof small);
    assert_int_equal(jv_url_escape("abc d", small, sizeof small), 7);
    assert_string_equal(small, "abc"); /* not "abc%" */
    char tiny[1] = {'x'};
    assert_int_equal(jv_url_escape("a", tiny, sizeof tiny), 1);
    assert_int_equal(tiny[0], '\0');
    assert_int_equal(jv_url_escape("a b", NULL, 0), 5); /* size query, nothing written */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes_what_a_url_would_misread),
        cmocka_unit_test(test_small_buffers_are_cut_at_whole_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
