/* setWebhook / deleteWebhook and the store's mark of a webhook we set
 * (webhook_setup.h). */
#include "transport/telegram/webhook_setup.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "state/store.h"
#include "transport/telegram/telegram_update.h"
#include "base/core_keys.h"

#define MARK_KEY "telegram.webhook" /* the URL set, while it is set */
#define CALL_TIMEOUT_S 30

int webhook_setup_marked(struct store *store)
{
    char *value = NULL;
    size_t length = 0;
    int found = store != NULL && store_get(store, CORE_SPACE, MARK_KEY, &value, &length) == 0;
    free(value);
    return found;
}

void webhook_setup_set(struct telegram_api *api, struct store *store, const struct config *config,
                       const char *secret, struct telegram_result *result)
{
    const char *url = config->webhook_url;
    if (store_set(store, CORE_SPACE, MARK_KEY, url, strlen(url)) != 0) {
        memset(result, 0, sizeof *result);
        result->outcome = TELEGRAM_TRANSIENT;
        strcpy(result->description, "cannot write to the state store");
        return;
    }
    json_t *parameters = json_object();
    json_object_set_new(parameters, "url", json_string(url));
    json_object_set_new(parameters, "secret_token", json_string(secret));
    json_object_set_new(parameters, "allowed_updates", telegram_allowed_updates());
    json_object_set_new(parameters, "max_connections",
                        json_integer(config->webhook_max_connections));
    json_object_set_new(parameters, "drop_pending_updates", json_false());
    telegram_api_call(api, "setWebhook", parameters, CALL_TIMEOUT_S, result);
    json_decref(parameters);
}

void webhook_setup_delete(struct telegram_api *api, struct store *store,
                          struct telegram_result *result)
{
    json_t *parameters = json_object();
    json_object_set_new(parameters, "drop_pending_updates", json_false());
    telegram_api_call(api, "deleteWebhook", parameters, CALL_TIMEOUT_S, result);
    json_decref(parameters);
    if (result->outcome == TELEGRAM_OK)
        store_delete(store, CORE_SPACE, MARK_KEY);
}
