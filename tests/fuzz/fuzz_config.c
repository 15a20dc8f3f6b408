/* libFuzzer target: plugins.ini as any file could be. config_load reads it
 * through a memfd (a real file descriptor, no disk): it loads, or fails with
 * one line naming the file; a failed load leaves the struct empty. */
#include "fuzz_common.h"
#include "config/config.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet_log();
    int fd = fuzz_memfd(data, size);
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct config config;
    char error[512];
    int result = config_load(path, &config, error, sizeof error);
    if (result == 0) {
        FUZZ_REQUIRE(config.token != NULL && config.state_dir != NULL);
        FUZZ_REQUIRE(config.state_dir[0] != '\0');
        FUZZ_REQUIRE(config.workers >= 1 && config.workers <= 64);
        FUZZ_REQUIRE(config.backoff_initial_ms >= 1 &&
                     config.backoff_max_ms >= config.backoff_initial_ms);
        for (size_t i = 0; i < config.entry_count; i++)
            FUZZ_REQUIRE(config.entries[i].section != NULL && config.entries[i].key != NULL &&
                         config.entries[i].value != NULL);
        config_free(&config);
    } else {
        FUZZ_REQUIRE(result == -1);
        FUZZ_REQUIRE(strncmp(error, path, strlen(path)) == 0);
        /* every error at once, one line each (issue 12): each line names the
         * file, and none is empty */
        for (const char *line = error; *line != '\0';) {
            FUZZ_REQUIRE(strncmp(line, path, strlen(path)) == 0);
            const char *end = strchr(line, '\n');
            if (end == NULL)
                break;
            FUZZ_REQUIRE(end[1] != '\n');
            line = end + 1;
        }
        FUZZ_REQUIRE(config.path == NULL && config.entries == NULL);
    }
    close(fd);
    return 0;
}
