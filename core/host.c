/* The host's path for messages that answer no update: plugins' send_message,
 * jobs and reports all go through the running transport's pipeline. */
#include "host.h"

#include <stddef.h>

#include <jarvis/plugin.h>

#include "pipeline.h"

int host_send(struct host *host, int64_t chat_id, const char *text)
{
    if (host == NULL || text == NULL)
        return JV_E_INVAL;
    if (host->pipeline == NULL)
        return JV_E_STATE;
    return pipeline_send(host->pipeline, chat_id, 0, text);
}
