/* libFuzzer target: a reply of any bytes split for sendMessage: every part
 * is valid UTF-8, non-blank, and within the limit in UTF-16 units. First
 * two bytes: the limit (2..4096: a limit under 2 cannot hold a surrogate
 * pair and is refused). */
#include "fuzz_common.h"
#include "transport/telegram/telegram_send.h"
#include "transport/telegram/telegram_split.h"
#include <jarvis/utf8.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t limit = 2 + (((size_t)data[0] << 8 | data[1]) % (TELEGRAM_MESSAGE_LIMIT - 1));
    char *text = fuzz_text(data + 2, size - 2);
    char **chunks = NULL;
    long count = telegram_split_text(text, limit, &chunks);
    FUZZ_REQUIRE(count >= 0);
    for (long i = 0; i < count; i++) {
        size_t length = strlen(chunks[i]);
        FUZZ_REQUIRE(length > 0);
        FUZZ_REQUIRE(fuzz_valid_utf8(chunks[i], length));
        FUZZ_REQUIRE(jv_utf16_length(chunks[i]) <= limit);
        FUZZ_REQUIRE(strspn(chunks[i], " \t\r\n") < length);
    }
    telegram_chunks_free(chunks, count);
    free(text);
    return 0;
}
