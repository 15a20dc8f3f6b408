/* Finding, checking, loading and unloading plugins: [plugins] enable in order,
 * each file checked through its fd before dlopen, each descriptor checked
 * from the ELF file before dlopen (which runs the library's constructors)
 * and again in memory before init. A refused plugin is logged once and never
 * stops the others. */
#include "plugin/plugins.h"

#include "plugin/registry.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "plugin/host.h"
#include "base/log.h"
#include "plugin/plugin_elf.h"
#include "plugin/plugin_image.h"
#include "plugin/plugin_record.h"
#include "base/error_text.h"
#include "plugin/registration.h"
#include "plugin/services.h"
#include "config/config_schema.h"

#define REASON_SIZE 96
#define REBUILD_HINT "rebuild against include/jarvis/plugin.h"

/* The frozen head of every descriptor, whatever its major. */
struct descriptor_head {
    uint32_t magic;
    uint16_t abi_major;
    uint16_t abi_minor;
    uint32_t struct_size;
};

/* ---- descriptor checks ---- */

static int refuse(char *reason, size_t reason_size, const char *short_reason)
{
    snprintf(reason, reason_size, "%s", short_reason);
    return -1;
}

static int check_descriptor_head(const char *path, const struct descriptor_head *head,
                                 size_t descriptor_size, char *reason, size_t reason_size)
{
    if (head->magic != JV_PLUGIN_MAGIC) {
        log_error("plugin %s: refused: wrong magic: expected 0x%08" PRIX32 ", found 0x%08" PRIX32
                  "; " REBUILD_HINT,
                  path, (uint32_t)JV_PLUGIN_MAGIC, head->magic);
        return refuse(reason, reason_size, "wrong magic");
    }
    if (head->abi_major != JV_ABI_MAJOR) {
        log_error("plugin %s: refused: ABI major: expected %d, found %u; " REBUILD_HINT, path,
                  JV_ABI_MAJOR, (unsigned)head->abi_major);
        return refuse(reason, reason_size, "wrong ABI major");
    }
    if (head->abi_minor > JV_ABI_MINOR) {
        log_error("plugin %s: refused: ABI minor: expected at most %d, found %u (built for a "
                  "newer jarvis); " REBUILD_HINT " or upgrade jarvis",
                  path, JV_ABI_MINOR, (unsigned)head->abi_minor);
        return refuse(reason, reason_size, "ABI minor newer than host");
    }
    if (head->struct_size < PLUGIN_INFO_V1_SIZE) {
        log_error(
            "plugin %s: refused: descriptor struct_size: expected at least %zu, found %" PRIu32
            "; " REBUILD_HINT,
            path, PLUGIN_INFO_V1_SIZE, head->struct_size);
        return refuse(reason, reason_size, "descriptor too small");
    }
    if (head->struct_size > descriptor_size) {
        log_error("plugin %s: refused: descriptor struct_size says %" PRIu32 " bytes, found a "
                  "symbol of %zu bytes; " REBUILD_HINT,
                  path, head->struct_size, descriptor_size);
        return refuse(reason, reason_size, "descriptor size mismatch");
    }
    return 0;
}

static int check_name_matches(const char *expected_name, const char *path, const char *name,
                              char *reason, size_t reason_size)
{
    if (strcmp(name, expected_name) == 0)
        return 0;
    log_error("plugin %s: refused: descriptor name: expected '%s' (the file name), found "
              "'%s'; fix the name: file, [plugins] enable entry and descriptor must match",
              path, expected_name, name);
    return refuse(reason, reason_size, "name does not match file");
}

static int check_symbol_size(const char *path, size_t descriptor_size, char *reason,
                             size_t reason_size)
{
    if (descriptor_size >= sizeof(struct descriptor_head))
        return 0;
    log_error("plugin %s: refused: jv_plugin_descriptor is %zu bytes, expected at least "
              "%zu; " REBUILD_HINT,
              path, descriptor_size, PLUGIN_INFO_V1_SIZE);
    return refuse(reason, reason_size, "descriptor too small");
}

static int refuse_not_a_plugin(const char *path, char *reason, size_t reason_size)
{
    log_error(
        "plugin %s: refused: not a jarvis plugin: expected the symbol " JV_PLUGIN_DESCRIPTOR_SYMBOL
        ", found none; declare it with "
        "JV_PLUGIN_DEFINE and " REBUILD_HINT,
        path);
    return refuse(reason, reason_size, "not a jarvis plugin");
}

static int check_descriptor_body(struct registry *registry, const char *expected_name,
                                 const char *path, const jv_plugin_info *info, char *reason,
                                 size_t reason_size)
{
    if (!plugin_name_is_valid(info->name)) {
        log_error("plugin %s: refused: descriptor name: expected [a-z0-9_]{1,32}, found '%.40s'; "
                  "fix the name",
                  path, info->name ? info->name : "(null)");
        return refuse(reason, reason_size, "invalid name");
    }
    if (check_name_matches(expected_name, path, info->name, reason, reason_size) != 0)
        return -1;
    if (config_is_reserved_name(info->name)) {
        log_error("plugin %s: refused: name '%s' is reserved (a plugins.ini section or the "
                  "core's store namespace); fix the name",
                  path, info->name);
        return refuse(reason, reason_size, "reserved name");
    }
    if (registry_find_plugin(registry, info->name)) {
        log_error("plugin %s: refused: a plugin named '%s' is already loaded; remove the "
                  "duplicate from [plugins] enable",
                  path, info->name);
        return refuse(reason, reason_size, "already loaded");
    }
    if (!info->init) {
        log_error(
            "plugin %s: refused: descriptor init: expected a function, found NULL; " REBUILD_HINT
            " with JV_PLUGIN_DEFINE and an init",
            path);
        return refuse(reason, reason_size, "no init function");
    }
    return 0;
}

static struct jv_plugin *plugin_record_create(const char *path, const jv_plugin_info *info)
{
    struct jv_plugin *plugin = calloc(1, sizeof *plugin);
    if (!plugin)
        return NULL;
    plugin->path = strdup(path);
    if (!plugin->path) {
        free(plugin);
        return NULL;
    }
    plugin->magic = PLUGIN_RECORD_MAGIC;
    plugin->fd = -1;
    plugin->info = *info;
    snprintf(plugin->name, sizeof plugin->name, "%s", info->name);
    pthread_mutex_init(&plugin->serial, NULL);
    return plugin;
}

static int run_init(struct jv_plugin *plugin, char *reason, size_t reason_size)
{
    char error[256] = "";
    registry_set_registering(plugin, 1);
    int status =
        plugin->info.init(plugin, registry_host_api(plugin->registry), error, sizeof error);
    registry_set_registering(plugin, 0);
    if (status >= 0)
        return 0;
    error[sizeof error - 1] = '\0';
    log_error("plugin %s: refused: init failed: %s (%d): %s; its registrations were undone",
              plugin->path, error_text(status), status, *error ? error : "(no reason given)");
    snprintf(reason, reason_size, "init failed: %.60s", *error ? error : "no reason given");
    return -1;
}

struct jv_plugin *plugins_attach_descriptor(struct registry *registry, const char *expected_name,
                                            const char *path, const void *descriptor,
                                            size_t descriptor_size, char *reason,
                                            size_t reason_size)
{
    struct descriptor_head head;
    if (check_symbol_size(path, descriptor_size, reason, reason_size) != 0)
        return NULL;
    memcpy(&head, descriptor, sizeof head);
    if (check_descriptor_head(path, &head, descriptor_size, reason, reason_size) != 0)
        return NULL;
    /* Read only what the plugin declared; members it does not know stay zero. */
    jv_plugin_info info;
    memset(&info, 0, sizeof info);
    memcpy(&info, descriptor, head.struct_size < sizeof info ? head.struct_size : sizeof info);
    if (check_descriptor_body(registry, expected_name, path, &info, reason, reason_size) != 0)
        return NULL;
    struct jv_plugin *plugin = plugin_record_create(path, &info);
    if (!plugin) {
        log_error("plugin %s: refused: out of memory", path);
        refuse(reason, reason_size, "out of memory");
        return NULL;
    }
    registry_add_plugin(registry, plugin);
    if (run_init(plugin, reason, reason_size) != 0) {
        registry_drop_registrations(plugin);
        registry_remove_plugin(registry, plugin);
        plugin->magic = 0;
        pthread_mutex_destroy(&plugin->serial);
        free(plugin->path);
        free(plugin);
        return NULL;
    }
    return plugin;
}

/* ---- file checks ---- */

static int mode_is_safe(mode_t mode)
{
    return (mode & (S_IWGRP | S_IWOTH)) == 0;
}

static int owner_is_trusted(uid_t owner)
{
    return owner == 0 || owner == geteuid();
}

/* Checks the plugin directory once per load: its fd, or -1 with the problem
 * (written to problem) that every plugin in it is refused for. */
int plugins_open_dir(const char *dir, char *problem, size_t problem_size)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(problem, problem_size,
                 "plugin directory %s: %s; expected a directory; set [plugins] dir", dir,
                 strerror(errno));
        return -1;
    }
    struct stat status;
    if (fstat(fd, &status) != 0) {
        snprintf(problem, problem_size, "plugin directory %s: %s", dir, strerror(errno));
        close(fd);
        return -1;
    }
    if (!mode_is_safe(status.st_mode)) {
        snprintf(problem, problem_size,
                 "plugin directory %s is group- or world-writable (mode %04o): expected no "
                 "write access for group and others; fix with chmod go-w %s",
                 dir, (unsigned)(status.st_mode & 07777), dir);
        close(fd);
        return -1;
    }
    if (!owner_is_trusted(status.st_uid)) {
        snprintf(problem, problem_size,
                 "plugin directory %s is owned by uid %u: expected root or uid %u (the user "
                 "running jarvis); fix with chown",
                 dir, (unsigned)status.st_uid, (unsigned)geteuid());
        close(fd);
        return -1;
    }
    return fd;
}

static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

/* Opens <dir>/<name>.so and checks it; the fd is what gets loaded. */
static void report_open_failure(int error, const char *path, char *reason, size_t reason_size)
{
    if (error == ENOENT) {
        log_error("plugin %s: refused: no such file: expected the built plugin there; build "
                  "it (make) or fix the name in [plugins] enable",
                  path);
        refuse(reason, reason_size, "file not found");
    } else if (error == ELOOP) {
        log_error("plugin %s: refused: expected a regular file, found a symbolic link; "
                  "copy the plugin itself into the plugin directory",
                  path);
        refuse(reason, reason_size, "symbolic link");
    } else {
        log_error("plugin %s: refused: cannot open: %s", path, strerror(error));
        refuse(reason, reason_size, "cannot open");
    }
}

/* The opened file must be a regular file nobody else may rewrite: 0, or -1
 * after logging why and writing the short reason. */
static int check_opened_file(int fd, const char *path, char *reason, size_t reason_size)
{
    struct stat status;
    if (fstat(fd, &status) != 0) {
        log_error("plugin %s: refused: cannot stat: %s", path, strerror(errno));
        refuse(reason, reason_size, "cannot stat");
        return -1;
    }
    if (!S_ISREG(status.st_mode)) {
        log_error("plugin %s: refused: expected a regular file, found %s; fix the name", path,
                  file_kind(status.st_mode));
        refuse(reason, reason_size, "not a regular file");
        return -1;
    }
    if (!mode_is_safe(status.st_mode)) {
        log_error("plugin %s: refused: file is group- or world-writable (mode %04o): expected no "
                  "write access for group and others; fix with chmod go-w %s",
                  path, (unsigned)(status.st_mode & 07777), path);
        refuse(reason, reason_size, "writable by group or others");
        return -1;
    }
    if (!owner_is_trusted(status.st_uid)) {
        log_error("plugin %s: refused: owned by uid %u: expected root or uid %u (the user "
                  "running jarvis); fix with chown",
                  path, (unsigned)status.st_uid, (unsigned)geteuid());
        refuse(reason, reason_size, "untrusted owner");
        return -1;
    }
    return 0;
}

static int open_plugin_file(int dir_fd, const char *path, const char *file_name, char *reason,
                            size_t reason_size)
{
    /* O_NONBLOCK: a FIFO planted under the name must not hang the start. */
    int fd = openat(dir_fd, file_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        report_open_failure(errno, path, reason, reason_size);
        return -1;
    }
    if (check_opened_file(fd, path, reason, reason_size) != 0)
        goto refused;
    return fd;
refused:
    close(fd);
    return -1;
}

/* The descriptor symbol's size from the ELF symbol table, so a short symbol is
 * never read past its end. */
static size_t symbol_size(const void *address)
{
    Dl_info info;
    const ElfW(Sym) *symbol = NULL;
    if (!dladdr1(address, &info, (void **)&symbol, RTLD_DL_SYMENT) || !symbol)
        return 0;
    return (size_t)symbol->st_size;
}

/* The descriptor's head and name as the ELF file holds them, checked like
 * the loaded descriptor will be: a mismatch is refused before dlopen runs
 * any of the library's code (its constructors). A file this reader cannot
 * follow is left to dlopen and the checks after it. */
static int check_file_descriptor(const char *expected_name, const char *path, int fd, char *reason,
                                 size_t reason_size)
{
    _Static_assert(sizeof(struct descriptor_head) == PLUGIN_ELF_HEAD_SIZE,
                   "PLUGIN_ELF_HEAD_SIZE must match the frozen descriptor head");
    struct plugin_elf_descriptor found;
    enum plugin_elf_result result = plugin_elf_read_descriptor(
        fd, JV_PLUGIN_DESCRIPTOR_SYMBOL, offsetof(jv_plugin_info, name), &found);
    if (result == PLUGIN_ELF_NO_DESCRIPTOR)
        return refuse_not_a_plugin(path, reason, reason_size);
    if (result != PLUGIN_ELF_READ)
        return 0;
    if (check_symbol_size(path, found.symbol_size, reason, reason_size) != 0)
        return -1;
    struct descriptor_head head;
    memcpy(&head, found.head, sizeof head);
    if (check_descriptor_head(path, &head, found.symbol_size, reason, reason_size) != 0)
        return -1;
    if (found.name_known && plugin_name_is_valid(found.name))
        return check_name_matches(expected_name, path, found.name, reason, reason_size);
    return 0;
}

/* dlopen through /proc/self/fd so the file checked is the file loaded. */
static void *open_library(int fd, const char *path, char *reason, size_t reason_size)
{
    char proc_path[64];
    snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
    void *handle = dlopen(proc_path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *error = dlerror();
        /* dlerror names the /proc alias; the user needs the real file. */
        size_t alias_length = strlen(proc_path);
        if (error && strncmp(error, proc_path, alias_length) == 0 && error[alias_length] == ':' &&
            error[alias_length + 1] == ' ')
            error += alias_length + 2;
        log_error("plugin %s: refused: dlopen failed: %s; check its dependencies with ldd %s", path,
                  error ? error : "unknown error", path);
        refuse(reason, reason_size, "dlopen failed");
    }
    return handle;
}

/* A build checked and mapped but not started: what a reload prepares for
 * every plugin it swaps in before it unloads anything. */
struct plugin_build {
    char name[PLUGIN_NAME_MAX + 1];
    char *path;
    int fd;
    void *handle;
    int handle_is_shared; /* a previous record's image, restarted: never dlclose */
    const void *descriptor;
    size_t descriptor_size;
    uint64_t content_hash;
    dev_t file_device;
    ino_t file_inode;
};

void plugins_discard_build(struct plugin_build *build)
{
    if (!build)
        return;
    if (build->handle && !build->handle_is_shared)
        dlclose(build->handle);
    if (build->fd >= 0)
        close(build->fd);
    free(build->path);
    free(build);
}

/* The file's identity. dlopen hands back the image already loaded from the
 * same inode: fine when the bytes are those of that image (the same build
 * started again), refused when they differ, as the file was then written
 * over in place, under the running code. */
static int identify_file(struct registry *registry, struct plugin_build *build, char *reason,
                         size_t reason_size)
{
    struct stat status;
    if (fstat(build->fd, &status) != 0 || plugin_image_hash(build->fd, &build->content_hash) != 0) {
        log_error("plugin %s: refused: cannot read: %s", build->path, strerror(errno));
        return refuse(reason, reason_size, "cannot read");
    }
    build->file_device = status.st_dev;
    build->file_inode = status.st_ino;
    uint64_t mapped_hash = 0;
    if (registry_mapped_file_hash(registry, status.st_dev, status.st_ino, &mapped_hash) &&
        mapped_hash != build->content_hash) {
        log_error("plugin %s: refused: the file was written over in place while its earlier "
                  "build is mapped; install new builds by rename (install, or cp to a "
                  "temporary name and mv), and restart jarvis",
                  build->path);
        return refuse(reason, reason_size, "written in place");
    }
    return 0;
}

static int find_descriptor(struct plugin_build *build, char *reason, size_t reason_size)
{
    dlerror();
    build->descriptor = dlsym(build->handle, JV_PLUGIN_DESCRIPTOR_SYMBOL);
    if (!build->descriptor) {
        log_error("plugin %s: refused: not a jarvis plugin: expected the "
                  "symbol " JV_PLUGIN_DESCRIPTOR_SYMBOL ", found none; declare it with "
                  "JV_PLUGIN_DEFINE and " REBUILD_HINT,
                  build->path);
        return refuse(reason, reason_size, "not a jarvis plugin");
    }
    build->descriptor_size = symbol_size(build->descriptor);
    struct descriptor_head head;
    if (build->descriptor_size < sizeof head) {
        log_error("plugin %s: refused: jv_plugin_descriptor is %zu bytes, expected at least "
                  "%zu; " REBUILD_HINT,
                  build->path, build->descriptor_size, PLUGIN_INFO_V1_SIZE);
        return refuse(reason, reason_size, "descriptor too small");
    }
    memcpy(&head, build->descriptor, sizeof head);
    return check_descriptor_head(build->path, &head, build->descriptor_size, reason, reason_size);
}

struct plugin_build *plugins_prepare_build(struct registry *registry, int dir_fd, const char *dir,
                                           const char *name, char *reason, size_t reason_size)
{
    struct plugin_build *build = calloc(1, sizeof *build);
    char file_name[PLUGIN_NAME_MAX + 8];
    snprintf(file_name, sizeof file_name, "%s.so", name);
    if (!build || asprintf(&build->path, "%s/%s", dir, file_name) < 0) {
        free(build);
        refuse(reason, reason_size, "out of memory");
        return NULL;
    }
    snprintf(build->name, sizeof build->name, "%s", name);
    build->fd = open_plugin_file(dir_fd, build->path, file_name, reason, reason_size);
    int ok = build->fd >= 0 && identify_file(registry, build, reason, reason_size) == 0;
    /* the descriptor is read from the file before dlopen runs any of its code */
    ok = ok && check_file_descriptor(name, build->path, build->fd, reason, reason_size) == 0;
    if (ok)
        build->handle = open_library(build->fd, build->path, reason, reason_size);
    ok = ok && build->handle && find_descriptor(build, reason, reason_size) == 0;
    if (!ok) {
        plugins_discard_build(build);
        return NULL;
    }
    return build;
}

struct jv_plugin *plugins_start_build(struct registry *registry, struct plugin_build *build,
                                      char *reason, size_t reason_size)
{
    struct jv_plugin *plugin =
        plugins_attach_descriptor(registry, build->name, build->path, build->descriptor,
                                  build->descriptor_size, reason, reason_size);
    if (!plugin) {
        plugins_discard_build(build);
        return NULL;
    }
    /* The fd stays open: a reused /proc/self/fd/N name would make dlopen
     * hand back the earlier library. */
    plugin->handle = build->handle;
    plugin->fd = build->fd;
    plugin->content_hash = build->content_hash;
    plugin->file_device = build->file_device;
    plugin->file_inode = build->file_inode;
    free(build->path);
    free(build);
    return plugin;
}

struct plugin_build *plugins_rebuild_from(const struct jv_plugin *previous, char *reason,
                                          size_t reason_size)
{
    struct plugin_build *build = calloc(1, sizeof *build);
    if (!build || !(build->path = strdup(previous->path))) {
        free(build);
        refuse(reason, reason_size, "out of memory");
        return NULL;
    }
    snprintf(build->name, sizeof build->name, "%s", previous->name);
    build->fd = previous->fd >= 0 ? dup(previous->fd) : -1;
    build->handle = previous->handle;
    build->handle_is_shared = 1;
    build->content_hash = previous->content_hash;
    build->file_device = previous->file_device;
    build->file_inode = previous->file_inode;
    if (!build->handle || find_descriptor(build, reason, reason_size) != 0) {
        plugins_discard_build(build);
        return NULL;
    }
    return build;
}

static struct jv_plugin *load_file(struct registry *registry, int dir_fd, const char *dir,
                                   const char *name, char *reason, size_t reason_size)
{
    struct plugin_build *build =
        plugins_prepare_build(registry, dir_fd, dir, name, reason, reason_size);
    return build ? plugins_start_build(registry, build, reason, reason_size) : NULL;
}

/* ---- load all ---- */

struct load_summary {
    char *loaded;  /* "a, b" */
    char *refused; /* "c: reason, d: reason" */
    size_t loaded_count;
    size_t refused_count;
};

static void append_item(char **list, const char *item)
{
    char *joined = NULL;
    if (asprintf(&joined, "%s%s%s", *list ? *list : "", *list ? ", " : "", item) < 0)
        return;
    free(*list);
    *list = joined;
}

static void note_refused(struct load_summary *summary, const char *name, const char *reason)
{
    char item[PLUGIN_NAME_MAX + REASON_SIZE + 64];
    snprintf(item, sizeof item, "%.60s: %s", name, reason);
    append_item(&summary->refused, item);
    summary->refused_count++;
}

static void load_entry(struct registry *registry, int dir_fd, const char *dir,
                       const char *dir_problem, const char *name, struct load_summary *summary)
{
    char reason[REASON_SIZE] = "";
    if (!plugin_name_is_valid(name)) {
        log_error("plugin '%.60s' in [plugins] enable: refused: expected a name matching "
                  "[a-z0-9_]{1,32}; fix the name",
                  name);
        note_refused(summary, name, "invalid name");
        return;
    }
    if (dir_problem) {
        log_error("plugin %s/%s.so: refused: %s", dir, name, dir_problem);
        note_refused(summary, name, "unsafe or missing plugin directory");
        return;
    }
    struct jv_plugin *plugin = load_file(registry, dir_fd, dir, name, reason, sizeof reason);
    if (!plugin) {
        note_refused(summary, name, reason);
        return;
    }
    log_info("plugin %s loaded: %s %s", plugin->path, plugin->name,
             plugin->info.version ? plugin->info.version : "");
    append_item(&summary->loaded, name);
    summary->loaded_count++;
}

/* [plugins] dir lists directories separated by ':'; the first one holding
 * <name>.so wins (a local directory before the system one). When none has
 * it, the first directory is the one named in the refusal. */
void plugins_choose_dir(const char *dirs, const char *name, char *dir, size_t dir_size)
{
    char file_name[PLUGIN_NAME_MAX + 8];
    snprintf(file_name, sizeof file_name, "%.*s.so", PLUGIN_NAME_MAX, name);
    size_t chosen_length = strcspn(dirs, ":");
    const char *chosen = dirs;
    for (const char *entry = dirs; *entry != '\0';) {
        size_t length = strcspn(entry, ":");
        char path[PATH_MAX];
        if (length > 0 &&
            snprintf(path, sizeof path, "%.*s/%s", (int)length, entry, file_name) <
                (int)sizeof path &&
            faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
            chosen = entry;
            chosen_length = length;
            break;
        }
        entry += length + (entry[length] == ':');
    }
    snprintf(dir, dir_size, "%.*s", (int)chosen_length, chosen);
}

static void load_from_first_dir(struct registry *registry, const char *dirs, const char *name,
                                struct load_summary *summary)
{
    char dir[PATH_MAX];
    plugins_choose_dir(dirs, name, dir, sizeof dir);
    char dir_problem[3 * PATH_MAX + 512] = ""; /* the message names dir up to three times */
    int dir_fd = plugins_open_dir(dir, dir_problem, sizeof dir_problem);
    load_entry(registry, dir_fd, dir, dir_fd < 0 ? dir_problem : NULL, name, summary);
    if (dir_fd >= 0)
        close(dir_fd);
}

void plugins_run_post_init(struct registry *registry)
{
    plugins_run_post_init_from(registry, 0);
}

void plugins_run_post_init_from(struct registry *registry, size_t first_load_index)
{
    size_t count = registry_plugin_count(registry);
    for (size_t i = 0; i < count; i++) {
        struct jv_plugin *plugin = registry_plugin_at(registry, i);
        if (!plugin || !plugin->info.post_init || plugin->load_index < first_load_index)
            continue;
        registry_set_registering(plugin, 1);
        int status = plugin->info.post_init(plugin);
        registry_set_registering(plugin, 0);
        if (status < 0)
            log_warn("plugin '%s': post_init failed: %s (%d); it stays loaded", plugin->name,
                     error_text(status), status);
    }
}

void plugins_load_all(struct registry *registry, size_t *loaded, size_t *refused)
{
    struct host *host = registry_host(registry);
    const struct config *config = host ? host->config : NULL;
    struct load_summary summary = {0};
    if (config && config->enable_count > 0) {
        const char *dirs =
            config->plugin_dir && *config->plugin_dir ? config->plugin_dir : "plugins";
        for (size_t i = 0; i < config->enable_count; i++)
            load_from_first_dir(registry, dirs, config->enable[i], &summary);
    }
    if (summary.refused_count > 0)
        log_warn("plugins: loaded %zu (%s), refused %zu (%s)", summary.loaded_count,
                 summary.loaded ? summary.loaded : "", summary.refused_count,
                 summary.refused ? summary.refused : "");
    else
        log_info("plugins: loaded %zu (%s), refused 0", summary.loaded_count,
                 summary.loaded ? summary.loaded : "");
    free(summary.loaded);
    free(summary.refused);
    plugins_run_post_init(registry);
    if (loaded)
        *loaded = summary.loaded_count;
    if (refused)
        *refused = summary.refused_count;
}

/* ---- unload ---- */

static int64_t shutdown_grace_ms(struct registry *registry)
{
    struct host *host = registry_host(registry);
    return config_shutdown_grace_ms(host != NULL ? host->config : NULL);
}

int plugins_unload_one(struct registry *registry, struct jv_plugin *plugin)
{
    int64_t grace = shutdown_grace_ms(registry);
    if (registry_quiesce_plugin(plugin, grace) != 0) {
        /* Freeing what a running callback uses would crash; leaking is safe. */
        log_error("plugin '%s': callbacks still running after %" PRId64 " ms; skipping its "
                  "shutdown and destructors",
                  plugin->name, grace);
        registry_mark_unloaded(plugin);
        return -1;
    }
    if (plugin->info.shutdown)
        plugin->info.shutdown(plugin);
    registry_drop_registrations(plugin);
    registry_mark_unloaded(plugin);
    log_debug("plugin '%s' unloaded", plugin->name);
    return 0;
}

void plugins_unload_all(struct registry *registry)
{
    if (!registry)
        return;
    struct jv_plugin *plugin;
    while ((plugin = registry_next_to_unload(registry)) != NULL)
        plugins_unload_one(registry, plugin);
}
