/* Routing and the worker pool: one chat's messages are handled in order,
 * different chats in parallel; the transport thread never runs plugin code.
 * Built-ins (/help, /start) and command parsing (/cmd@bot args) live here. */
#ifndef JARVIS_DISPATCH_H
#define JARVIS_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "dispatch/group_admins.h"
#include "dispatch/incoming_message.h"

struct host;
struct dispatch;
struct jv_message;
struct jv_context;

/* Called on a worker thread once every handler for the message finished,
 * with the unit of work holding its replies and kv writes (which the
 * callback commits); before the chat's next message starts. */
typedef void (*dispatch_done_fn)(struct jv_context *work, void *context);

struct dispatch *dispatch_create(struct host *host, int workers);
/* bot username for /cmd@name matching; "" or NULL accepts only bare /cmd. */
void dispatch_set_bot_username(struct dispatch *dispatch, const char *username);
/* A line /help ends with (how this medium shows buttons, say); NULL for none.
 * JV_OK or JV_E_NOMEM. */
int dispatch_set_help_note(struct dispatch *dispatch, const char *note);
/* Copies the message and queues it. 0, or -1 when out of memory / stopping. */
int dispatch_submit(struct dispatch *dispatch, const struct incoming_message *message,
                    dispatch_done_fn done, void *context);
/* While a handler runs past about 1 s, typing(chat, topic) is called, then
 * again every 4.5 s until it returns (on a timer thread of its own). NULL
 * stops the timer (a transport does so before it frees what typing uses). */
typedef void (*dispatch_typing_fn)(int64_t chat_id, int64_t thread_id, void *context);
void dispatch_set_typing(struct dispatch *dispatch, dispatch_typing_fn typing, void *context);
/* Who administers a group, for JV_COMMAND_GROUP_ADMIN commands (NULL:
 * nobody but [bot] admins); set by the transport, cleared before it frees
 * what the lookup uses. */
void dispatch_set_admin_lookup(struct dispatch *dispatch, group_admin_lookup_fn lookup,
                               void *context);
/* 1 when a message waits for a worker and may start now (the calling
 * worker's own chat's next one counts): a done callback asks, to know
 * whether its commit may wait for the next ones (group_commit.h). */
int dispatch_work_ready(struct dispatch *dispatch);
/* Waits until everything submitted is handled or timeout_ms passes
 * (-1 = no limit). Returns how many messages are still unfinished. */
size_t dispatch_drain(struct dispatch *dispatch, int64_t timeout_ms);
/* For a reload: workers finish the message they are on and take no new
 * one; dispatch_submit keeps queueing. 0 once no handler runs, or -1 when
 * one still ran after timeout_ms (the pause is then already undone). */
int dispatch_pause(struct dispatch *dispatch, int64_t timeout_ms);
void dispatch_resume(struct dispatch *dispatch);
/* Stops the workers (after dispatch_drain) and frees. */
void dispatch_destroy(struct dispatch *dispatch);

#endif
