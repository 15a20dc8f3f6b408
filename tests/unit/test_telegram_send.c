/* Unit tests for core/telegram_send.c's sender, through real libcurl against
 * a small Bot API server on 127.0.0.1 (a thread per kept-alive connection)
 * that records every sendMessage: when it arrived, how many were in flight,
 * whether one chat ever had two at once, and answers 429 / 5xx / migrate /
 * topic / refusal the way Telegram does. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <jarvis/plugin.h>

#include "base/clock.h"
#include "base/log.h"
#include "transport/telegram/telegram_send.h"

#define TOKEN "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
#define REQUEST_MAX 65536
#define CONNECTIONS_MAX 256
#define IN_FLIGHT_MAX 64
#define MIGRATED_GROUP (-4001)
#define SUPERGROUP (-1001557912345)
#define CLOSED_TOPIC 77
#define FLUSH_MS 30000

/* ---- the fake Bot API ---- */

struct arrival {
    int64_t chat_id;
    int64_t thread_id; /* 0 when the request named none */
    char text[64];
    int64_t at_ms;
    int edit; /* editMessageText, not sendMessage */
};

struct fake_server {
    int listener;
    int port;
    pthread_t acceptor;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int stopping;
    int64_t delay_ms;
    int64_t slow_text_ms; /* the answer to a text starting "slow:" waits this long */
    int accept_paused;    /* the acceptor takes no connection: new ones queue, then stall */
    struct arrival *arrivals;
    size_t arrival_count, arrival_capacity;
    int in_flight, max_in_flight;
    int64_t in_flight_chats[IN_FLIGHT_MAX];
    int same_chat_overlaps;
    pthread_t connections[CONNECTIONS_MAX];
    int connection_fds[CONNECTIONS_MAX];
    int connection_count;
};

static struct fake_server server;

/* The caller's side: what the callback reported. */
struct report {
    int64_t chat_id;
    enum send_outcome outcome;
    int64_t sent_message_id;
    int calls;
    int64_t at_ms; /* when it was reported */
};

struct recorder {
    pthread_mutex_t lock;
    struct report *reports; /* indexed by outbox_id */
    size_t capacity;
    size_t calls;
    size_t bad_calls; /* out-of-range ids, or the message no longer counted */
    struct telegram_sender *sender;
};

static struct recorder recorder;

/* cmocka's asserts may only run on the test's thread; elsewhere a broken
 * fixture aborts the binary, which fails the run just as surely. */
static void require(int condition, const char *what)
{
    if (!condition) {
        fprintf(stderr, "test_telegram_send: fixture failure: %s\n", what);
        abort();
    }
}

static void send_all(int fd, const char *bytes, size_t length)
{
    while (length > 0) {
        ssize_t sent = send(fd, bytes, length, MSG_NOSIGNAL);
        if (sent <= 0)
            return;
        bytes += sent;
        length -= (size_t)sent;
    }
}

/* One send per answer: head and body in two would wait on Nagle and the
 * client's delayed ACK, 40 ms a request. */
static void respond(int fd, int status, const char *reason, const char *type, const char *body)
{
    char answer[1024];
    int length = snprintf(answer, sizeof answer,
                          "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
                          status, reason, type, strlen(body), body);
    require(length > 0 && (size_t)length < sizeof answer, "an answer too long for the buffer");
    send_all(fd, answer, (size_t)length);
}

static size_t content_length(const char *headers)
{
    const char *field = strcasestr(headers, "\r\ncontent-length:");
    return field != NULL ? (size_t)strtoul(field + 17, NULL, 10) : 0;
}

/* One request of a kept-alive connection; 0 when the client left. */
static size_t read_request(int fd, char *buffer, size_t size, const char **body)
{
    size_t length = 0;
    for (;;) {
        ssize_t got = recv(fd, buffer + length, size - 1 - length, 0);
        if (got <= 0)
            return 0;
        length += (size_t)got;
        buffer[length] = '\0';
        char *header_end = strstr(buffer, "\r\n\r\n");
        if (header_end != NULL && length >= (size_t)(header_end + 4 - buffer) + content_length(buffer)) {
            *body = header_end + 4;
            return length;
        }
        if (length >= size - 1)
            return 0;
    }
}

/* How often this text arrived before (for "fail the first N times" rules). */
static size_t earlier_arrivals(const char *text)
{
    size_t count = 0;
    for (size_t i = 0; i + 1 < server.arrival_count; i++)
        count += strcmp(server.arrivals[i].text, text) == 0;
    return count;
}

static void record_arrival(int64_t chat_id, int64_t thread_id, const char *text, int edit)
{
    if (server.arrival_count == server.arrival_capacity) {
        server.arrival_capacity = server.arrival_capacity ? server.arrival_capacity * 2 : 256;
        server.arrivals = realloc(server.arrivals, server.arrival_capacity * sizeof *server.arrivals);
        require(server.arrivals != NULL, "out of memory recording an arrival");
    }
    struct arrival *arrival = &server.arrivals[server.arrival_count++];
    arrival->chat_id = chat_id;
    arrival->thread_id = thread_id;
    snprintf(arrival->text, sizeof arrival->text, "%s", text);
    arrival->at_ms = monotonic_ms();
    arrival->edit = edit;
    for (int i = 0; i < server.in_flight; i++)
        if (server.in_flight_chats[i] == chat_id)
            server.same_chat_overlaps++;
    if (server.in_flight < IN_FLIGHT_MAX)
        server.in_flight_chats[server.in_flight] = chat_id;
    server.in_flight++;
    if (server.in_flight > server.max_in_flight)
        server.max_in_flight = server.in_flight;
}

static void leave_flight(int64_t chat_id)
{
    for (int i = 0; i < server.in_flight && i < IN_FLIGHT_MAX; i++)
        if (server.in_flight_chats[i] == chat_id) {
            server.in_flight_chats[i] = server.in_flight_chats[server.in_flight - 1];
            break;
        }
    server.in_flight--;
    pthread_cond_broadcast(&server.changed);
}

/* Telegram's answers; which one is chosen by the test's chat, topic or text. */
static void answer_send_message(int fd, int64_t chat_id, int64_t thread_id, const char *text,
                                size_t earlier, size_t message_id)
{
    char body[512];
    if (strncmp(text, "same:", 5) == 0) {
        respond(fd, 400, "Bad Request", "application/json",
                "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: message is "
                "not modified: specified new message content and reply markup are exactly the "
                "same as a current content and reply markup of the message\"}");
    } else if (strncmp(text, "flood:", 6) == 0 && earlier == 0) {
        respond(fd, 429, "Too Many Requests", "application/json",
                "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry "
                "after 1\",\"parameters\":{\"retry_after\":1}}");
    } else if (strncmp(text, "outage:", 7) == 0 && earlier < 2) {
        respond(fd, 502, "Bad Gateway", "text/html", "<html><body>502 Bad Gateway</body></html>");
    } else if (strncmp(text, "refuse:", 7) == 0) {
        respond(fd, 403, "Forbidden", "application/json",
                "{\"ok\":false,\"error_code\":403,\"description\":\"Forbidden: bot was blocked by "
                "the user\"}");
    } else if (chat_id == MIGRATED_GROUP) {
        snprintf(body, sizeof body,
                 "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: group chat was "
                 "upgraded to a supergroup chat\",\"parameters\":{\"migrate_to_chat_id\":%" PRId64
                 "}}",
                 (int64_t)SUPERGROUP);
        respond(fd, 400, "Bad Request", "application/json", body);
    } else if (thread_id == CLOSED_TOPIC) {
        respond(fd, 400, "Bad Request", "application/json",
                "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: message thread "
                "not found\"}");
    } else if (strncmp(text, "date-first:", 11) == 0) {
        /* valid JSON in another key order: the message id is not at the head */
        snprintf(body, sizeof body,
                 "{\"ok\":true,\"result\":{\"date\":1700000000,\"message_id\":%zu,"
                 "\"chat\":{\"id\":%" PRId64 ",\"type\":\"private\"},\"text\":\"ok\"}}",
                 1000 + server.arrival_count, chat_id);
        respond(fd, 200, "OK", "application/json", body);
    } else {
        snprintf(body, sizeof body,
                 "{\"ok\":true,\"result\":{\"message_id\":%zu,\"date\":1700000000,\"chat\":{\"id\":"
                 "%" PRId64 ",\"type\":\"private\"},\"text\":\"ok\"}}",
                 message_id, chat_id);
        respond(fd, 200, "OK", "application/json", body);
    }
}

static void handle_request(int fd, const char *request, const char *body)
{
    if (strncmp(request, "POST /bot" TOKEN "/sendMessage ", strlen("POST /bot" TOKEN "/sendMessage ")) != 0 &&
        strncmp(request, "POST /bot" TOKEN "/editMessageText ",
                strlen("POST /bot" TOKEN "/editMessageText ")) != 0) {
        respond(fd, 404, "Not Found", "application/json",
                "{\"ok\":false,\"error_code\":404,\"description\":\"Not Found\"}");
        return;
    }
    json_t *root = json_loads(body, 0, NULL);
    json_t *chat = json_object_get(root, "chat_id");
    json_t *text = json_object_get(root, "text");
    if (!json_is_integer(chat) || !json_is_string(text)) {
        json_decref(root);
        respond(fd, 400, "Bad Request", "application/json",
                "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: message text is "
                "empty\"}");
        return;
    }
    int64_t chat_id = json_integer_value(chat);
    int64_t thread_id = json_integer_value(json_object_get(root, "message_thread_id"));
    pthread_mutex_lock(&server.lock);
    int edit = strncmp(request, "POST /bot" TOKEN "/editMessageText ",
                       strlen("POST /bot" TOKEN "/editMessageText ")) == 0;
    record_arrival(chat_id, thread_id, json_string_value(text), edit);
    size_t message_id = server.arrival_count; /* read under the lock (ThreadSanitizer) */
    size_t earlier = strchr(json_string_value(text), ':') ? earlier_arrivals(json_string_value(text)) : 0;
    int64_t delay_ms = strncmp(json_string_value(text), "slow:", 5) == 0 && server.slow_text_ms > 0
                           ? server.slow_text_ms
                           : server.delay_ms;
    struct timespec wake = monotonic_deadline_after(delay_ms);
    while (delay_ms > 0 && !server.stopping &&
           pthread_cond_timedwait(&server.changed, &server.lock, &wake) != ETIMEDOUT) {
    }
    leave_flight(chat_id);
    pthread_mutex_unlock(&server.lock);
    answer_send_message(fd, chat_id, thread_id, json_string_value(text), earlier, message_id);
    json_decref(root);
}

static void *serve_connection(void *argument)
{
    int fd = (int)(intptr_t)argument;
    char *request = malloc(REQUEST_MAX);
    require(request != NULL, "out of memory for a request");
    const char *body = NULL;
    while (read_request(fd, request, REQUEST_MAX, &body) > 0)
        handle_request(fd, request, body);
    free(request);
    return NULL;
}

static void *accept_connections(void *argument)
{
    (void)argument;
    for (;;) {
        pthread_mutex_lock(&server.lock);
        while (server.accept_paused && !server.stopping)
            pthread_cond_wait(&server.changed, &server.lock);
        pthread_mutex_unlock(&server.lock);
        int fd = accept(server.listener, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL; /* shutdown() of the listener */
        }
        pthread_mutex_lock(&server.lock);
        if (server.stopping || server.connection_count == CONNECTIONS_MAX) {
            pthread_mutex_unlock(&server.lock);
            close(fd);
            continue;
        }
        int slot = server.connection_count++;
        server.connection_fds[slot] = fd;
        require(pthread_create(&server.connections[slot], NULL, serve_connection,
                               (void *)(intptr_t)fd) == 0,
                "starting a connection thread");
        pthread_mutex_unlock(&server.lock);
    }
}

static int start_server(void **state)
{
    (void)state;
    memset(&server, 0, sizeof server);
    memset(&recorder, 0, sizeof recorder);
    pthread_mutex_init(&recorder.lock, NULL);
    pthread_mutex_init(&server.lock, NULL);
    monotonic_cond_init(&server.changed);
    server.listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(server.listener >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(server.listener, (struct sockaddr *)&address, sizeof address), 0);
    socklen_t size = sizeof address;
    assert_int_equal(getsockname(server.listener, (struct sockaddr *)&address, &size), 0);
    server.port = ntohs(address.sin_port);
    assert_int_equal(listen(server.listener, 64), 0);
    assert_int_equal(pthread_create(&server.acceptor, NULL, accept_connections, NULL), 0);
    return 0;
}

static int stop_server(void **state)
{
    (void)state;
    pthread_mutex_lock(&server.lock);
    server.stopping = 1;
    pthread_cond_broadcast(&server.changed);
    pthread_mutex_unlock(&server.lock);
    shutdown(server.listener, SHUT_RDWR);
    pthread_join(server.acceptor, NULL);
    close(server.listener);
    for (int i = 0; i < server.connection_count; i++) {
        shutdown(server.connection_fds[i], SHUT_RDWR);
        pthread_join(server.connections[i], NULL);
        close(server.connection_fds[i]);
    }
    free(server.arrivals);
    free(recorder.reports);
    recorder.reports = NULL;
    pthread_mutex_destroy(&recorder.lock);
    pthread_cond_destroy(&server.changed);
    pthread_mutex_destroy(&server.lock);
    return 0;
}

/* Arrivals for one chat, in the order the server saw them. */
static size_t arrivals_for(int64_t chat_id, const struct arrival **found, size_t capacity)
{
    size_t count = 0;
    pthread_mutex_lock(&server.lock);
    for (size_t i = 0; i < server.arrival_count; i++)
        if (server.arrivals[i].chat_id == chat_id && count < capacity)
            found[count++] = &server.arrivals[i];
    pthread_mutex_unlock(&server.lock);
    return count;
}

/* The pointer stays valid once the sender is idle (no arrival grows the array). */
static const struct arrival *first_arrival_of(const char *text)
{
    const struct arrival *found = NULL;
    pthread_mutex_lock(&server.lock);
    for (size_t i = 0; found == NULL && i < server.arrival_count; i++)
        if (strcmp(server.arrivals[i].text, text) == 0)
            found = &server.arrivals[i];
    pthread_mutex_unlock(&server.lock);
    return found;
}

static size_t count_arrivals_of(const char *text)
{
    size_t count = 0;
    pthread_mutex_lock(&server.lock);
    for (size_t i = 0; i < server.arrival_count; i++)
        count += strcmp(server.arrivals[i].text, text) == 0;
    pthread_mutex_unlock(&server.lock);
    return count;
}

/* ---- the caller's side ---- */


static void on_sent(const struct outgoing_message *message, enum send_outcome outcome,
                    void *context)
{
    struct recorder *seen = context;
    /* takes the sender's lock: a callback made with it held would hang here
     * (the alarm in main turns that into a failure) */
    size_t queued = telegram_sender_queued(seen->sender);
    pthread_mutex_lock(&seen->lock);
    if (queued == 0 || message->outbox_id < 0 || (size_t)message->outbox_id >= seen->capacity) {
        seen->bad_calls++;
        pthread_mutex_unlock(&seen->lock);
        return;
    }
    struct report *report = &seen->reports[message->outbox_id];
    report->chat_id = message->chat_id;
    report->outcome = outcome;
    report->sent_message_id = message->sent_message_id;
    report->calls++;
    report->at_ms = monotonic_ms();
    seen->calls++;
    pthread_mutex_unlock(&seen->lock);
}

static struct telegram_send_limits open_limits(void)
{
    return (struct telegram_send_limits){.per_chat_per_second = 1000,
                                         .per_chat_burst = 1000,
                                         .total_per_second = 100000,
                                         .backoff_initial_ms = 50,
                                         .backoff_max_ms = 200,
                                         .connections = 4};
}

static struct telegram_sender *start_sender(const struct telegram_send_limits *limits,
                                            size_t capacity)
{
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", server.port);
    recorder.capacity = capacity;
    recorder.reports = calloc(capacity, sizeof *recorder.reports);
    assert_non_null(recorder.reports);
    recorder.sender = telegram_sender_create(base, TOKEN, limits, on_sent, &recorder);
    assert_non_null(recorder.sender);
    return recorder.sender;
}

/* The reports stay readable until the test's teardown. */
static void stop_sender(void)
{
    telegram_sender_destroy(recorder.sender);
    recorder.sender = NULL;
}

static void enqueue(int64_t outbox_id, int64_t update_id, int64_t chat_id, int64_t thread_id,
                    const char *text)
{
    struct outgoing_message message = {.outbox_id = outbox_id,
                                       .update_id = update_id,
                                       .chat_id = chat_id,
                                       .thread_id = thread_id,
                                       .text = text};
    assert_int_equal(telegram_sender_enqueue(recorder.sender, &message), JV_OK);
}

static void assert_each_reported_once(size_t count, enum send_outcome outcome)
{
    assert_int_equal(recorder.bad_calls, 0);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(recorder.reports[i].calls, 1);
        assert_int_equal(recorder.reports[i].outcome, outcome);
    }
}

static char *read_log(const char *path)
{
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    static char text[65536];
    size_t length = fread(text, 1, sizeof text - 1, file);
    text[length] = '\0';
    fclose(file);
    return text;
}

static size_t occurrences(const char *text, const char *needle)
{
    size_t count = 0;
    for (const char *at = strstr(text, needle); at != NULL; at = strstr(at + 1, needle))
        count++;
    return count;
}

/* ---- tests ---- */

static void test_chats_are_sent_concurrently_one_at_a_time_each(void **state)
{
    (void)state;
    server.delay_ms = 200;
    struct telegram_send_limits limits = open_limits();
    start_sender(&limits, 24);
    char text[48];
    for (int message = 0; message < 3; message++)
        for (int chat = 0; chat < 8; chat++) {
            snprintf(text, sizeof text, "chat %d part %d", chat, message);
            enqueue(message * 8 + chat, 100 + chat, 1000 + chat, 0, text);
        }
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_each_reported_once(24, SEND_DELIVERED);
    assert_true(server.max_in_flight > 1);
    assert_true(server.max_in_flight <= limits.connections);
    assert_int_equal(server.same_chat_overlaps, 0);
    for (int chat = 0; chat < 8; chat++) {
        const struct arrival *found[8];
        assert_int_equal(arrivals_for(1000 + chat, found, 8), 3);
        for (int message = 0; message < 3; message++) {
            snprintf(text, sizeof text, "chat %d part %d", chat, message);
            assert_string_equal(found[message]->text, text);
        }
    }
    stop_sender();
}

/* The loop keeps as many sends in flight as it has connections, past the
 * default four, and never two of one chat. */
static void test_more_connections_more_in_flight(void **state)
{
    (void)state;
    server.delay_ms = 200;
    struct telegram_send_limits limits = open_limits();
    limits.connections = 8;
    start_sender(&limits, 24);
    char text[48];
    for (int chat = 0; chat < 12; chat++)
        for (int message = 0; message < 2; message++) {
            snprintf(text, sizeof text, "wide %d part %d", chat, message);
            enqueue(chat * 2 + message, 500 + chat, 3000 + chat, 0, text);
        }
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_each_reported_once(24, SEND_DELIVERED);
    assert_true(server.max_in_flight > 4);
    assert_true(server.max_in_flight <= 8);
    assert_int_equal(server.same_chat_overlaps, 0);
    stop_sender();
}

/* The loop refiles the workers' lanes from the heap even while all its
 * connections wait for slow answers: an edit due after its chat's rate
 * goes out on time, not after the slow text of another chat. */
static void test_a_due_edit_leaves_while_the_loop_waits(void **state)
{
    (void)state;
    server.slow_text_ms = 1500;
    struct telegram_send_limits limits = open_limits();
    limits.per_chat_per_second = 5; /* a token every 200 ms */
    limits.per_chat_burst = 1;
    limits.connections = 1;
    start_sender(&limits, 3);
    enqueue(0, 600, 31, 0, "first");
    struct outgoing_message edit = {.outbox_id = 1, .update_id = 601, .chat_id = 31,
                                    .text = "edited", .method = "editMessageText",
                                    .options = "{\"message_id\":5}"};
    assert_int_equal(telegram_sender_enqueue(recorder.sender, &edit), JV_OK);
    enqueue(2, 602, 32, 0, "slow: other chat");
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_each_reported_once(3, SEND_DELIVERED);
    const struct arrival *first = first_arrival_of("first");
    const struct arrival *edited = first_arrival_of("edited");
    const struct arrival *slow = first_arrival_of("slow: other chat");
    assert_non_null(first);
    assert_non_null(edited);
    assert_non_null(slow);
    assert_true(edited->at_ms - first->at_ms >= 150); /* its chat's rate held it */
    assert_true(edited->at_ms - slow->at_ms < 1000);  /* not behind the slow answer */
    stop_sender();
    server.slow_text_ms = 0;
}

/* A connection that cannot connect yet (the server's accept queue is full,
 * so its SYN is dropped and sent again a second later) holds only its own
 * chat: the loop meanwhile takes another connection's answer as it comes. */
#define QUEUE_FILLERS 80

static void test_a_slow_connect_holds_only_its_chat(void **state)
{
    (void)state;
    struct telegram_send_limits limits = open_limits();
    limits.connections = 2;
    start_sender(&limits, 3);
    enqueue(0, 700, 60, 0, "warm"); /* the first connection, connected */
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    pthread_mutex_lock(&server.lock);
    server.accept_paused = 1;
    pthread_mutex_unlock(&server.lock);
    /* the acceptor may be inside accept(): one connection lets it see the pause */
    int fillers[QUEUE_FILLERS + 1];
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)server.port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i <= QUEUE_FILLERS; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        assert_true(fillers[i] >= 0);
        connect(fillers[i], (struct sockaddr *)&address, sizeof address); /* EINPROGRESS */
        if (i == 0)
            usleep(100 * 1000);
    }
    usleep(100 * 1000);
    server.slow_text_ms = 500;
    enqueue(1, 701, 61, 0, "slow: answered in half a second");
    usleep(50 * 1000);                    /* on the connected one */
    enqueue(2, 702, 62, 0, "cold start"); /* the other one must connect */
    usleep(1200 * 1000);
    pthread_mutex_lock(&server.lock);
    server.accept_paused = 0;
    pthread_cond_broadcast(&server.changed);
    pthread_mutex_unlock(&server.lock);
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_each_reported_once(3, SEND_DELIVERED);
    const struct arrival *slow = first_arrival_of("slow: answered in half a second");
    const struct arrival *cold = first_arrival_of("cold start");
    assert_non_null(slow);
    assert_non_null(cold);
    assert_true(cold->at_ms - slow->at_ms >= 900); /* its connect waited for a SYN again */
    /* the slow answer was taken when it came, not when the connect was over */
    assert_true(recorder.reports[1].at_ms - slow->at_ms < 900);
    for (int i = 0; i <= QUEUE_FILLERS; i++)
        close(fillers[i]);
    stop_sender();
    server.slow_text_ms = 0;
}

/* While the API refuses connections (a socket bound but not listening),
 * the connector's failed connect is an outage: one log line naming why, the
 * message kept and not reported; once it listens, the message goes out. */
static void *accept_one(void *argument)
{
    int fd = accept((int)(intptr_t)argument, NULL, NULL);
    if (fd >= 0)
        serve_connection((void *)(intptr_t)fd);
    return NULL;
}

static void test_a_refused_connect_keeps_the_message(void **state)
{
    (void)state;
    char path[] = "/tmp/test_telegram_send_log_XXXXXX";
    int log_fd = mkstemp(path);
    assert_true(log_fd >= 0);
    close(log_fd);
    assert_int_equal(log_open(path, LOG_INFO), 0);
    int refusing = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    assert_int_equal(bind(refusing, (struct sockaddr *)&address, sizeof address), 0);
    assert_int_equal(getsockname(refusing, (struct sockaddr *)&address, &size), 0);
    int fixture_port = server.port;
    server.port = ntohs(address.sin_port); /* start_sender's base */
    struct telegram_send_limits limits = open_limits();
    start_sender(&limits, 1);
    server.port = fixture_port;
    enqueue(0, 800, 70, 0, "kept while refused");
    usleep(400 * 1000); /* several refused connects, backing off from 50 ms */
    assert_int_equal(recorder.calls, 0);
    assert_int_equal(telegram_sender_queued(recorder.sender), 1);
    assert_int_equal(listen(refusing, 4), 0);
    pthread_t acceptor;
    assert_int_equal(pthread_create(&acceptor, NULL, accept_one, (void *)(intptr_t)refusing), 0);
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    stop_sender(); /* closes the connection: the serving thread sees its end */
    pthread_join(acceptor, NULL);
    close(refusing);
    log_open(NULL, LOG_INFO);
    assert_each_reported_once(1, SEND_DELIVERED);
    assert_int_equal(count_arrivals_of("kept while refused"), 1);
    const char *log = read_log(path);
    assert_int_equal(occurrences(log, "sendMessage failing"), 1);
    assert_non_null(strstr(log, "onnect")); /* libcurl's reason: "Failed to connect ..." */
    assert_null(strstr(log, TOKEN));
    unlink(path);
}

/* Text goes out from the send loop, an edit from a worker thread: one
 * chat's parts alternating between the two keep their order and never
 * overlap, while other chats' text keeps the loop's connections busy. */
static void test_text_and_edits_of_one_chat_keep_their_order(void **state)
{
    (void)state;
    server.delay_ms = 5;
    struct telegram_send_limits limits = open_limits();
    start_sender(&limits, 60);
    char text[48];
    for (int i = 0; i < 20; i++) {
        snprintf(text, sizeof text, "text %d", i);
        enqueue(3 * i, 300 + i, 21, 0, text);
        snprintf(text, sizeof text, "edit %d", i);
        struct outgoing_message edit = {.outbox_id = 3 * i + 1, .update_id = 300 + i,
                                        .chat_id = 21, .text = text,
                                        .method = "editMessageText",
                                        .options = "{\"message_id\":5}"};
        assert_int_equal(telegram_sender_enqueue(recorder.sender, &edit), JV_OK);
        snprintf(text, sizeof text, "other %d", i);
        enqueue(3 * i + 2, 400 + i, 22 + i % 4, 0, text);
    }
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_each_reported_once(60, SEND_DELIVERED);
    assert_int_equal(server.same_chat_overlaps, 0);
    assert_true(server.max_in_flight > 1);
    const struct arrival *found[40];
    assert_int_equal(arrivals_for(21, found, 40), 40);
    for (int i = 0; i < 40; i++) {
        snprintf(text, sizeof text, "%s %d", i % 2 == 0 ? "text" : "edit", i / 2);
        assert_string_equal(found[i]->text, text);
        assert_int_equal(found[i]->edit, i % 2);
    }
    stop_sender();
}

static void test_per_chat_burst_then_rate(void **state)
{
    (void)state;
    struct telegram_send_limits limits = open_limits();
    limits.per_chat_per_second = 2; /* the limiter's arithmetic at any rate, 500 ms a token */
    limits.per_chat_burst = 3;
    start_sender(&limits, 6);
    for (int i = 0; i < 6; i++)
        enqueue(i, i, 42, 0, "steady");
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_each_reported_once(6, SEND_DELIVERED);
    const struct arrival *found[6];
    assert_int_equal(arrivals_for(42, found, 6), 6);
    /* three at once, then one each 500 ms (50 ms of slack for clock rounding) */
    assert_true(found[2]->at_ms - found[0]->at_ms < found[3]->at_ms - found[2]->at_ms);
    assert_true(found[3]->at_ms - found[0]->at_ms >= 450);
    assert_true(found[4]->at_ms - found[3]->at_ms >= 450);
    assert_true(found[5]->at_ms - found[4]->at_ms >= 450);
    stop_sender();
}

static void test_overall_rate(void **state)
{
    (void)state;
    struct telegram_send_limits limits = open_limits();
    limits.total_per_second = 4;
    start_sender(&limits, 8);
    for (int i = 0; i < 8; i++)
        enqueue(i, i, 500 + i, 0, "spread");
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_each_reported_once(8, SEND_DELIVERED);
    /* a bucket of 4 at 4/s: four at once, then one every 250 ms */
    assert_int_equal(server.arrival_count, 8);
    assert_true(server.arrivals[7].at_ms - server.arrivals[0].at_ms >= 950);
    stop_sender();
}

static void test_retry_after_pauses_only_that_chat(void **state)
{
    (void)state;
    struct telegram_send_limits limits = open_limits();
    start_sender(&limits, 3);
    enqueue(0, 7, 10, 0, "flood:first");
    enqueue(1, 7, 10, 0, "after the flood");
    /* the other chat is queued once the 429 is in */
    while (count_arrivals_of("flood:first") == 0)
        usleep(1000);
    enqueue(2, 8, 11, 0, "other chat");
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_each_reported_once(3, SEND_DELIVERED);
    const struct arrival *found[3];
    assert_int_equal(arrivals_for(10, found, 3), 3);
    assert_string_equal(found[0]->text, "flood:first");
    assert_string_equal(found[1]->text, "flood:first");
    assert_string_equal(found[2]->text, "after the flood");
    assert_true(found[1]->at_ms - found[0]->at_ms >= 1000);
    const struct arrival *other = first_arrival_of("other chat");
    assert_non_null(other);
    /* inside the flooded chat's pause, not after it */
    assert_true(other->at_ms < found[0]->at_ms + 1000);
    stop_sender();
}

/* [bot] send_rate_per_chat, send_burst_per_chat and send_rate_total as
 * config_schema.c defaults them (the integration tests lift them). */
static struct telegram_send_limits default_limits(void)
{
    return (struct telegram_send_limits){.per_chat_per_second = 1,
                                         .per_chat_burst = 3,
                                         .total_per_second = 30,
                                         .backoff_initial_ms = 50,
                                         .backoff_max_ms = 200,
                                         .connections = 0};
}

/* A flood pause longer than the bucket takes to fill refills the chat's
 * bucket to its burst of 3 only: with a token each 200 ms the 1 s pause
 * would give 5 + what was left; after the pause three go at once, then one
 * each 200 ms. (The defaults but the rate: at 1/s it takes a 4 s pause.) */
static void test_a_long_pause_refills_the_bucket_to_its_burst_only(void **state)
{
    (void)state;
    struct telegram_send_limits limits = default_limits();
    limits.per_chat_per_second = 5;
    start_sender(&limits, 5);
    enqueue(0, 7, 12, 0, "flood:first");
    for (int i = 1; i < 5; i++)
        enqueue(i, 7, 12, 0, "after the pause");
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_each_reported_once(5, SEND_DELIVERED);
    const struct arrival *found[6];
    assert_int_equal(arrivals_for(12, found, 6), 6);
    assert_string_equal(found[1]->text, "flood:first");
    assert_true(found[1]->at_ms - found[0]->at_ms >= 950);
    /* the resend and two more spend the burst; the fourth waits a token */
    assert_true(found[4]->at_ms - found[1]->at_ms >= 150);
    assert_true(found[5]->at_ms - found[4]->at_ms >= 150);
    stop_sender();
}

/* An edit Telegram answers "message is not modified" did what was asked:
 * delivered, once, not refused nor retried. */
static void test_an_unchanged_edit_is_delivered(void **state)
{
    (void)state;
    struct telegram_send_limits limits = open_limits();
    start_sender(&limits, 1);
    struct outgoing_message edit = {.outbox_id = 0, .update_id = 9, .chat_id = 13,
                                    .text = "same: text", .method = "editMessageText",
                                    .options = "{\"message_id\":5}"};
    assert_int_equal(telegram_sender_enqueue(recorder.sender, &edit), JV_OK);
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_each_reported_once(1, SEND_DELIVERED);
    assert_int_equal(count_arrivals_of("same: text"), 1);
    stop_sender();
}

static void test_outage_is_retried_with_one_line_per_state(void **state)
{
    (void)state;
    char path[] = "/tmp/test_telegram_send_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(log_open(path, LOG_INFO), 0);
    struct telegram_send_limits limits = open_limits();
    start_sender(&limits, 1);
    enqueue(0, 1, 20, 0, "outage:a");
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    stop_sender();
    log_open(NULL, LOG_INFO);
    assert_each_reported_once(1, SEND_DELIVERED);
    const struct arrival *found[4];
    assert_int_equal(arrivals_for(20, found, 4), 3);
    /* the ladder starts at 50 ms, jittered down to half at most */
    assert_true(found[1]->at_ms - found[0]->at_ms >= 25);
    assert_true(found[2]->at_ms - found[1]->at_ms >= 25);
    const char *log = read_log(path);
    assert_int_equal(occurrences(log, "sendMessage failing"), 1);
    assert_int_equal(occurrences(log, "sendMessage works again"), 1);
    assert_null(strstr(log, TOKEN));
    unlink(path);
}

static void test_migration_followed_and_remembered(void **state)
{
    (void)state;
    struct telegram_send_limits limits = open_limits();
    start_sender(&limits, 2);
    enqueue(0, 1, MIGRATED_GROUP, 0, "into the supergroup");
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    enqueue(1, 2, MIGRATED_GROUP, 0, "straight there");
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_each_reported_once(2, SEND_DELIVERED);
    /* the caller's record keeps the chat it queued for */
    assert_int_equal(recorder.reports[1].chat_id, MIGRATED_GROUP);
    const struct arrival *old_chat[4], *new_chat[4];
    assert_int_equal(arrivals_for(MIGRATED_GROUP, old_chat, 4), 1);
    assert_int_equal(arrivals_for(SUPERGROUP, new_chat, 4), 2);
    assert_string_equal(new_chat[0]->text, "into the supergroup");
    assert_string_equal(new_chat[1]->text, "straight there");
    stop_sender();
}

/* A message queued while the migrated one is being resent waits for it:
 * the chat's lane moves to the new id instead of the new id getting a lane
 * of its own (which sent both at once, the second often first). */
static void test_message_after_a_migration_waits_for_the_resend(void **state)
{
    (void)state;
    struct telegram_send_limits limits = open_limits();
    start_sender(&limits, 2);
    server.delay_ms = 150;
    enqueue(0, 1, MIGRATED_GROUP, 0, "resent there");
    const struct arrival *new_chat[4];
    int64_t deadline = monotonic_ms() + FLUSH_MS;
    while (arrivals_for(SUPERGROUP, new_chat, 4) == 0 && monotonic_ms() < deadline)
        usleep(1000);
    enqueue(1, 2, MIGRATED_GROUP, 0, "queued behind");
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_each_reported_once(2, SEND_DELIVERED);
    assert_int_equal(arrivals_for(SUPERGROUP, new_chat, 4), 2);
    assert_string_equal(new_chat[0]->text, "resent there");
    assert_string_equal(new_chat[1]->text, "queued behind");
    assert_int_equal(server.same_chat_overlaps, 0);
    stop_sender();
}

static void test_closed_topic_retried_once_without_it(void **state)
{
    (void)state;
    struct telegram_send_limits limits = open_limits();
    start_sender(&limits, 2);
    enqueue(0, 1, 30, CLOSED_TOPIC, "to a closed topic");
    enqueue(1, 2, 30, 5, "to an open topic");
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_each_reported_once(2, SEND_DELIVERED);
    const struct arrival *found[4];
    assert_int_equal(arrivals_for(30, found, 4), 3);
    assert_int_equal(found[0]->thread_id, CLOSED_TOPIC);
    assert_int_equal(found[1]->thread_id, 0);
    assert_string_equal(found[1]->text, "to a closed topic");
    assert_int_equal(found[2]->thread_id, 5);
    stop_sender();
}

static void test_refused_message_dropped_and_named(void **state)
{
    (void)state;
    char path[] = "/tmp/test_telegram_send_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(log_open(path, LOG_INFO), 0);
    struct telegram_send_limits limits = open_limits();
    start_sender(&limits, 2);
    enqueue(0, 9001, 40, 0, "refuse:blocked");
    enqueue(1, 9002, 40, 0, "next one");
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    stop_sender();
    log_open(NULL, LOG_INFO);
    assert_int_equal(recorder.reports[0].calls, 1);
    assert_int_equal(recorder.reports[0].outcome, SEND_REFUSED);
    assert_int_equal(recorder.reports[1].calls, 1);
    assert_int_equal(recorder.reports[1].outcome, SEND_DELIVERED);
    assert_int_equal(count_arrivals_of("refuse:blocked"), 1);
    const char *log = read_log(path);
    assert_int_equal(occurrences(log, "refused (403"), 1);
    assert_non_null(strstr(log, "chat 40 (update 9001)"));
    unlink(path);
}

static void test_destroy_gives_no_callback_for_unfinished(void **state)
{
    (void)state;
    server.delay_ms = 60000;
    struct telegram_send_limits limits = open_limits();
    start_sender(&limits, 6);
    for (int i = 0; i < 6; i++)
        enqueue(i, i, 60 + i % 2, 0, "never answered");
    for (;;) {
        pthread_mutex_lock(&server.lock);
        int in_flight = server.in_flight;
        pthread_mutex_unlock(&server.lock);
        if (in_flight == 2)
            break;
        usleep(1000);
    }
    assert_int_equal(telegram_sender_queued(recorder.sender), 6);
    assert_int_equal(telegram_sender_flush(recorder.sender, 50), 6);
    stop_sender();
    /* nothing counts as sent: the caller keeps the parts for the next start */
    assert_int_equal(recorder.calls, 0);
    assert_int_equal(recorder.bad_calls, 0);
}

static void test_extreme_ids(void **state)
{
    (void)state;
    struct telegram_send_limits limits = open_limits();
    start_sender(&limits, 4);
    enqueue(0, INT64_MAX, INT64_MAX, INT64_MAX, "max");
    enqueue(1, INT64_MIN, INT64_MIN, INT64_MIN, "min");
    enqueue(2, -1, INT64_MIN, 0, "refuse:min");
    enqueue(3, INT64_MAX, INT64_MAX, 0, "refuse:max");
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_int_equal(recorder.reports[0].outcome, SEND_DELIVERED);
    assert_int_equal(recorder.reports[1].outcome, SEND_DELIVERED);
    assert_int_equal(recorder.reports[2].outcome, SEND_REFUSED);
    assert_int_equal(recorder.reports[3].outcome, SEND_REFUSED);
    const struct arrival *found[4];
    assert_int_equal(arrivals_for(INT64_MIN, found, 4), 2);
    assert_int_equal(found[0]->thread_id, INT64_MIN);
    assert_int_equal(arrivals_for(INT64_MAX, found, 4), 2);
    assert_int_equal(found[0]->thread_id, INT64_MAX);
    stop_sender();
}

/* A part with a reference learns what Telegram called it: from the answer's
 * head in Telegram's key order, from the decoded result in any other. */
static void test_sent_message_id_read_in_any_key_order(void **state)
{
    (void)state;
    struct telegram_send_limits limits = open_limits();
    start_sender(&limits, 2);
    struct outgoing_message head = {.outbox_id = 0, .update_id = 1, .chat_id = 5,
                                    .text = "head", .reference = (int64_t)1 << 40};
    struct outgoing_message later = {.outbox_id = 1, .update_id = 2, .chat_id = 6,
                                     .text = "date-first:x", .reference = ((int64_t)1 << 40) + 1};
    assert_int_equal(telegram_sender_enqueue(recorder.sender, &head), JV_OK);
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_int_equal(telegram_sender_enqueue(recorder.sender, &later), JV_OK);
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_each_reported_once(2, SEND_DELIVERED);
    assert_int_equal(recorder.reports[0].sent_message_id, 1);
    assert_int_equal(recorder.reports[1].sent_message_id, 1002);
    stop_sender();
}

static void test_bad_messages_refused_at_the_door(void **state)
{
    (void)state;
    struct telegram_send_limits limits = open_limits();
    start_sender(&limits, 2);
    struct outgoing_message message = {.outbox_id = 0, .update_id = 1, .chat_id = 1, .text = ""};
    assert_int_equal(telegram_sender_enqueue(recorder.sender, &message), JV_E_INVAL);
    message.text = NULL;
    assert_int_equal(telegram_sender_enqueue(recorder.sender, &message), JV_E_INVAL);
    char *long_text = malloc(TELEGRAM_MESSAGE_LIMIT + 2);
    assert_non_null(long_text);
    memset(long_text, 'x', TELEGRAM_MESSAGE_LIMIT + 1);
    long_text[TELEGRAM_MESSAGE_LIMIT + 1] = '\0';
    message.text = long_text;
    assert_int_equal(telegram_sender_enqueue(recorder.sender, &message), JV_E_INVAL);
    long_text[TELEGRAM_MESSAGE_LIMIT] = '\0';
    assert_int_equal(telegram_sender_enqueue(recorder.sender, &message), JV_OK);
    free(long_text);
    /* invalid UTF-8 still goes out, repaired */
    enqueue(1, 2, 1, 0, "bad \xff byte");
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_each_reported_once(2, SEND_DELIVERED);
    assert_non_null(first_arrival_of("bad \xEF\xBF\xBD byte"));
    stop_sender();
}

/* A worker asleep until the lingering lane's bucket is full (3 s after a
 * burst of 3 at 1/s) must wake when that chat's next message makes the lane
 * due sooner (one token, ~1 s): the lane re-enters the heap at its top, and
 * heap_push signals. Without the signal it would go out at the old wake,
 * about 3 s after the burst. */
static void test_a_sooner_due_lane_wakes_the_sleeping_worker(void **state)
{
    (void)state;
    struct telegram_send_limits limits = default_limits();
    limits.connections = 1; /* one worker: the one asleep */
    start_sender(&limits, 4);
    enqueue(0, 1, 30, 0, "burst-1");
    enqueue(1, 2, 30, 0, "burst-2");
    enqueue(2, 3, 30, 0, "burst-3");
    while (count_arrivals_of("burst-3") == 0)
        usleep(1000);
    usleep(100 * 1000); /* the worker is back asleep, until the lane's linger ends */
    enqueue(3, 4, 30, 0, "after the burst");
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    assert_each_reported_once(4, SEND_DELIVERED);
    const struct arrival *last = first_arrival_of("burst-3");
    const struct arrival *next = first_arrival_of("after the burst");
    assert_non_null(last);
    assert_non_null(next);
    int64_t gap_ms = next->at_ms - last->at_ms;
    assert_true(gap_ms >= 700);  /* the chat's rate held: a token takes 1 s */
    assert_true(gap_ms < 2000); /* and not the linger's 3 s */
    stop_sender();
}

static void test_lanes_freed_after_many_chats(void **state)
{
    (void)state;
    enum { CHATS = 100000 };
    struct telegram_send_limits limits = open_limits();
    limits.per_chat_per_second = 5;
    limits.per_chat_burst = 3;
    start_sender(&limits, CHATS);
    for (int64_t i = 0; i < CHATS; i++)
        enqueue(i, i, i % 2 ? -1000000000000 - i : 1000000 + i, 0, "hi");
    assert_int_equal(telegram_sender_flush(recorder.sender, 600000), 0);
    assert_each_reported_once(CHATS, SEND_DELIVERED);
    assert_int_equal(server.arrival_count, CHATS);
    assert_int_equal(server.same_chat_overlaps, 0);
    /* each bucket refills to its burst 200 ms after its send */
    int64_t deadline = monotonic_ms() + 30000;
    while (telegram_sender_lane_count(recorder.sender) > 0 && monotonic_ms() < deadline)
        usleep(10000);
    assert_int_equal(telegram_sender_lane_count(recorder.sender), 0);
    stop_sender();
}

static void test_lane_lingers_until_its_bucket_is_full(void **state)
{
    (void)state;
    struct telegram_send_limits limits = open_limits();
    limits.per_chat_per_second = 1;
    limits.per_chat_burst = 3;
    start_sender(&limits, 6);
    for (int i = 0; i < 3; i++)
        enqueue(i, i, 77, 0, "burst");
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    /* the burst is spent: a freed lane would grant a new one at once */
    assert_int_equal(telegram_sender_lane_count(recorder.sender), 1);
    for (int i = 3; i < 6; i++)
        enqueue(i, i, 77, 0, "burst");
    assert_int_equal(telegram_sender_flush(recorder.sender, FLUSH_MS), 0);
    const struct arrival *found[6];
    assert_int_equal(arrivals_for(77, found, 6), 6);
    assert_true(found[3]->at_ms - found[0]->at_ms >= 950);
    stop_sender();
}

int main(void)
{
    /* a callback made under the sender's lock deadlocks: fail instead of hanging */
    alarm(300);
    if (getenv("TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chats_are_sent_concurrently_one_at_a_time_each,
                                        start_server, stop_server),
        cmocka_unit_test_setup_teardown(test_per_chat_burst_then_rate, start_server, stop_server),
        cmocka_unit_test_setup_teardown(test_overall_rate, start_server, stop_server),
        cmocka_unit_test_setup_teardown(test_a_long_pause_refills_the_bucket_to_its_burst_only,
                                        start_server, stop_server),
        cmocka_unit_test_setup_teardown(test_an_unchanged_edit_is_delivered, start_server,
                                        stop_server),
        cmocka_unit_test_setup_teardown(test_text_and_edits_of_one_chat_keep_their_order,
                                        start_server, stop_server),
        cmocka_unit_test_setup_teardown(test_more_connections_more_in_flight, start_server,
                                        stop_server),
        cmocka_unit_test_setup_teardown(test_a_due_edit_leaves_while_the_loop_waits,
                                        start_server, stop_server),
        cmocka_unit_test_setup_teardown(test_a_slow_connect_holds_only_its_chat, start_server,
                                        stop_server),
        cmocka_unit_test_setup_teardown(test_a_refused_connect_keeps_the_message, start_server,
                                        stop_server),
        cmocka_unit_test_setup_teardown(test_retry_after_pauses_only_that_chat, start_server,
                                        stop_server),
        cmocka_unit_test_setup_teardown(test_outage_is_retried_with_one_line_per_state,
                                        start_server, stop_server),
        cmocka_unit_test_setup_teardown(test_migration_followed_and_remembered, start_server,
                                        stop_server),
        cmocka_unit_test_setup_teardown(test_message_after_a_migration_waits_for_the_resend, start_server,
                                        stop_server),
        cmocka_unit_test_setup_teardown(test_closed_topic_retried_once_without_it, start_server,
                                        stop_server),
        cmocka_unit_test_setup_teardown(test_refused_message_dropped_and_named, start_server,
                                        stop_server),
        cmocka_unit_test_setup_teardown(test_destroy_gives_no_callback_for_unfinished,
                                        start_server, stop_server),
        cmocka_unit_test_setup_teardown(test_extreme_ids, start_server, stop_server),
        cmocka_unit_test_setup_teardown(test_sent_message_id_read_in_any_key_order,
                                        start_server, stop_server),
        cmocka_unit_test_setup_teardown(test_bad_messages_refused_at_the_door, start_server,
                                        stop_server),
        cmocka_unit_test_setup_teardown(test_lane_lingers_until_its_bucket_is_full, start_server,
                                        stop_server),
        cmocka_unit_test_setup_teardown(test_a_sooner_due_lane_wakes_the_sleeping_worker,
                                        start_server, stop_server),
        cmocka_unit_test_setup_teardown(test_lanes_freed_after_many_chats, start_server,
                                        stop_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
