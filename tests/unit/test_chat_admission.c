/* core/chat_admission.c: one chat's share of memory is capped, its further
 * updates wait (in order) and are admitted in batches as room frees up;
 * reply parts hold the chat until sent; idle chats are forgotten. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "dispatch/chat_admission.h"

/* Update ids of chat 7 are 100 + arrival in these tests. */
static int offer(struct chat_admission *admission, int64_t chat, int64_t arrival)
{
    return chat_admission_offer(admission, chat, 100 + arrival, arrival);
}

static void cap_holds_a_flooding_chat_and_not_the_others(void **state)
{
    (void)state;
    struct chat_admission *admission = chat_admission_create(4);
    int64_t arrival = 1;
    for (int i = 0; i < 4; i++)
        assert_true(offer(admission, 7, arrival++));
    /* the fifth waits, and so does every later one, even with room */
    assert_false(offer(admission, 7, arrival++));
    assert_true(offer(admission, 8, arrival++)); /* another chat: at once */
    size_t most = 0;
    assert_int_equal(chat_admission_held(admission, &most), 5);
    assert_int_equal(most, 4);
    size_t count = 99;
    assert_null(chat_admission_take_waiting(admission, 7, &count)); /* still full */
    assert_int_equal(count, 0);
    chat_admission_handled(admission, 7, NULL, 0);
    assert_null(chat_admission_take_waiting(admission, 7, &count)); /* above half the cap */
    chat_admission_handled(admission, 7, NULL, 0);
    assert_false(offer(admission, 7, arrival++)); /* older rows wait: in order */
    int64_t *ids = chat_admission_take_waiting(admission, 7, &count);
    assert_non_null(ids);
    assert_int_equal(count, 2); /* the two waiting, oldest first, by update_id */
    assert_int_equal(ids[0], 105);
    assert_int_equal(ids[1], 107);
    free(ids);
    /* a second caller does not load the same rows while the first does */
    assert_null(chat_admission_take_waiting(admission, 7, &count));
    chat_admission_loaded(admission, 7, 2, 1, 2, 7);
    assert_int_equal(chat_admission_held(admission, NULL), 5);
    /* both were admitted by the load: offered again (a failed commit's
     * retry), they are not dispatched twice */
    assert_false(chat_admission_offer(admission, 7, 107, 7));
    assert_null(chat_admission_take_waiting(admission, 7, &count)); /* nothing waits */
    chat_admission_destroy(admission);
}

static void parts_hold_the_chat_until_sent(void **state)
{
    (void)state;
    struct chat_admission *admission = chat_admission_create(2);
    assert_true(offer(admission, 5, 1));
    int64_t parts[] = {100, 101};
    chat_admission_handled(admission, 5, parts, 2);
    assert_int_equal(chat_admission_held(admission, NULL), 2);
    assert_false(offer(admission, 5, 2)); /* the parts fill the share */
    int64_t chat = 0;
    assert_true(chat_admission_part_sent(admission, 100, &chat));
    assert_int_equal(chat, 5);
    size_t count = 0;
    int64_t *ids = chat_admission_take_waiting(admission, 5, &count);
    assert_non_null(ids);
    assert_int_equal(count, 1);
    assert_int_equal(ids[0], 102);
    free(ids);
    chat_admission_loaded(admission, 5, 1, 1, 1, 2);
    assert_false(chat_admission_part_sent(admission, 999, &chat)); /* never held */
    int64_t again[] = {101};
    assert_true(offer(admission, 6, 3));
    chat_admission_handled(admission, 6, again, 1); /* 101 is held by chat 5 already */
    assert_true(chat_admission_part_sent(admission, 101, &chat));
    assert_int_equal(chat, 5);
    assert_false(chat_admission_part_sent(admission, 101, &chat));
    chat_admission_handled(admission, 5, NULL, 0);
    assert_int_equal(chat_admission_held(admission, NULL), 0);
    chat_admission_destroy(admission);
}

/* A long flood: the waiting ids grow past the first array, are taken in
 * batches from the front while new ones join the back (the array is
 * compacted and grown under them), and come out in exactly the order they
 * were offered. */
static void a_long_backlog_comes_back_in_order(void **state)
{
    (void)state;
    struct chat_admission *admission = chat_admission_create(8);
    int64_t arrival = 1;
    for (int i = 0; i < 8; i++)
        assert_true(offer(admission, 3, arrival++));
    int64_t expected = 100 + arrival; /* the first waiting one's update_id */
    for (int i = 0; i < 1000; i++)
        assert_false(offer(admission, 3, arrival++));
    size_t loaded_total = 0;
    while (loaded_total < 1000 + 296) { /* 162 loads of 8 */
        for (int i = 0; i < 8; i++)
            chat_admission_handled(admission, 3, NULL, 0); /* the held ones end */
        size_t count = 0;
        int64_t *ids = chat_admission_take_waiting(admission, 3, &count);
        assert_non_null(ids);
        assert_int_equal(count, 8);
        for (size_t i = 0; i < count; i++)
            assert_int_equal(ids[i], expected++);
        free(ids);
        chat_admission_loaded(admission, 3, count, 1, count, expected - 1 - 100);
        loaded_total += count;
        for (int i = 0; i < 3 && arrival < 1296 + 9; i++)
            assert_false(offer(admission, 3, arrival++)); /* the flood goes on meanwhile */
    }
    assert_int_equal(chat_admission_held(admission, NULL), 8);
    chat_admission_destroy(admission);
}

/* A load whose read failed keeps the rows waiting, in order, with the
 * chat's later updates behind them; they are not taken again until the
 * backoff is over, when chat_admission_due_loads names the chat; the next
 * read that works takes them, oldest first, and says the chat recovered. */
static void a_failed_read_is_retried_in_order(void **state)
{
    (void)state;
    struct chat_admission *admission = chat_admission_create(2);
    assert_true(offer(admission, 9, 10));
    assert_true(offer(admission, 9, 11));
    assert_false(offer(admission, 9, 12));
    chat_admission_handled(admission, 9, NULL, 0);
    chat_admission_handled(admission, 9, NULL, 0);
    size_t count = 0, due = 0;
    int64_t chats[4];
    assert_int_equal(chat_admission_due_loads(admission, chats, 4, &due), -1);
    int64_t *ids = chat_admission_take_waiting(admission, 9, &count);
    assert_non_null(ids);
    free(ids);
    assert_int_equal(chat_admission_loaded(admission, 9, count, 0, 0, 0), LOAD_FAILED);
    assert_false(offer(admission, 9, 13)); /* behind the rows that wait */
    assert_null(chat_admission_take_waiting(admission, 9, &count)); /* backing off */
    int64_t wait = chat_admission_due_loads(admission, chats, 4, &due);
    assert_true(wait > 0 && wait <= 100);
    assert_int_equal(due, 0);
    usleep(120 * 1000);
    assert_int_equal(chat_admission_due_loads(admission, chats, 4, &due), 0);
    assert_int_equal(due, 1);
    assert_int_equal(chats[0], 9);
    /* failing again: no new state to tell, and a longer wait */
    ids = chat_admission_take_waiting(admission, 9, &count);
    assert_non_null(ids);
    free(ids);
    assert_int_equal(chat_admission_loaded(admission, 9, count, 0, 0, 0), LOAD_UNCHANGED);
    assert_true(chat_admission_due_loads(admission, chats, 4, &due) > 100);
    usleep(220 * 1000);
    ids = chat_admission_take_waiting(admission, 9, &count);
    assert_non_null(ids);
    assert_int_equal(count, 2);
    assert_int_equal(ids[0], 112); /* oldest first */
    assert_int_equal(ids[1], 113);
    free(ids);
    assert_int_equal(chat_admission_loaded(admission, 9, count, 1, 2, 13), LOAD_RECOVERED);
    assert_int_equal(chat_admission_due_loads(admission, chats, 4, &due), -1);
    chat_admission_destroy(admission);
}

/* Memory follows the active chats: 100,000 chats come and go, none stays. */
static void idle_chats_are_forgotten(void **state)
{
    (void)state;
    struct chat_admission *admission = chat_admission_create(8);
    for (int64_t chat = 1; chat <= 100000; chat++) {
        assert_true(chat_admission_offer(admission, chat, chat, chat));
        int64_t part = chat;
        chat_admission_handled(admission, chat, &part, 1);
        int64_t sent_chat = 0;
        assert_true(chat_admission_part_sent(admission, part, &sent_chat));
        assert_int_equal(sent_chat, chat);
    }
    assert_int_equal(chat_admission_held(admission, NULL), 0);
    /* a forgotten chat starts afresh: admitted at once */
    assert_true(chat_admission_offer(admission, 1, 200000, 200000));
    chat_admission_destroy(admission);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cap_holds_a_flooding_chat_and_not_the_others),
        cmocka_unit_test(parts_hold_the_chat_until_sent),
        cmocka_unit_test(a_long_backlog_comes_back_in_order),
        cmocka_unit_test(a_failed_read_is_retried_in_order),
        cmocka_unit_test(idle_chats_are_forgotten),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
