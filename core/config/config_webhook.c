/* [bot] mode = webhook and its [webhook] settings: the cross-key checks of
 * config_webhook.h, and the listener path derived from the public URL. */
#include "config/config_webhook.h"

#include <stdio.h>
#include <string.h>

#include "config/settings.h"
#include "config/config_schema.h"
#include "base/listen_address.h"

int webhook_secret_is_valid(const char *secret)
{
    size_t length = strlen(secret);
    if (length == 0 || length > WEBHOOK_SECRET_MAX)
        return 0;
    for (const char *p = secret; *p != '\0'; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return 0;
    }
    return 1;
}

/* "https://host[:port]/a/b?q" -> "/a/b"; "/" when the URL has no path. */
static void path_of_url(const char *url, char *out, size_t size)
{
    const char *after_scheme = strstr(url, "://");
    const char *path = after_scheme != NULL ? strchr(after_scheme + 3, '/') : NULL;
    if (path == NULL) {
        snprintf(out, size, "/");
        return;
    }
    size_t length = strcspn(path, "?#");
    snprintf(out, size, "%.*s", (int)length, path);
}

void config_webhook_path(const struct config *config, char *out, size_t size)
{
    if (config->webhook_path != NULL && config->webhook_path[0] != '\0')
        snprintf(out, size, "%s", config->webhook_path);
    else
        path_of_url(config->webhook_url != NULL ? config->webhook_url : "", out, size);
}

static void check_listen(const struct config *config, config_problem_fn report, void *context)
{
    struct listen_address address;
    char problem[128], line[320], quoted[CONFIG_QUOTE_MAX];
    if (listen_address_parse(config->webhook_listen, &address, problem, sizeof problem) != 0) {
        snprintf(line, sizeof line, "[webhook] listen: %s (found '%s')", problem,
                 config_quote(config->webhook_listen, quoted, sizeof quoted));
        report(context, "webhook", "listen", line);
        return;
    }
    if (address.loopback || config->webhook_allow_remote)
        return;
    snprintf(line, sizeof line,
             "[webhook] listen %s is not a loopback address (plain HTTP, the secret in clear, "
             "beyond this machine); use 127.0.0.1:PORT behind the TLS proxy, or set "
             "allow_remote = true in [webhook]",
             config_quote(config->webhook_listen, quoted, sizeof quoted));
    report(context, "webhook", "listen", line);
}

static void check_url(const struct config *config, config_problem_fn report, void *context)
{
    char line[320], quoted[CONFIG_QUOTE_MAX];
    const char *url = config->webhook_url;
    if (url[0] == '\0') {
        report(context, "bot", "mode",
               "mode = webhook needs [webhook] url, the public https:// address Telegram "
               "POSTs to (found none)");
        return;
    }
    if (strncmp(url, "https://", 8) != 0 || url[8] == '\0' || url[8] == '/') {
        snprintf(line, sizeof line,
                 "[webhook] url must be an https:// URL with a host, as Telegram requires "
                 "(found '%s'); TLS ends at the reverse proxy, not at jarvis",
                 config_quote(url, quoted, sizeof quoted));
        report(context, "webhook", "url", line);
    }
}

void config_webhook_check(const struct config *config, config_problem_fn report, void *context)
{
    if (config->webhook_path[0] != '\0' && config->webhook_path[0] != '/')
        report(context, "webhook", "path",
               "[webhook] path must start with '/' (the path Telegram's POSTs arrive on)");
    if (config->webhook_secret[0] != '\0' && !webhook_secret_is_valid(config->webhook_secret))
        report(context, "webhook", "secret",
               "[webhook] secret must be 1-256 characters A-Z a-z 0-9 _ - (Telegram refuses "
               "any other secret_token); the value is not shown");
    if (config->bot_mode != BOT_MODE_WEBHOOK)
        return;
    if (config->transport == TRANSPORT_CONSOLE || config->token[0] == '\0')
        report(context, "bot", "mode",
               "mode = webhook needs the Telegram transport and a token (found "
               "transport = console or an empty token)");
    check_url(config, report, context);
    check_listen(config, report, context);
}
