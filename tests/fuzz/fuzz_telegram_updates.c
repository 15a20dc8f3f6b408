/* libFuzzer target: a getUpdates body as Telegram (or anything in between)
 * could send it. The lenient per-update decoder, then telegram_parse_update
 * on every element it returns: no crash, and each verdict is coherent. */
#include "fuzz_common.h"
#include "transport/telegram/telegram_update.h"

static void check_update(json_t *update)
{
    struct parsed_update parsed;
    memset(&parsed, 0x5A, sizeof parsed);
    telegram_parse_update(update, 777000111, &parsed);
    FUZZ_REQUIRE(parsed.update_id == -1 || parsed.update_id >= 0);
    /* a readable update_id is kept exactly, 0 included: it is what the next
     * offset confirms */
    json_t *id = json_object_get(update, "update_id");
    if (json_is_integer(id) && json_integer_value(id) >= 0)
        FUZZ_REQUIRE(parsed.update_id == json_integer_value(id));
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet_log();
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
        json_decref(single);
    }
    return 0;
}
