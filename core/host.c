/* The host's one outgoing path: plugins, built-ins and jobs all send through
 * whichever transport main picked. */
#include "host.h"

#include <stddef.h>

#include <jarvis/plugin.h>

#include "transport.h"

int host_send(struct host *host, int64_t chat_id, const char *text)
{
    if (host == NULL || text == NULL)
        return JV_E_INVAL;
    struct transport *transport = host->transport;
    if (transport == NULL || transport->send == NULL)
        return JV_E_STATE;
    return transport->send(transport, chat_id, text);
}
