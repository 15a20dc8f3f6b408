/* The rule for JV_COMMAND_GROUP_ADMIN commands: in a group only the group's
 * admins (asked of the transport, which caches) and [bot] admins may run
 * them; private chats and every other command are unaffected. */
#ifndef JARVIS_GROUP_ADMINS_H
#define JARVIS_GROUP_ADMINS_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct jv_message;

/* Whether user_id administers chat_id: 1 yes, 0 no, -1 could not tell
 * (the lookup failed; nothing is cached then). Called on a worker thread. */
typedef int (*group_admin_lookup_fn)(int64_t chat_id, int64_t user_id, void *context);

/* 0 when message may run a command (or press a button) with these flags;
 * otherwise 1, and answer holds the one line to send back instead, about
 * what ("/subscribe", "This button"). lookup may be NULL (a transport
 * without groups): then a group-wide action is refused. */
int group_admins_refuse(const struct config *config, uint32_t flags,
                        const struct jv_message *message, const char *what,
                        group_admin_lookup_fn lookup, void *lookup_context, char *answer,
                        size_t answer_size);

#endif
