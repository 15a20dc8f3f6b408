/* libFuzzer target: command_parse on any message text: the
 * command is lower case, bounded, and args point into the text. */
#include "fuzz_common.h"
#include "dispatch/dispatch.h"
#include "dispatch/command_text.h"

#include <ctype.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    char command[33];
    const char *args = NULL;
    int kind = command_parse(text, "JarvisTestBot", command, sizeof command, &args);
    FUZZ_REQUIRE(kind >= -1 && kind <= 1);
    if (kind == 1) {
        FUZZ_REQUIRE(memchr(command, '\0', sizeof command) != NULL);
        for (const char *c = command; *c != '\0'; c++)
            FUZZ_REQUIRE(!isupper((unsigned char)*c));
        FUZZ_REQUIRE(args != NULL && args >= text && args <= text + strlen(text));
    }
    free(text);
    return 0;
}
