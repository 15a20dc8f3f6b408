/* The plugin scaffold: a complete, buildable plugin named by the user, with
 * the build line that compiles it against an installed jarvis. */
#include "plugin/scaffold.h"

#include "config/config.h"
#include "plugin/plugin_record.h"
#include "config/config_schema.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

/* "@" stands for the plugin's name. */
static const char template_text[] =
    "/* @: a jarvis plugin. /@ <text> answers with the text; [@] greeting\n"
    " * in plugins.ini changes the word in front of it. Build and enable:\n"
    " *   cc -shared -fPIC $(pkg-config --cflags jarvis) -o @.so @.c\n"
    " *   install -m 0644 @.so \"$(pkg-config --variable=plugindir jarvis)\"\n"
    " *   then add @ to [plugins] enable and run `jarvis check`. */\n"
    "#include <jarvis/plugin.h>\n"
    "#include <jarvis/util.h>\n"
    "\n"
    "#include <stdio.h>\n"
    "\n"
    "/* Valid until the plugin unloads, so keeping it is allowed. */\n"
    "static const jv_host_api *api;\n"
    "\n"
    "static int on_command(jv_plugin *self, const jv_message *message, void *user_data)\n"
    "{\n"
    "    (void)user_data;\n"
    "    if (message->args[0] == '\\0')\n"
    "        return api->reply(message, \"usage: /@ <text>\");\n"
    "    /* config values stay valid until unload; message text only until we return */\n"
    "    const char *greeting = api->config_get(self, \"greeting\", \"@ says\");\n"
    "    char escaped[256];\n"
    "    jv_url_escape(message->args, escaped, sizeof escaped); /* for a URL you would build */\n"
    "    api->log(self, JV_LOG_DEBUG, \"query would be ?q=%s\", escaped);\n"
    "    char text[1024];\n"
    "    snprintf(text, sizeof text, \"%s: %s\", greeting, message->args);\n"
    "    return api->reply(message, text);\n"
    "}\n"
    "\n"
    "static int plugin_init(jv_plugin *self, const jv_host_api *host, char *err, size_t "
    "err_length)\n"
    "{\n"
    "    api = host;\n"
    "    /* The host copies the spec, strings included: the stack is fine.\n"
    "     * JV_REGISTER_COMMAND passes its size (no struct_size to set). */\n"
    "    jv_command_spec command = {\n"
    "        .name = \"@\",\n"
    "        .usage = \"/@ <text>\",\n"
    "        .help = \"answer with the text\",\n"
    "        .handler = on_command,\n"
    "    };\n"
    "    int status = JV_REGISTER_COMMAND(api, self, &command);\n"
    "    if (status != JV_OK)\n"
    "        snprintf(err, err_length, \"cannot register /@: %s\", api->strerror(status));\n"
    "    return status;\n"
    "}\n"
    "\n"
    "JV_PLUGIN_DEFINE(\"@\", \"0.1.0\", \"/@ answers with its text\", JV_PLUGIN_CONCURRENT,\n"
    "                 plugin_init, NULL, NULL);\n";

static int write_all(int fd, const char *text, size_t length)
{
    while (length > 0) {
        ssize_t written = write(fd, text, length);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return -1;
        text += written;
        length -= (size_t)written;
    }
    return 0;
}

static int write_template(int fd, const char *name)
{
    size_t name_length = strlen(name);
    for (const char *p = template_text; *p != '\0';) {
        size_t plain = strcspn(p, "@");
        if (write_all(fd, p, plain) != 0)
            return -1;
        p += plain;
        if (*p == '@') {
            if (write_all(fd, name, name_length) != 0)
                return -1;
            p++;
        }
    }
    return 0;
}

int scaffold_write(const char *name, const char *directory)
{
    if (!plugin_name_is_valid(name) || config_is_reserved_name(name)) {
        fprintf(stderr,
                "jarvis: new-plugin: invalid name '%.40s' (expected 1-32 characters "
                "a-z 0-9 _, not bot, lock, metrics, plugins or core)\n",
                name);
        return EX_USAGE;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.c", directory != NULL ? directory : ".", name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "jarvis: new-plugin: %s: %s%s\n", path, strerror(errno),
                errno == EEXIST ? " (not overwritten)" : "");
        return EX_CANTCREAT;
    }
    int failed = write_template(fd, name) != 0;
    failed |= close(fd) != 0;
    if (failed) {
        fprintf(stderr, "jarvis: new-plugin: %s: cannot write: %s\n", path, strerror(errno));
        unlink(path);
        return EX_CANTCREAT;
    }
    printf("wrote %s; build it with:\n"
           "  cc -shared -fPIC $(pkg-config --cflags jarvis) -o %s.so %s\n",
           path, name, path);
    return 0;
}
