/* libFuzzer target: a getUpdates body as Telegram (or anything in between)
 * could send it. The lenient per-update decoder, then telegram_parse_update
 * on every element it returns: no crash, and each verdict is coherent. The
 * strict one-pass reader (telegram_read_updates, over base/json_pick, its
 * updates built as base/pick_tree nodes) is checked against jansson: it
 * takes only bodies jansson decodes as a whole, and each update it builds
 * parses exactly as jansson's full tree does. */
#include "base/json_pick.h"
#include "base/pick_tree.h"
#include "fuzz_common.h"
#include "transport/telegram/telegram_update.h"

static void check_parsed(const struct parsed_update *update);

static void check_update(json_t *update)
{
    struct parsed_update parsed;
    memset(&parsed, 0x5A, sizeof parsed);
    telegram_parse_update(update, 777000111, &parsed);
    check_parsed(&parsed);
    /* a readable update_id is kept exactly, 0 included: it is what the next
     * offset confirms */
    json_t *id = json_object_get(update, "update_id");
    if (json_is_integer(id) && json_integer_value(id) >= 0)
        FUZZ_REQUIRE(parsed.update_id == json_integer_value(id));
}

static void check_parsed(const struct parsed_update *update)
{
    struct parsed_update parsed = *update;
    FUZZ_REQUIRE(parsed.update_id == -1 || parsed.update_id >= 0);
    switch (parsed.kind) {
    case UPDATE_TEXT:
        FUZZ_REQUIRE(parsed.update_id >= 0 && parsed.message.update_id == parsed.update_id);
        FUZZ_REQUIRE(parsed.message.text != NULL && parsed.message.chat_type != NULL);
        FUZZ_REQUIRE(parsed.message.user_name != NULL);
        FUZZ_REQUIRE(parsed.message.is_reply_to_bot == 0 || parsed.message.is_reply_to_bot == 1);
        break;
    case UPDATE_IGNORED:
        FUZZ_REQUIRE(parsed.ignored_kind != NULL);
        break;
    case UPDATE_BAD:
        FUZZ_REQUIRE(memchr(parsed.problem, '\0', sizeof parsed.problem) != NULL);
        FUZZ_REQUIRE(parsed.problem[0] != '\0' && strchr(parsed.problem, '\n') == NULL);
        break;
    default:
        FUZZ_REQUIRE(!"unknown update kind");
    }
}

static int same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void require_same(const struct parsed_update *a, const struct parsed_update *b)
{
    FUZZ_REQUIRE(a->kind == b->kind && a->update_id == b->update_id);
    FUZZ_REQUIRE(strcmp(a->problem, b->problem) == 0 && same_text(a->ignored_kind, b->ignored_kind));
    const struct incoming_message *x = &a->message, *y = &b->message;
    FUZZ_REQUIRE(x->chat_id == y->chat_id && x->user_id == y->user_id &&
                 x->message_id == y->message_id && x->is_reply_to_bot == y->is_reply_to_bot &&
                 x->message_thread_id == y->message_thread_id && x->is_edited == y->is_edited);
    FUZZ_REQUIRE(same_text(x->chat_type, y->chat_type) && same_text(x->user_name, y->user_name) &&
                 same_text(x->text, y->text) && same_text(x->language_code, y->language_code) &&
                 same_text(x->reply_to_text, y->reply_to_text) &&
                 same_text(x->callback_id, y->callback_id) &&
                 same_text(x->callback_data, y->callback_data));
}

/* The verdict on a picked update is the verdict on the full one. */
static void check_same_parse(json_t *picked, json_t *full)
{
    for (unsigned flags = 0; flags <= TELEGRAM_PARSE_EDITS; flags++) {
        struct parsed_update a, b;
        telegram_parse_update_with(picked, 777000111, flags, &a);
        telegram_parse_update_with(full, 777000111, flags, &b);
        require_same(&a, &b);
    }
}

/* The same for an update the one-pass reader built as nodes. */
static void check_same_node_parse(const struct pick_node *picked, json_t *full)
{
    for (unsigned flags = 0; flags <= TELEGRAM_PARSE_EDITS; flags++) {
        struct parsed_update a, b;
        telegram_parse_update_node(picked, 777000111, flags, &a);
        telegram_parse_update_with(full, 777000111, flags, &b);
        check_parsed(&a);
        require_same(&a, &b);
    }
}

static void check_strict_reader(const uint8_t *data, size_t size)
{
    struct pick_arena *arena = pick_arena_create();
    const struct pick_node *fast = telegram_read_updates((const char *)data, size, arena);
    json_t *whole = json_loadb((const char *)data, size, 0, NULL);
    json_t *result = json_object_get(whole, "result");
    if (fast != NULL) {
        FUZZ_REQUIRE(whole != NULL && json_is_true(json_object_get(whole, "ok")));
        FUZZ_REQUIRE(json_is_array(result) && fast->type == PICK_ARRAY);
        size_t index = 0;
        for (const struct pick_node *update = fast->first; update != NULL;
             update = update->next, index++) {
            FUZZ_REQUIRE(index < json_array_size(result));
            check_same_node_parse(update, json_array_get(result, index));
        }
        FUZZ_REQUIRE(index == json_array_size(result));
    }
    pick_arena_destroy(arena);
    json_decref(whole);
    /* the reader alone: accepts exactly what jansson accepts. Not with a NUL
     * byte in the input: jansson takes "true\0" or "1\0" (its lexer ends a
     * bare word or number at a NUL) but refuses "\"k\"\0"; both refuse a
     * NUL anywhere inside an update */
    char why[128];
    size_t end = 0;
    json_t *picked = json_pick((const char *)data, size, NULL, 0, &end, why, sizeof why);
    while (picked != NULL && end < size && data[end] != '\0' && strchr(" \t\r\n", data[end]))
        end++;
    int taken = picked != NULL && end == size;
    json_t *loaded = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (memchr(data, '\0', size) == NULL)
        FUZZ_REQUIRE(taken == (loaded != NULL));
    if (picked == NULL)
        FUZZ_REQUIRE(memchr(why, '\0', sizeof why) != NULL && strchr(why, '\n') == NULL);
    json_decref(picked);
    json_decref(loaded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet_log();
    check_strict_reader(data, size);
    json_t *updates = telegram_decode_updates_leniently((const char *)data, size);
    if (updates != NULL) {
        FUZZ_REQUIRE(json_is_array(updates));
        size_t index;
        json_t *update;
        json_array_foreach(updates, index, update)
            check_update(update);
        json_decref(updates);
    }
    /* a single update object, as the inbox would hand it on */
    json_error_t error;
    json_t *single = json_loadb((const char *)data, size, JSON_DECODE_ANY, &error);
    if (single != NULL) {
        check_update(single);
        /* a webhook body: the picked update parses as the full one */
        json_t *picked = json_is_object(single)
                             ? telegram_decode_update_leniently((const char *)data, size)
                             : NULL;
        if (picked != NULL && json_object_get(picked, "undecodable") == NULL)
            check_same_parse(picked, single);
        FUZZ_REQUIRE(!json_is_object(single) || picked != NULL);
        json_decref(picked);
        json_decref(single);
    }
    return 0;
}
