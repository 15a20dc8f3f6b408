/* The jv_host_api table given to plugins: the host services a plugin calls. */
#ifndef JARVIS_HOST_API_H
#define JARVIS_HOST_API_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>

/* The jv_host_api table given to plugins (host_api.c). */
const jv_host_api *host_api_table(void);

#endif
