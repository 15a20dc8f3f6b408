/* Directory creation shared by the parts that own a directory of their own
 * (the lock's, the state's): parents included, private mode. */
#include "base/directories.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int directories_make(const char *path, mode_t mode)
{
    char *copy = strdup(path);
    if (copy == NULL) {
        errno = ENOMEM;
        return -1;
    }
    int result = 0;
    for (char *slash = strchr(copy + 1, '/');; slash = strchr(slash + 1, '/')) {
        if (slash != NULL)
            *slash = '\0';
        if (copy[0] != '\0' && mkdir(copy, mode) != 0 && errno != EEXIST) {
            result = -1;
            break;
        }
        if (slash == NULL)
            break;
        *slash = '/';
    }
    int saved = errno;
    free(copy);
    errno = saved;
    if (result != 0)
        return -1;
    /* an existing file of that name is no directory to work in */
    struct stat info;
    if (stat(path, &info) != 0)
        return -1;
    if (!S_ISDIR(info.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}
