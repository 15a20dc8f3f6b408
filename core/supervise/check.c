/* `jarvis check`: what a user runs after editing plugins.ini or dropping a
 * .so into a plugin directory. It says which file it read and where every
 * path led, then loads each enabled plugin once (init and shutdown, no
 * transport, no lock) and sums up. */
#include "supervise/check.h"

#include "config/config.h"
#include "config/config_schema.h"
#include "plugin/host.h"
#include "base/http.h"
#include "base/log.h"
#include "plugin/registry.h"
#include "plugin/plugins.h"
#include "dispatch/host_api.h"

#include <stdio.h>
#include <string.h>

static void print_places(const struct config *config)
{
    printf("config: %s\n", config->path);
    printf("plugin dirs: %s\n", config->plugin_dir);
    printf("state_dir: %s\n", config->state_dir);
    if (config->lock_path[0] != '\0')
        printf("lock: %s\n", config->lock_path);
    else
        printf("lock: default ($XDG_RUNTIME_DIR/jarvis.lock, else %s/jarvis.lock)\n",
               config->state_dir);
    printf("log: %s\n", config->log_file[0] != '\0' ? config->log_file : "stderr");
}

static void print_settings(const struct config *config)
{
    for (const struct config_key *key = config_keys; key->name != NULL; key++) {
        char value[1024];
        config_schema_format(config, key, value, sizeof value);
        printf("[%s] %s = %s\n", key->section, key->name, value);
    }
}

int check_run(struct config *config, enum check_detail detail)
{
    enum log_level level = (enum log_level)config->log_level;
    if (detail == CHECK_QUIET && level > LOG_WARN)
        level = LOG_WARN;
    log_open(NULL, level);
    if (detail != CHECK_QUIET)
        print_places(config);
    if (detail == CHECK_VERBOSE)
        print_settings(config);
    fflush(stdout);
    http_global_init();
    struct host host = {.config = config};
    host.registry = registry_create(&host, host_api_table());
    if (host.registry == NULL) {
        log_error("cannot create the plugin registry");
        http_global_cleanup();
        log_close();
        return 1;
    }
    size_t loaded = 0, refused = 0;
    plugins_load_all(host.registry, &loaded, &refused);
    int ok = refused == 0 && loaded == config->enable_count;
    if (detail != CHECK_QUIET) {
        printf("%s: %zu of %zu enabled plugin(s) loaded, %zu refused: %s\n", config->path, loaded,
               config->enable_count, refused, ok ? "ok" : "FAILED");
    } else if (ok) {
        printf("jarvis: the configuration file %s syntax is ok\n", config->path);
        printf("jarvis: configuration file %s test is successful (%zu plugin(s) loaded)\n",
               config->path, loaded);
    } else {
        fprintf(stderr,
                "jarvis: configuration file %s test failed: %zu of %zu enabled "
                "plugin(s) loaded, %zu refused\n",
                config->path, loaded, config->enable_count, refused);
    }
    plugins_unload_all(host.registry);
    registry_destroy(host.registry);
    http_global_cleanup();
    log_close();
    return ok ? 0 : 1;
}
