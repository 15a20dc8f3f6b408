/* Telling a chat that waited: the rating replaces the "rating in progress"
 * answer by an edit (ABI 1.2), or goes out as a new message when the host
 * has no edit_message, the answer has no reference, or the edit fails. */
#ifndef GROK_FOLLOW_H
#define GROK_FOLLOW_H

#include <jarvis/plugin.h>

#include "grok_refresh.h"

/* An edit queued before the host committed the answer it edits would reach
 * Telegram first and be dropped: a follower younger than this waits. */
#define GROK_FOLLOW_COMMIT_GRACE_MS 1000

/* Whether answers can be edited later: the host has reply_with and edit_message. */
int grok_follow_can_edit(const jv_host_api *api);

/* Sends text to follower: an edit of its answer when it has a reference,
 * else (or when the edit fails) a new message. wait_for_commit: off a
 * handler's thread, first let the answer's commit happen (see above).
 * Returns 1 when edited, 0 when sent as a new message, -1 when both failed. */
int grok_follow_send(const jv_host_api *api, jv_plugin *self, const struct grok_follower *follower,
                     const char *text, int wait_for_commit);

#endif
