/* A plugin file's content identity and private copies of it: a reload
 * compares hashes of the bytes (not times) to tell a new build from the
 * running one, and loads a build whose inode is already mapped from a copy,
 * so dlopen cannot hand back the running image. */
#ifndef JARVIS_PLUGIN_IMAGE_H
#define JARVIS_PLUGIN_IMAGE_H

#include <stdint.h>

/* 64-bit FNV-1a of every byte behind fd, read with pread (the offset stays).
 * 0 and *hash, or -1 with errno. */
int plugin_image_hash(int fd, uint64_t *hash);
/* The same for dir/file_name (not following a symbolic link). */
int plugin_image_hash_file(const char *dir, const char *file_name, uint64_t *hash);
/* A memfd holding a copy of the bytes behind fd; -1 with errno. */
int plugin_image_copy(int fd, const char *file_name);

#endif
