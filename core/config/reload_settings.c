/* Comparing the running configuration with a re-read one, setting by
 * setting: a table says how each restart-only setting is stored, so the
 * comparison, the report and the carry-over are one loop. */
#include "config/reload_settings.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "base/log.h"

enum setting_type { SETTING_TEXT, SETTING_SECRET, SETTING_INT, SETTING_INT64, SETTING_DOUBLE };

struct restart_setting {
    const char *name;
    enum setting_type type;
    size_t offset;
};

#define SETTING(section_key, type, field)                                                          \
    {                                                                                              \
        section_key, type, offsetof(struct config, field)                                          \
    }

static const struct restart_setting restart_settings[] = {
    SETTING("[bot] token", SETTING_SECRET, token),
    SETTING("[bot] api_base", SETTING_TEXT, api_base),
    SETTING("[bot] transport", SETTING_INT, transport),
    SETTING("[bot] poll_timeout", SETTING_INT, poll_timeout),
    SETTING("[bot] workers", SETTING_INT, workers),
    SETTING("[bot] state_dir", SETTING_TEXT, state_dir),
    SETTING("[bot] log_file", SETTING_TEXT, log_file),
    SETTING("[bot] delete_webhook", SETTING_INT, delete_webhook),
    SETTING("[bot] backoff_initial_ms", SETTING_INT64, backoff_initial_ms),
    SETTING("[bot] backoff_max_ms", SETTING_INT64, backoff_max_ms),
    SETTING("[bot] send_rate_per_chat", SETTING_DOUBLE, send_rate_per_chat),
    SETTING("[bot] send_burst_per_chat", SETTING_DOUBLE, send_burst_per_chat),
    SETTING("[bot] send_rate_total", SETTING_DOUBLE, send_rate_total),
    SETTING("[bot] send_connections", SETTING_INT, send_connections),
    SETTING("[bot] chat_backlog_in_memory", SETTING_INT, chat_backlog_in_memory),
    SETTING("[bot] mode", SETTING_INT, bot_mode),
    SETTING("[webhook] listen", SETTING_TEXT, webhook_listen),
    SETTING("[webhook] allow_remote", SETTING_INT, webhook_allow_remote),
    SETTING("[webhook] url", SETTING_TEXT, webhook_url),
    SETTING("[webhook] path", SETTING_TEXT, webhook_path),
    SETTING("[webhook] secret", SETTING_SECRET, webhook_secret),
    SETTING("[webhook] max_connections", SETTING_INT, webhook_max_connections),
    SETTING("[lock] path", SETTING_TEXT, lock_path),
    SETTING("[lock] max_wait", SETTING_INT, lock_max_wait),
};

static const void *field_of(const struct config *config, const struct restart_setting *setting)
{
    return (const char *)config + setting->offset;
}

static const char *text_of(const struct config *config, const struct restart_setting *setting)
{
    const char *text = *(char *const *)field_of(config, setting);
    return text != NULL ? text : "";
}

static int setting_differs(const struct config *a, const struct config *b,
                           const struct restart_setting *setting)
{
    switch (setting->type) {
        case SETTING_TEXT:
        case SETTING_SECRET: return strcmp(text_of(a, setting), text_of(b, setting)) != 0;
        case SETTING_INT:
            return *(const int *)field_of(a, setting) != *(const int *)field_of(b, setting);
        case SETTING_INT64:
            return *(const int64_t *)field_of(a, setting) != *(const int64_t *)field_of(b, setting);
        case SETTING_DOUBLE:
            return *(const double *)field_of(a, setting) != *(const double *)field_of(b, setting);
    }
    return 0;
}

/* Numbers are shown; texts are not (a path is harmless, but an api_base
 * may carry credentials and the token is a secret). */
static void report_restart(const struct config *running, const struct config *adopted,
                           const struct restart_setting *setting)
{
    switch (setting->type) {
        case SETTING_INT:
            log_warn("reload: %s changed (%d -> %d): needs a restart", setting->name,
                     *(const int *)field_of(running, setting),
                     *(const int *)field_of(adopted, setting));
            break;
        case SETTING_INT64:
            log_warn("reload: %s changed (%" PRId64 " -> %" PRId64 "): needs a restart",
                     setting->name, *(const int64_t *)field_of(running, setting),
                     *(const int64_t *)field_of(adopted, setting));
            break;
        case SETTING_DOUBLE:
            log_warn("reload: %s changed (%g -> %g): needs a restart", setting->name,
                     *(const double *)field_of(running, setting),
                     *(const double *)field_of(adopted, setting));
            break;
        default: log_warn("reload: %s changed: needs a restart", setting->name); break;
    }
}

static int carry_over_one(const struct config *running, struct config *adopted,
                          const struct restart_setting *setting)
{
    void *target = (char *)adopted + setting->offset;
    const void *source = field_of(running, setting);
    switch (setting->type) {
        case SETTING_TEXT:
        case SETTING_SECRET: {
            char *copy = strdup(text_of(running, setting));
            if (copy == NULL)
                return -1;
            free(*(char **)target);
            *(char **)target = copy;
            return 0;
        }
        case SETTING_INT: memcpy(target, source, sizeof(int)); return 0;
        case SETTING_INT64: memcpy(target, source, sizeof(int64_t)); return 0;
        case SETTING_DOUBLE: memcpy(target, source, sizeof(double)); return 0;
    }
    return 0;
}

static int list_has(const int64_t *ids, size_t count, int64_t id)
{
    for (size_t i = 0; i < count; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

static int admins_differ(const struct config *a, const struct config *b)
{
    for (size_t i = 0; i < a->admin_count; i++)
        if (!list_has(b->admins, b->admin_count, a->admins[i]))
            return 1;
    for (size_t i = 0; i < b->admin_count; i++)
        if (!list_has(a->admins, a->admin_count, b->admins[i]))
            return 1;
    return 0;
}

int reload_settings_carry_over(const struct config *running, struct config *adopted)
{
    int differing = 0;
    size_t count = sizeof restart_settings / sizeof restart_settings[0];
    for (size_t i = 0; i < count; i++) {
        const struct restart_setting *setting = &restart_settings[i];
        if (!setting_differs(running, adopted, setting))
            continue;
        report_restart(running, adopted, setting);
        differing++;
        if (carry_over_one(running, adopted, setting) != 0)
            return -1;
    }
    return differing;
}

int reload_section_changed(const struct config *running, const struct config *adopted,
                           const char *name)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < running->entry_count && strcmp(running->entries[i].section, name) != 0)
            i++;
        while (j < adopted->entry_count && strcmp(adopted->entries[j].section, name) != 0)
            j++;
        if (i == running->entry_count || j == adopted->entry_count)
            return i != running->entry_count || j != adopted->entry_count;
        if (strcmp(running->entries[i].key, adopted->entries[j].key) != 0 ||
            strcmp(running->entries[i].value, adopted->entries[j].value) != 0)
            return 1;
        i++;
        j++;
    }
}

static const char *level_name(int level)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    return level >= 0 && level <= 3 ? names[level] : "?";
}

void reload_settings_describe_live(const struct config *running, const struct config *adopted,
                                   char *text, size_t text_size)
{
    size_t used = 0;
    text[0] = '\0';
    if (running->log_level != adopted->log_level)
        used += (size_t)snprintf(text + used, text_size - used, "log_level %s -> %s",
                                 level_name(running->log_level), level_name(adopted->log_level));
    if (used < text_size && running->handler_budget_ms != adopted->handler_budget_ms)
        used += (size_t)snprintf(text + used, text_size - used,
                                 "%shandler_budget_ms %" PRId64 " -> %" PRId64, used ? ", " : "",
                                 running->handler_budget_ms, adopted->handler_budget_ms);
    if (used < text_size && running->shutdown_grace_ms != adopted->shutdown_grace_ms)
        used += (size_t)snprintf(text + used, text_size - used,
                                 "%sshutdown_grace_ms %" PRId64 " -> %" PRId64, used ? ", " : "",
                                 running->shutdown_grace_ms, adopted->shutdown_grace_ms);
    if (used < text_size && admins_differ(running, adopted))
        snprintf(text + used, text_size - used, "%sadmins (%zu now)", used ? ", " : "",
                 adopted->admin_count);
}
