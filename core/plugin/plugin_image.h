/* A plugin file's content identity: a reload compares hashes of the bytes
 * (not times) to tell a new build from the running one, and the loader
 * spots a file written over in place under a mapped image. */
#ifndef JARVIS_PLUGIN_IMAGE_H
#define JARVIS_PLUGIN_IMAGE_H

#include <stdint.h>

/* 64-bit FNV-1a of every byte behind fd, read with pread (the offset stays).
 * 0 and *hash, or -1 with errno. */
int plugin_image_hash(int fd, uint64_t *hash);
/* The same for dir/file_name (not following a symbolic link). */
int plugin_image_hash_file(const char *dir, const char *file_name, uint64_t *hash);

#endif
