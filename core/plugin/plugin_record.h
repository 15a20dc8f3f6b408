/* The host's record of one plugin (the opaque jv_plugin of the ABI) and the
 * internal calls shared by plugins.c (loading), the registry's files (what
 * plugins registered, running callbacks) and host_api.c (the jv_host_api
 * table). */
#ifndef JARVIS_PLUGIN_RECORD_H
#define JARVIS_PLUGIN_RECORD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jarvis/plugin.h>

#include "base/plugin_name.h"

struct host;
struct registry;

#define PLUGIN_RECORD_MAGIC 0x4A56504Cu

/* The descriptor as jarvis 1.0 knows it: everything up to shutdown. */
#define PLUGIN_INFO_V1_SIZE (offsetof(jv_plugin_info, shutdown) + sizeof(void (*)(void)))

struct jv_plugin {
    uint32_t magic; /* PLUGIN_RECORD_MAGIC while the record is alive */
    struct registry *registry;
    char name[PLUGIN_NAME_MAX + 1];
    char *path;          /* the file it came from, for log lines */
    void *handle;        /* dlopen handle; NULL for in-process descriptors */
    int fd;              /* kept open so /proc/self/fd/N names stay unique */
    jv_plugin_info info; /* the descriptor, zero-padded past its struct_size */
    size_t load_index;
    /* The loaded file: a reload swaps the plugin when the bytes on disk
     * hash differently; the inode is what dlopen recognises an image by. */
    uint64_t content_hash;
    dev_t file_device;
    ino_t file_inode;
    /* The rest is guarded by the registry lock. */
    int registering;        /* inside init / post_init */
    int stopping;           /* no new callbacks start */
    int unloaded;           /* shutdown and destructors done */
    int running;            /* callbacks in progress */
    pthread_mutex_t serial; /* held around callbacks unless JV_PLUGIN_CONCURRENT */
};

#endif
