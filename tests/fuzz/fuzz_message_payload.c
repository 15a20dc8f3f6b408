/* libFuzzer target: an inbox row read back from the store (a damaged
 * database or an older version may hold anything). message_payload_decode
 * accepts or says why; what it accepts encodes and decodes to the same. */
#include "fuzz_common.h"
#include "dispatch/message_payload.h"

static int same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *payload = fuzz_text(data, size);
    struct incoming_message message;
    memset(&message, 0, sizeof message); /* update_id is the inbox row's, not the payload's */
    void *holder = NULL;
    char problem[128];
    if (message_payload_decode(payload, &message, &holder, problem, sizeof problem) != 0) {
        FUZZ_REQUIRE(memchr(problem, '\0', sizeof problem) != NULL && problem[0] != '\0');
        free(payload);
        return 0;
    }
    char *again = message_payload_encode(&message);
    FUZZ_REQUIRE(again != NULL);
    struct incoming_message copy;
    memset(&copy, 0, sizeof copy);
    void *copy_holder = NULL;
    FUZZ_REQUIRE(message_payload_decode(again, &copy, &copy_holder, problem, sizeof problem) == 0);
    FUZZ_REQUIRE(copy.update_id == message.update_id && copy.chat_id == message.chat_id);
    FUZZ_REQUIRE(copy.user_id == message.user_id && copy.message_id == message.message_id);
    FUZZ_REQUIRE(copy.message_thread_id == message.message_thread_id);
    FUZZ_REQUIRE(copy.is_reply_to_bot == message.is_reply_to_bot);
    FUZZ_REQUIRE(same_text(copy.text, message.text) && same_text(copy.chat_type, message.chat_type));
    FUZZ_REQUIRE(same_text(copy.user_name, message.user_name));
    message_payload_free(copy_holder);
    free(again);
    message_payload_free(holder);
    free(payload);
    return 0;
}
