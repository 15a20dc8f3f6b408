/* The host's one outgoing path: plugins, built-ins and jobs all send through
 * whichever transport main picked; replies go back to the message's topic. */
#include "host.h"

#include <stddef.h>

#include <jarvis/plugin.h>

#include "dispatch.h"
#include "transport.h"

int host_send(struct host *host, int64_t chat_id, const char *text)
{
    return host_send_to_thread(host, chat_id, 0, text);
}

int host_send_to_thread(struct host *host, int64_t chat_id, int64_t thread_id,
                        const char *text)
{
    if (host == NULL || text == NULL)
        return JV_E_INVAL;
    struct transport *transport = host->transport;
    if (transport == NULL || transport->send == NULL)
        return JV_E_STATE;
    if (thread_id != 0 && transport->send_to_thread != NULL)
        return transport->send_to_thread(transport, chat_id, thread_id, text);
    return transport->send(transport, chat_id, text);
}

int host_reply(struct host *host, const struct jv_message *message, const char *text)
{
    if (host == NULL || message == NULL || text == NULL)
        return JV_E_INVAL;
    int64_t thread_id = dispatch_reply_thread(host->dispatch, message);
    return host_send_to_thread(host, message->chat_id, thread_id, text);
}
