/* A SQLite VFS for tests that counts what reaches the disk: every xSync
 * and xWrite of every file (database, WAL, journal) the process opens
 * after counting_vfs_install(), passed on to the default VFS unchanged.
 * What a store test asserts on: "this commit synced", "that call wrote
 * nothing". Header-only: one test binary includes it once. */
#ifndef JARVIS_TEST_COUNTING_VFS_H
#define JARVIS_TEST_COUNTING_VFS_H

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

static atomic_long counting_vfs_syncs;
static atomic_long counting_vfs_writes;

struct counting_file {
    sqlite3_file base; /* first: SQLite sees a sqlite3_file */
    sqlite3_file *real;
};

static sqlite3_vfs *counting_vfs_real;
static sqlite3_vfs counting_vfs;
static sqlite3_io_methods counting_methods_v1, counting_methods_v2, counting_methods_v3;

static sqlite3_file *counting_real(sqlite3_file *file)
{
    return ((struct counting_file *)file)->real;
}

static int counting_close(sqlite3_file *file)
{
    sqlite3_file *real = counting_real(file);
    int result = real->pMethods != NULL ? real->pMethods->xClose(real) : SQLITE_OK;
    free(real);
    return result;
}

static int counting_read(sqlite3_file *file, void *buffer, int amount, sqlite3_int64 offset)
{
    sqlite3_file *real = counting_real(file);
    return real->pMethods->xRead(real, buffer, amount, offset);
}

static int counting_write(sqlite3_file *file, const void *buffer, int amount,
                          sqlite3_int64 offset)
{
    atomic_fetch_add(&counting_vfs_writes, 1);
    sqlite3_file *real = counting_real(file);
    return real->pMethods->xWrite(real, buffer, amount, offset);
}

static int counting_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    sqlite3_file *real = counting_real(file);
    return real->pMethods->xTruncate(real, size);
}

static int counting_sync(sqlite3_file *file, int flags)
{
    atomic_fetch_add(&counting_vfs_syncs, 1);
    sqlite3_file *real = counting_real(file);
    return real->pMethods->xSync(real, flags);
}

static int counting_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    sqlite3_file *real = counting_real(file);
    return real->pMethods->xFileSize(real, size);
}

static int counting_lock(sqlite3_file *file, int level)
{
    sqlite3_file *real = counting_real(file);
    return real->pMethods->xLock(real, level);
}

static int counting_unlock(sqlite3_file *file, int level)
{
    sqlite3_file *real = counting_real(file);
    return real->pMethods->xUnlock(real, level);
}

static int counting_check_reserved(sqlite3_file *file, int *reserved)
{
    sqlite3_file *real = counting_real(file);
    return real->pMethods->xCheckReservedLock(real, reserved);
}

static int counting_file_control(sqlite3_file *file, int operation, void *argument)
{
    sqlite3_file *real = counting_real(file);
    return real->pMethods->xFileControl(real, operation, argument);
}

static int counting_sector_size(sqlite3_file *file)
{
    sqlite3_file *real = counting_real(file);
    return real->pMethods->xSectorSize(real);
}

static int counting_device_characteristics(sqlite3_file *file)
{
    sqlite3_file *real = counting_real(file);
    return real->pMethods->xDeviceCharacteristics(real);
}

static int counting_shm_map(sqlite3_file *file, int region, int size, int extend,
                            void volatile **address)
{
    sqlite3_file *real = counting_real(file);
    return real->pMethods->xShmMap(real, region, size, extend, address);
}

static int counting_shm_lock(sqlite3_file *file, int offset, int count, int flags)
{
    sqlite3_file *real = counting_real(file);
    return real->pMethods->xShmLock(real, offset, count, flags);
}

static void counting_shm_barrier(sqlite3_file *file)
{
    sqlite3_file *real = counting_real(file);
    real->pMethods->xShmBarrier(real);
}

static int counting_shm_unmap(sqlite3_file *file, int delete_flag)
{
    sqlite3_file *real = counting_real(file);
    return real->pMethods->xShmUnmap(real, delete_flag);
}

static int counting_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **pages)
{
    sqlite3_file *real = counting_real(file);
    return real->pMethods->xFetch(real, offset, amount, pages);
}

static int counting_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *pages)
{
    sqlite3_file *real = counting_real(file);
    return real->pMethods->xUnfetch(real, offset, pages);
}

static int counting_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
                         int *out_flags)
{
    (void)vfs;
    struct counting_file *wrapper = (struct counting_file *)file;
    wrapper->base.pMethods = NULL;
    wrapper->real = calloc(1, (size_t)counting_vfs_real->szOsFile);
    if (wrapper->real == NULL)
        return SQLITE_NOMEM;
    int result = counting_vfs_real->xOpen(counting_vfs_real, name, wrapper->real, flags,
                                          out_flags);
    if (result != SQLITE_OK || wrapper->real->pMethods == NULL) {
        free(wrapper->real);
        wrapper->real = NULL;
        return result != SQLITE_OK ? result : SQLITE_CANTOPEN;
    }
    int version = wrapper->real->pMethods->iVersion;
    wrapper->base.pMethods = version >= 3   ? &counting_methods_v3
                             : version == 2 ? &counting_methods_v2
                                            : &counting_methods_v1;
    return SQLITE_OK;
}

/* Every file opened from now on is counted; idempotent. */
static void counting_vfs_install(void)
{
    if (counting_vfs_real != NULL)
        return;
    counting_vfs_real = sqlite3_vfs_find(NULL);
    counting_vfs = *counting_vfs_real;
    counting_vfs.zName = "counting";
    counting_vfs.szOsFile = (int)sizeof(struct counting_file);
    counting_vfs.xOpen = counting_open;
    sqlite3_io_methods methods = {
        .iVersion = 1, .xClose = counting_close, .xRead = counting_read,
        .xWrite = counting_write, .xTruncate = counting_truncate, .xSync = counting_sync,
        .xFileSize = counting_file_size, .xLock = counting_lock, .xUnlock = counting_unlock,
        .xCheckReservedLock = counting_check_reserved, .xFileControl = counting_file_control,
        .xSectorSize = counting_sector_size,
        .xDeviceCharacteristics = counting_device_characteristics};
    counting_methods_v1 = methods;
    methods.iVersion = 2;
    methods.xShmMap = counting_shm_map;
    methods.xShmLock = counting_shm_lock;
    methods.xShmBarrier = counting_shm_barrier;
    methods.xShmUnmap = counting_shm_unmap;
    counting_methods_v2 = methods;
    methods.iVersion = 3;
    methods.xFetch = counting_fetch;
    methods.xUnfetch = counting_unfetch;
    counting_methods_v3 = methods;
    sqlite3_vfs_register(&counting_vfs, 1);
}

/* What reached the disk so far: *syncs and *writes since the process began. */
static void counting_vfs_read(long *syncs, long *writes)
{
    *syncs = atomic_load(&counting_vfs_syncs);
    *writes = atomic_load(&counting_vfs_writes);
}

#endif
