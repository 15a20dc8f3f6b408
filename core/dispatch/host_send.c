/* host_send.h: what answers no update goes through the pipeline too. */
#include "dispatch/host_send.h"

#include <stddef.h>

#include <jarvis/plugin.h>

#include "dispatch/pipeline.h"
#include "plugin/host.h"

int host_send(struct host *host, int64_t chat_id, const char *text)
{
    if (host == NULL || text == NULL)
        return JV_E_INVAL;
    if (host->pipeline == NULL)
        return JV_E_STATE;
    return pipeline_send(host->pipeline, chat_id, 0, text);
}
