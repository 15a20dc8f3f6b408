/* The resident memory any program pays for Debian's libcurl before doing
 * anything: linked with the libraries jarvis links, it calls
 * curl_global_init (as jarvis must) and prints its VmRSS and VmHWM in KiB as
 * JSON. side_by_side.py reports it beside the bots' peak RSS, so the share
 * of jarvis's figure that is the libraries' load is measured in the same run. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static long status_kib(const char *field)
{
    FILE *status = fopen("/proc/self/status", "r");
    if (status == NULL)
        return -1;
    char line[256];
    long value = -1;
    size_t length = strlen(field);
    while (fgets(line, sizeof line, status) != NULL)
        if (strncmp(line, field, length) == 0 && line[length] == ':')
            sscanf(line + length + 1, "%ld", &value);
    fclose(status);
    return value;
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    printf("{\"rss_kib\": %ld, \"peak_rss_kib\": %ld}\n", status_kib("VmRSS"),
           status_kib("VmHWM"));
    curl_global_cleanup();
    return 0;
}
