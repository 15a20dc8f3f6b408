/* Shared by the ctor_* loader-test plugins: a constructor helper that leaves
 * $JARVIS_TEST_MARKER_DIR/<name>.ran, so a test sees whether dlopen ran the
 * library's code, and a no-op init. */
#ifndef CTOR_MARKER_H
#define CTOR_MARKER_H

#include <jarvis/plugin.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void leave_marker(const char *name)
{
    const char *directory = getenv("JARVIS_TEST_MARKER_DIR");
    if (directory == NULL)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/%s.ran", directory, name);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    if (fd >= 0)
        close(fd);
}

static inline int marker_init(jv_plugin *self, const jv_host_api *api, char *err,
                              size_t err_length)
{
    (void)self, (void)api, (void)err, (void)err_length;
    return JV_OK;
}

#endif
