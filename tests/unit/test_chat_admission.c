/* core/chat_admission.c: one chat's share of memory is capped, its further
 * updates wait (in order) and are admitted in batches as room frees up;
 * reply parts hold the chat until sent; idle chats are forgotten. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dispatch/chat_admission.h"

static void cap_holds_a_flooding_chat_and_not_the_others(void **state)
{
    (void)state;
    struct chat_admission *admission = chat_admission_create(4);
    int64_t arrival = 1;
    for (int i = 0; i < 4; i++)
        assert_true(chat_admission_offer(admission, 7, arrival++));
    /* the fifth waits, and so does every later one, even with room */
    assert_false(chat_admission_offer(admission, 7, arrival++));
    assert_true(chat_admission_offer(admission, 8, arrival++)); /* another chat: at once */
    size_t most = 0;
    assert_int_equal(chat_admission_held(admission, &most), 5);
    assert_int_equal(most, 4);
    int64_t after = 0;
    assert_int_equal(chat_admission_room(admission, 7, &after), 0); /* still full */
    chat_admission_handled(admission, 7, NULL, 0);
    assert_int_equal(chat_admission_room(admission, 7, &after), 0); /* above half the cap */
    chat_admission_handled(admission, 7, NULL, 0);
    assert_false(chat_admission_offer(admission, 7, arrival++)); /* older rows wait: in order */
    assert_int_equal(chat_admission_room(admission, 7, &after), 2); /* the two waiting */
    assert_int_equal(after, 4); /* after the last admitted arrival */
    /* a second caller does not load the same rows while the first does */
    int64_t other = 0;
    assert_int_equal(chat_admission_room(admission, 7, &other), 0);
    chat_admission_loaded(admission, 7, 2, 2, 7);
    assert_int_equal(chat_admission_held(admission, NULL), 5);
    chat_admission_destroy(admission);
}

static void parts_hold_the_chat_until_sent(void **state)
{
    (void)state;
    struct chat_admission *admission = chat_admission_create(2);
    assert_true(chat_admission_offer(admission, 5, 1));
    int64_t parts[] = {100, 101};
    chat_admission_handled(admission, 5, parts, 2);
    assert_int_equal(chat_admission_held(admission, NULL), 2);
    assert_false(chat_admission_offer(admission, 5, 2)); /* the parts fill the share */
    int64_t chat = 0;
    assert_true(chat_admission_part_sent(admission, 100, &chat));
    assert_int_equal(chat, 5);
    int64_t after = 0;
    assert_int_equal(chat_admission_room(admission, 5, &after), 1);
    chat_admission_loaded(admission, 5, 1, 1, 2);
    assert_false(chat_admission_part_sent(admission, 999, &chat)); /* never held */
    int64_t again[] = {101};
    assert_true(chat_admission_offer(admission, 6, 3));
    chat_admission_handled(admission, 6, again, 1); /* 101 is held by chat 5 already */
    assert_true(chat_admission_part_sent(admission, 101, &chat));
    assert_int_equal(chat, 5);
    assert_false(chat_admission_part_sent(admission, 101, &chat));
    chat_admission_handled(admission, 5, NULL, 0);
    assert_int_equal(chat_admission_held(admission, NULL), 0);
    chat_admission_destroy(admission);
}

/* A load may read a row from the inbox before the poll thread offers it:
 * the offer must not dispatch it a second time. */
static void a_row_loaded_before_its_offer_is_not_admitted_twice(void **state)
{
    (void)state;
    struct chat_admission *admission = chat_admission_create(2);
    assert_true(chat_admission_offer(admission, 9, 10));
    assert_true(chat_admission_offer(admission, 9, 11));
    assert_false(chat_admission_offer(admission, 9, 12));
    chat_admission_handled(admission, 9, NULL, 0);
    chat_admission_handled(admission, 9, NULL, 0);
    int64_t after = 0;
    assert_int_equal(chat_admission_room(admission, 9, &after), 1);
    /* the load found 12 and 13 (13 committed, not yet offered) */
    chat_admission_loaded(admission, 9, 2, 2, 13);
    assert_false(chat_admission_offer(admission, 9, 13));
    assert_true(chat_admission_offer(admission, 9, 14) == 0); /* at the cap again */
    chat_admission_destroy(admission);
}

/* Memory follows the active chats: 100,000 chats come and go, none stays. */
static void idle_chats_are_forgotten(void **state)
{
    (void)state;
    struct chat_admission *admission = chat_admission_create(8);
    for (int64_t chat = 1; chat <= 100000; chat++) {
        assert_true(chat_admission_offer(admission, chat, chat));
        int64_t part = chat;
        chat_admission_handled(admission, chat, &part, 1);
        int64_t sent_chat = 0;
        assert_true(chat_admission_part_sent(admission, part, &sent_chat));
        assert_int_equal(sent_chat, chat);
    }
    assert_int_equal(chat_admission_held(admission, NULL), 0);
    /* a forgotten chat starts afresh: admitted at once */
    assert_true(chat_admission_offer(admission, 1, 200000));
    chat_admission_destroy(admission);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cap_holds_a_flooding_chat_and_not_the_others),
        cmocka_unit_test(parts_hold_the_chat_until_sent),
        cmocka_unit_test(a_row_loaded_before_its_offer_is_not_admitted_twice),
        cmocka_unit_test(idle_chats_are_forgotten),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
