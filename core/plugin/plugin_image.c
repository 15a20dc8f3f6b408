/* Hashing plugin files. FNV-1a is enough here: it tells builds
 * apart, it does not authenticate them (the loader's owner and mode checks
 * do that), and it needs no library. */
#include "plugin/plugin_image.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#define FNV_OFFSET_BASIS 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define CHUNK_SIZE 65536

int plugin_image_hash(int fd, uint64_t *hash)
{
    unsigned char chunk[CHUNK_SIZE];
    uint64_t value = FNV_OFFSET_BASIS;
    off_t offset = 0;
    for (;;) {
        ssize_t got = pread(fd, chunk, sizeof chunk, offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        for (ssize_t i = 0; i < got; i++) {
            value ^= chunk[i];
            value *= FNV_PRIME;
        }
        offset += got;
    }
    *hash = value;
    return 0;
}

int plugin_image_hash_file(const char *dir, const char *file_name, uint64_t *hash)
{
    int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0)
        return -1;
    int fd = openat(dir_fd, file_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    int saved_errno = errno;
    close(dir_fd);
    if (fd < 0) {
        errno = saved_errno;
        return -1;
    }
    int result = plugin_image_hash(fd, hash);
    saved_errno = errno;
    close(fd);
    errno = saved_errno;
    return result;
}
