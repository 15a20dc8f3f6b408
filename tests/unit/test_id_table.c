/* Unit tests for core/id_table.c: lookups stay right through growth, removal
 * (the backward shift of a probe cluster) and shrinking, checked against a
 * plain array over ids chosen to collide, including INT64_MIN and INT64_MAX. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "base/id_table.h"

#define RECORDS 20000

struct record {
    int64_t id;
    int present;
};

static int64_t id_for(size_t index)
{
    if (index == 0)
        return INT64_MIN;
    if (index == 1)
        return INT64_MAX;
    /* multiples of a large power of two: identical low bits before hashing */
    return (int64_t)(index << 20) * (index % 2 ? -1 : 1);
}

static void assert_matches(const struct id_table *table, const struct record *records)
{
    size_t present = 0;
    for (size_t i = 0; i < RECORDS; i++) {
        const struct record *found = id_table_find(table, records[i].id);
        if (records[i].present) {
            assert_ptr_equal(found, &records[i]);
            present++;
        } else {
            assert_null(found);
        }
    }
    assert_int_equal(table->count, present);
}

static void count_visit(void *record, void *context)
{
    assert_true(((struct record *)record)->present);
    ++*(size_t *)context;
}

static void test_insert_remove_against_reference(void **state)
{
    (void)state;
    struct record *records = calloc(RECORDS, sizeof *records);
    assert_non_null(records);
    for (size_t i = 0; i < RECORDS; i++)
        records[i].id = id_for(i);
    struct id_table table;
    id_table_init(&table);
    assert_null(id_table_find(&table, 0));
    id_table_remove(&table, 5); /* on an empty table: nothing */
    for (size_t i = 0; i < RECORDS; i++) {
        assert_int_equal(id_table_insert(&table, &records[i].id), 0);
        records[i].present = 1;
    }
    assert_matches(&table, records);
    srand(7);
    for (int round = 0; round < 4 * RECORDS; round++) {
        size_t i = (size_t)rand() % RECORDS;
        if (records[i].present) {
            id_table_remove(&table, records[i].id);
            records[i].present = 0;
        } else {
            assert_int_equal(id_table_insert(&table, &records[i].id), 0);
            records[i].present = 1;
        }
    }
    assert_matches(&table, records);
    size_t visited = 0;
    id_table_each(&table, count_visit, &visited);
    assert_int_equal(visited, table.count);
    for (size_t i = 0; i < RECORDS; i++)
        if (records[i].present) {
            id_table_remove(&table, records[i].id);
            records[i].present = 0;
        }
    assert_matches(&table, records);
    /* emptied, the slot array is back near its smallest */
    assert_true(table.capacity <= 32);
    id_table_clear(&table);
    free(records);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_remove_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
