/* botapi_load: measures the ceiling of bench/fake_botapi, i.e. how many
 * sendMessage calls a second it answers, from a few kept-alive connections
 * driven by one epoll thread (one request in flight per connection, as a bot).
 * With --threads, a blocking thread a connection instead (send, poll, recv),
 * as jarvis's sender was before its send loop: run both under `time` (or
 * with getrusage, as bench/README.md shows) to see what each costs a call.
 *
 * Usage: botapi_load PORT TOKEN [CONNECTIONS=8] [SECONDS=3] [--threads]
 * Prints one JSON line: {"calls":N,"seconds":S,"calls_per_s":R,"errors":E}. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 256

typedef struct {
    int fd;
    char response[16384];
    size_t length;
} client;

static double now_s(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) < 0) {
        fprintf(stderr, "botapi_load: connect 127.0.0.1:%d: %s\n", port, strerror(errno));
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static bool send_request(client *target, const char *request, size_t length)
{
    target->length = 0;
    return send(target->fd, request, length, MSG_NOSIGNAL) == (ssize_t)length;
}

/* True once the buffered bytes hold one whole response (headers + Content-Length). */
static bool response_complete(const client *source, bool *ok)
{
    const char *header_end = memmem(source->response, source->length, "\r\n\r\n", 4);
    if (!header_end)
        return false;
    const char *length_header = strstr(source->response, "Content-Length: ");
    size_t body = length_header ? strtoul(length_header + 16, NULL, 10) : 0;
    size_t have = source->length - (size_t)(header_end + 4 - source->response);
    *ok = strncmp(source->response, "HTTP/1.1 200", 12) == 0;
    return have >= body;
}

/* ---- --threads: one blocking thread a connection ---- */

struct blocking_run {
    int port;
    const char *request;
    size_t length;
    double ends;
    atomic_long calls, errors;
};

static void *blocking_client(void *argument)
{
    struct blocking_run *run = argument;
    client *self = calloc(1, sizeof *self);
    if (self == NULL)
        return NULL;
    self->fd = connect_to(run->port);
    while (now_s() < run->ends) {
        if (!send_request(self, run->request, run->length))
            break;
        bool ok = false, complete = false;
        while (!complete) {
            struct pollfd wait = {.fd = self->fd, .events = POLLIN};
            poll(&wait, 1, 1000);
            ssize_t got = recv(self->fd, self->response + self->length,
                               sizeof self->response - self->length - 1, MSG_DONTWAIT);
            if (got < 0 && errno == EAGAIN)
                continue;
            if (got <= 0)
                goto done;
            self->length += (size_t)got;
            self->response[self->length] = '\0';
            complete = response_complete(self, &ok);
        }
        atomic_fetch_add(&run->calls, 1);
        if (!ok)
            atomic_fetch_add(&run->errors, 1);
    }
done:
    close(self->fd);
    free(self);
    return NULL;
}

static int run_threads(int port, const char *request, size_t length, int count, double seconds)
{
    static pthread_t threads[MAX_CONNECTIONS];
    struct blocking_run run = {.port = port, .request = request, .length = length};
    double started = now_s();
    run.ends = started + seconds;
    for (int i = 0; i < count; i++)
        if (pthread_create(&threads[i], NULL, blocking_client, &run) != 0)
            return 1;
    for (int i = 0; i < count; i++)
        pthread_join(threads[i], NULL);
    double elapsed = now_s() - started;
    long calls = atomic_load(&run.calls);
    printf("{\"calls\":%ld,\"seconds\":%.3f,\"calls_per_s\":%.0f,\"errors\":%ld}\n", calls,
           elapsed, (double)calls / elapsed, atomic_load(&run.errors));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: botapi_load PORT TOKEN [CONNECTIONS] [SECONDS]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    int count = argc > 3 ? atoi(argv[3]) : 8;
    double seconds = argc > 4 ? atof(argv[4]) : 3;
    if (count < 1 || count > MAX_CONNECTIONS || seconds <= 0) {
        fprintf(stderr, "botapi_load: 1..%d connections and a positive duration\n",
                MAX_CONNECTIONS);
        return 2;
    }
    const char *body = "{\"chat_id\":1,\"text\":\"pong\"}";
    char request[1024];
    int length = snprintf(request, sizeof request,
                          "POST /bot%s/sendMessage HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                          argv[2], strlen(body), body);
    if (argc > 5 && strcmp(argv[5], "--threads") == 0)
        return run_threads(port, request, (size_t)length, count, seconds);
    static client clients[MAX_CONNECTIONS];
    int epoll_fd = epoll_create1(0);
    for (int i = 0; i < count; i++) {
        clients[i].fd = connect_to(port);
        struct epoll_event event = {.events = EPOLLIN, .data.ptr = &clients[i]};
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, clients[i].fd, &event);
        send_request(&clients[i], request, (size_t)length);
    }
    long calls = 0, errors = 0;
    double started = now_s(), ends = started + seconds;
    struct epoll_event events[MAX_CONNECTIONS];
    while (now_s() < ends) {
        int ready = epoll_wait(epoll_fd, events, MAX_CONNECTIONS, 100);
        for (int i = 0; i < ready; i++) {
            client *source = events[i].data.ptr;
            ssize_t got = recv(source->fd, source->response + source->length,
                               sizeof source->response - source->length - 1, 0);
            if (got <= 0) {
                fprintf(stderr, "botapi_load: the server closed a connection\n");
                return 1;
            }
            source->length += (size_t)got;
            source->response[source->length] = '\0';
            bool ok;
            if (!response_complete(source, &ok))
                continue;
            calls++;
            errors += !ok;
            if (!send_request(source, request, (size_t)length))
                return 1;
        }
    }
    double elapsed = now_s() - started;
    printf("{\"calls\":%ld,\"seconds\":%.3f,\"calls_per_s\":%.0f,\"errors\":%ld}\n", calls,
           elapsed, (double)calls / elapsed, errors);
    for (int i = 0; i < count; i++)
        close(clients[i].fd);
    close(epoll_fd);
    return 0;
}
