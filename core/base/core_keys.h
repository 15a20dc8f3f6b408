/* The core's own keys in the store: one namespace, "core", which no plugin
 * may take as its name (config_is_reserved_name), so plugins' keys and
 * these never meet. Written by the transports and the pipeline, read by
 * `jarvis status`. */
#ifndef JARVIS_CORE_KEYS_H
#define JARVIS_CORE_KEYS_H

#define CORE_SPACE "core"

/* the holder's poll status */
#define STATUS_KEY_POLLING "status.polling"              /* "1" while polling, "0" stopped */
#define STATUS_KEY_LAST_POLL_OK "status.last_poll_ok_ms" /* decimal unix ms */
#define STATUS_KEY_LAST_ERROR "status.last_error"        /* "<unix ms> <one line>" */

#endif
