/* The follow-up of a "rating in progress" answer (grok_follow.h): an edit
 * in place when the host offers it, a new message otherwise. */
#include "grok_follow.h"

#include <time.h>

int grok_follow_can_edit(const jv_host_api *api)
{
    return api->abi_minor >= 2 && JV_API_HAS(api, reply_with) && api->reply_with != NULL &&
           JV_API_HAS(api, edit_message) && api->edit_message != NULL;
}

static void wait_until(const jv_host_api *api, int64_t until_ms)
{
    int64_t left_ms = until_ms - api->now_ms();
    if (left_ms <= 0)
        return;
    if (left_ms > GROK_FOLLOW_COMMIT_GRACE_MS)
        left_ms = GROK_FOLLOW_COMMIT_GRACE_MS; /* a clock step never holds a worker long */
    struct timespec pause = {.tv_sec = left_ms / 1000, .tv_nsec = (left_ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
}

int grok_follow_send(const jv_host_api *api, jv_plugin *self, const struct grok_follower *follower,
                     const char *text, int wait_for_commit)
{
    if (follower->reference != 0 && grok_follow_can_edit(api)) {
        if (wait_for_commit)
            wait_until(api, follower->since_ms + GROK_FOLLOW_COMMIT_GRACE_MS);
        jv_outgoing content = {.struct_size = sizeof content, .text = text};
        if (api->edit_message(self, follower->chat_id, follower->reference, &content) == JV_OK)
            return 1;
        api->log(self, JV_LOG_WARN, "cannot edit the answer in chat %lld; sending the rating",
                 (long long)follower->chat_id);
    }
    return api->send_message(self, follower->chat_id, text) == JV_OK ? 0 : -1;
}
