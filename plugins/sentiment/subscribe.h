/* /subscribe, /unsubscribe and the presses on the /subscribe keyboard.
 * user_data is the sentiment_state for all of them. In a group only its
 * admins may subscribe the chat or change its choice: the commands and the
 * keyboard's callback are registered JV_COMMAND_GROUP_ADMIN. */
#ifndef SENTIMENT_SUBSCRIBE_H
#define SENTIMENT_SUBSCRIBE_H

#include <jarvis/plugin.h>

int sentiment_subscribe_command(jv_plugin *self, const jv_message *message, void *user_data);
int sentiment_unsubscribe_command(jv_plugin *self, const jv_message *message, void *user_data);
/* A press whose data starts with SENTIMENT_CALLBACK_PREFIX: saves the
 * chat's new choice and edits the message to show it. */
int sentiment_subscribe_press(jv_plugin *self, const jv_message *press, void *user_data);

#endif
