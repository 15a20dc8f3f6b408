/* weather.c: /weather CITY answers with the URL it would fetch. */
#include <jarvis/plugin.h>
#include <jarvis/util.h>
#include <stdio.h>

static const jv_host_api *api;

static int on_weather(jv_plugin *self, const jv_message *message,
                      void *user_data)
{
    (void)user_data;
    if (message->args[0] == '\0')
        return api->reply(message, "usage: /weather CITY");
    char city[256], url[512];
    jv_url_escape(message->args, city, sizeof city);
    snprintf(url, sizeof url, "%s?q=%s",
             api->config_get(self, "base_url", "https://wttr.in/"), city);
    return api->reply(message, url);
}

static int weather_init(jv_plugin *self, const jv_host_api *host,
                        char *err, size_t err_length)
{
    api = host;
    jv_command_spec spec = {
        .name = "weather",
        .usage = "/weather CITY",
        .help = "the weather in a city",
        .handler = on_weather,
    };
    int status = JV_REGISTER_COMMAND(api, self, &spec);
    if (status != JV_OK)
        snprintf(err, err_length, "%s", api->strerror(status));
    return status;
}

JV_PLUGIN_DEFINE("weather", "1.0.0", "weather by city",
                 JV_PLUGIN_CONCURRENT, weather_init, NULL, NULL);
