/* mkdir -p with one mode for every directory it creates. */
#ifndef JARVIS_DIRECTORIES_H
#define JARVIS_DIRECTORIES_H

#include <sys/types.h>

/* Creates path and its missing parents with mode; existing ones are left
 * as they are. 0, or -1 with errno set (ENOTDIR when path is a file). */
int directories_make(const char *path, mode_t mode);

#endif
