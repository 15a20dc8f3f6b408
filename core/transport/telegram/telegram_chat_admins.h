/* Whether a user administers a Telegram group: getChatMember's status
 * ("creator" or "administrator"), cached for a short time per (chat, user)
 * so a busy group costs one call per member per minute. */
#ifndef JARVIS_TELEGRAM_CHAT_ADMINS_H
#define JARVIS_TELEGRAM_CHAT_ADMINS_H

#include <stdint.h>

struct telegram_chat_admins;

/* NULL on allocation failure. */
struct telegram_chat_admins *telegram_chat_admins_create(const char *api_base, const char *token);
void telegram_chat_admins_destroy(struct telegram_chat_admins *admins);
/* 1 admin, 0 not, -1 Telegram could not tell (network, 5xx, 429, a
 * malformed answer; not cached). Thread-safe: a group_admin_lookup_fn. */
int telegram_chat_admins_check(int64_t chat_id, int64_t user_id, void *admins);

#endif
