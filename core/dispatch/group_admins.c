/* Refuses a group-wide command (JV_COMMAND_GROUP_ADMIN) to a group member
 * who is neither one of the group's admins nor a [bot] admin, with one
 * line saying why; a failed admin lookup is said as such, never guessed. */
#include "dispatch/group_admins.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jarvis/plugin.h>

#include "config/config.h"
#include "base/log.h"

static int is_group(const char *chat_type)
{
    return chat_type != NULL &&
           (strcmp(chat_type, "group") == 0 || strcmp(chat_type, "supergroup") == 0);
}

int group_admins_refuse(const struct config *config, uint32_t flags,
                        const struct jv_message *message, const char *what,
                        group_admin_lookup_fn lookup, void *lookup_context, char *answer,
                        size_t answer_size)
{
    if (!(flags & JV_COMMAND_GROUP_ADMIN) || !is_group(message->chat_type))
        return 0;
    if (config != NULL && config_is_admin(config, message->user_id))
        return 0;
    int verdict = lookup != NULL ? lookup(message->chat_id, message->user_id, lookup_context) : 0;
    if (verdict == 1)
        return 0;
    if (verdict < 0) {
        log_warn("update %" PRId64 ": %s: could not ask Telegram whether user %" PRId64
                 " administers chat %" PRId64 "; refused",
                 message->update_id, what, message->user_id, message->chat_id);
        snprintf(answer, answer_size,
                 "%s is for group admins, and I could not check that you are one just now. "
                 "Please try again in a minute.",
                 what);
        return 1;
    }
    log_info("update %" PRId64 ": %s refused: user %" PRId64 " is not an admin of chat %" PRId64,
             message->update_id, what, message->user_id, message->chat_id);
    snprintf(answer, answer_size, "%s is for group admins only.", what);
    return 1;
}
