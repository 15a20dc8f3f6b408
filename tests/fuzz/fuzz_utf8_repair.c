/* libFuzzer target: utf8_repair and telegram_sanitize_utf8 on any
 * bytes. The output is always valid UTF-8, NUL-terminated at out_length,
 * and valid input comes back unchanged with nothing replaced. */
#include "fuzz_common.h"
#include "transport/telegram/telegram_api.h"
#include "base/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t length = 0;
    size_t replaced = 0;
    char *repaired = utf8_repair(text, size, &length, &replaced);
    FUZZ_REQUIRE(repaired != NULL);
    FUZZ_REQUIRE(repaired[length] == '\0');
    FUZZ_REQUIRE(fuzz_valid_utf8(repaired, length));
    if (fuzz_valid_utf8(text, size))
        FUZZ_REQUIRE(replaced == 0 && length == size && memcmp(repaired, text, size) == 0);
    else
        FUZZ_REQUIRE(replaced > 0);
    free(repaired);

    char *sanitized = telegram_sanitize_utf8(text, size, &length, &replaced);
    FUZZ_REQUIRE(sanitized != NULL);
    FUZZ_REQUIRE(sanitized[length] == '\0');
    FUZZ_REQUIRE(fuzz_valid_utf8(sanitized, length));
    free(sanitized);
    return 0;
}
