/* libFuzzer target: any HTTP status and body from the Bot API endpoint go
 * through telegram_classify: an outcome always, a one-line description,
 * a value only on success. First two bytes: the status. */
#include "fuzz_common.h"
#include "transport/telegram/telegram_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet_log();
    if (size < 2)
        return 0;
    static const long statuses[] = {200, 400, 401, 403, 404, 409, 429, 500, 502, 0, -1, 99999};
    long status = data[0] < 200 ? statuses[data[0] % (sizeof statuses / sizeof statuses[0])]
                                : (long)data[1] * 4;
    struct telegram_result result;
    memset(&result, 0x5A, sizeof result);
    telegram_classify(status, (const char *)data + 2, size - 2, &result);
    FUZZ_REQUIRE((int)result.outcome >= 0 && (int)result.outcome <= (int)TELEGRAM_ABORTED);
    FUZZ_REQUIRE(memchr(result.description, '\0', sizeof result.description) != NULL);
    FUZZ_REQUIRE(strchr(result.description, '\n') == NULL);
    FUZZ_REQUIRE(result.outcome == TELEGRAM_OK || result.value == NULL);
    if (result.outcome == TELEGRAM_RETRY_AFTER)
        FUZZ_REQUIRE(result.retry_after_s >= 0);
    telegram_result_release(&result);
    return 0;
}
