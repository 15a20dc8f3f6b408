/* Unit tests for core/http.c against a tiny HTTP server thread on
 * 127.0.0.1:0 with canned answers: statuses, Retry-After, timeouts, refused
 * connections (error text without URL or secrets), POST bodies and headers,
 * redirects not followed, the body cap. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/http.h"
#include "base/log.h"

#define TOKEN "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
#define REQUEST_MAX 65536
#define HUGE_BODY (17u * 1024u * 1024u)

struct server {
    int listener;
    int port;
    pthread_t thread;
};

static struct server server;

static void send_all(int fd, const void *data, size_t length)
{
    const char *bytes = data;
    while (length > 0) {
        ssize_t sent = send(fd, bytes, length, MSG_NOSIGNAL);
        if (sent <= 0)
            return;
        bytes += sent;
        length -= (size_t)sent;
    }
}

static void send_text(int fd, const char *text)
{
    send_all(fd, text, strlen(text));
}

static size_t content_length(const char *headers)
{
    const char *field = strcasestr(headers, "\r\ncontent-length:");
    return field != NULL ? (size_t)strtoul(field + 17, NULL, 10) : 0;
}

/* Reads one request (headers and Content-Length body) into buffer. */
static size_t read_request(int fd, char *buffer, size_t size)
{
    size_t length = 0;
    char *header_end = NULL;
    while (length < size - 1) {
        ssize_t got = recv(fd, buffer + length, size - 1 - length, 0);
        if (got <= 0)
            return length;
        length += (size_t)got;
        buffer[length] = '\0';
        if (header_end == NULL)
            header_end = strstr(buffer, "\r\n\r\n");
        if (header_end != NULL) {
            size_t head = (size_t)(header_end + 4 - buffer);
            if (length >= head + content_length(buffer))
                return length;
        }
    }
    return length;
}

/* Holds the connection open without answering until the client gives up. */
static void wait_for_client_to_leave(int fd)
{
    struct pollfd poll_fd = {.fd = fd, .events = POLLIN};
    char scratch[256];
    while (poll(&poll_fd, 1, 10000) > 0 && recv(fd, scratch, sizeof scratch, 0) > 0) {
    }
}

static void send_huge_body(int fd, int declare_length)
{
    char head[200];
    if (declare_length)
        snprintf(head, sizeof head,
                 "HTTP/1.1 200 OK\r\nContent-Length: %u\r\nConnection: close\r\n\r\n", HUGE_BODY);
    else
        snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
    send_text(fd, head);
    char *chunk = malloc(1 << 20);
    assert_non_null(chunk);
    memset(chunk, 'h', 1 << 20);
    for (unsigned sent = 0; sent < HUGE_BODY; sent += 1 << 20)
        send_all(fd, chunk, 1 << 20);
    free(chunk);
}

static void send_retry_after_date(int fd)
{
    char date[64];
    time_t later = time(NULL) + 120;
    struct tm utc;
    gmtime_r(&later, &utc);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    char response[256];
    snprintf(response, sizeof response,
             "HTTP/1.1 503 Service Unavailable\r\nRetry-After: %s\r\nContent-Length: 0\r\n"
             "Connection: close\r\n\r\n",
             date);
    send_text(fd, response);
}

static void send_echo(int fd, const char *request, size_t length)
{
    char head[128];
    snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
             length);
    send_text(fd, head);
    send_all(fd, request, length);
}

static void answer(int fd, const char *request, size_t length)
{
    if (strncmp(request, "GET /ok ", 8) == 0)
        send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\n"
                      "hello world");
    else if (strncmp(request, "GET /empty ", 11) == 0)
        send_text(fd, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
    else if (strncmp(request, "GET /limited ", 13) == 0)
        send_text(fd, "HTTP/1.1 429 Too Many Requests\r\nretry-after:  7 \r\n"
                      "Content-Length: 12\r\nConnection: close\r\n\r\n{\"ok\":false}");
    else if (strncmp(request, "GET /limited-date ", 18) == 0)
        send_retry_after_date(fd);
    else if (strncmp(request, "GET /redirect ", 14) == 0)
        send_text(fd, "HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: 5\r\n"
                      "Connection: close\r\n\r\nmoved");
    else if (strncmp(request, "GET /slow", 9) == 0)
        wait_for_client_to_leave(fd);
    else if (strncmp(request, "GET /huge ", 10) == 0)
        send_huge_body(fd, 0);
    else if (strncmp(request, "GET /huge-declared ", 19) == 0)
        send_huge_body(fd, 1);
    else if (strstr(request, " /echo") != NULL)
        send_echo(fd, request, length);
    else
        send_text(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

static void *serve(void *argument)
{
    (void)argument;
    char *request = malloc(REQUEST_MAX);
    assert_non_null(request);
    for (;;) {
        int fd = accept(server.listener, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break; /* shutdown() of the listener ends the thread */
        }
        size_t length = read_request(fd, request, REQUEST_MAX);
        answer(fd, request, length);
        close(fd);
    }
    free(request);
    return NULL;
}

static int bind_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&address, sizeof address), 0);
    socklen_t size = sizeof address;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&address, &size), 0);
    *port = ntohs(address.sin_port);
    return fd;
}

static int start_server(void **state)
{
    (void)state;
    server.listener = bind_loopback(&server.port);
    assert_int_equal(listen(server.listener, 16), 0);
    assert_int_equal(pthread_create(&server.thread, NULL, serve, NULL), 0);
    return 0;
}

static int stop_server(void **state)
{
    (void)state;
    shutdown(server.listener, SHUT_RDWR);
    pthread_join(server.thread, NULL);
    close(server.listener);
    return 0;
}

static void make_url(char *url, size_t size, const char *path)
{
    snprintf(url, size, "http://127.0.0.1:%d%s", server.port, path);
}

static jv_http_request get_request(const char *url)
{
    return (jv_http_request){.struct_size = sizeof(jv_http_request), .method = "GET", .url = url};
}

static jv_http_response empty_response(void)
{
    return (jv_http_response){.struct_size = sizeof(jv_http_response)};
}

static void test_get_200_body(void **state)
{
    (void)state;
    char url[128];
    make_url(url, sizeof url, "/ok");
    jv_http_request request = get_request(url);
    jv_http_response response = empty_response();
    assert_int_equal(http_perform(&request, &response), JV_OK);
    assert_int_equal(response.status, 200);
    assert_int_equal(response.body_length, 11);
    assert_string_equal(response.body, "hello world");
    assert_int_equal(response.retry_after_s, -1);
    assert_string_equal(response.error, "");
    http_response_release(&response);
    assert_null(response.body);
    http_response_release(&response); /* twice is harmless */
}

static void test_empty_body_is_empty_string(void **state)
{
    (void)state;
    char url[128];
    make_url(url, sizeof url, "/empty");
    jv_http_request request = get_request(url);
    jv_http_response response = empty_response();
    assert_int_equal(http_perform(&request, &response), JV_OK);
    assert_int_equal(response.status, 204);
    assert_non_null(response.body);
    assert_string_equal(response.body, "");
    assert_int_equal(response.body_length, 0);
    http_response_release(&response);
}

static void test_429_with_retry_after(void **state)
{
    (void)state;
    char url[128];
    make_url(url, sizeof url, "/limited");
    jv_http_request request = get_request(url);
    jv_http_response response = empty_response();
    assert_int_equal(http_perform(&request, &response), JV_OK);
    assert_int_equal(response.status, 429);
    assert_int_equal(response.retry_after_s, 7);
    assert_string_equal(response.body, "{\"ok\":false}");
    http_response_release(&response);
}

static void test_retry_after_http_date(void **state)
{
    (void)state;
    char url[128];
    make_url(url, sizeof url, "/limited-date");
    jv_http_request request = get_request(url);
    jv_http_response response = empty_response();
    assert_int_equal(http_perform(&request, &response), JV_OK);
    assert_int_equal(response.status, 503);
    /* the server said now + 120 s; allow for the clock ticking meanwhile */
    assert_true(response.retry_after_s > 60 && response.retry_after_s <= 120);
    http_response_release(&response);
}

static void test_404_is_a_response(void **state)
{
    (void)state;
    char url[128];
    make_url(url, sizeof url, "/missing");
    jv_http_request request = get_request(url);
    jv_http_response response = empty_response();
    assert_int_equal(http_perform(&request, &response), JV_OK);
    assert_int_equal(response.status, 404);
    http_response_release(&response);
}

static void test_redirect_not_followed(void **state)
{
    (void)state;
    char url[128];
    make_url(url, sizeof url, "/redirect");
    jv_http_request request = get_request(url);
    jv_http_response response = empty_response();
    assert_int_equal(http_perform(&request, &response), JV_OK);
    assert_int_equal(response.status, 302);
    assert_string_equal(response.body, "moved");
    http_response_release(&response);
}

static void test_slow_answer_times_out(void **state)
{
    (void)state;
    char url[160];
    make_url(url, sizeof url, "/slow?key=sk-slow-secret");
    jv_http_request request = get_request(url);
    request.timeout_ms = 300;
    jv_http_response response = empty_response();
    assert_int_equal(http_perform(&request, &response), JV_E_TIMEOUT);
    assert_int_equal(response.status, 0);
    assert_null(response.body);
    assert_true(strlen(response.error) > 0);
    assert_null(strstr(response.error, "sk-slow-secret"));
    assert_null(strstr(response.error, "/slow"));
}

static void test_connection_refused_error_has_no_url(void **state)
{
    (void)state;
    int port = 0;
    int fd = bind_loopback(&port);
    close(fd); /* bound, never listened, now closed: nobody answers there */
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/bot" TOKEN "/getMe?api_key=sk-query-secret",
             port);
    jv_http_request request = get_request(url);
    jv_http_response response = empty_response();
    assert_int_equal(http_perform(&request, &response), JV_E_IO);
    assert_int_equal(response.status, 0);
    assert_null(response.body);
    assert_true(strlen(response.error) > 0);
    assert_null(strstr(response.error, "AAHdq"));
    assert_null(strstr(response.error, "123456789"));
    assert_null(strstr(response.error, "getMe"));
    assert_null(strstr(response.error, "api_key"));
    assert_null(strstr(response.error, "sk-query-secret"));
    assert_null(strstr(response.error, "/bot"));
}

static void test_post_body_and_headers_arrive(void **state)
{
    (void)state;
    char url[128];
    make_url(url, sizeof url, "/echo");
    static const char body[] = "{\"a\":1}\0tail";
    const char *headers[] = {"Content-Type: application/json", "X-Custom: abc 123", NULL};
    jv_http_request request = {.struct_size = sizeof request,
                               .method = "POST",
                               .url = url,
                               .headers = headers,
                               .body = body,
                               .body_length = sizeof body - 1};
    jv_http_response response = empty_response();
    assert_int_equal(http_perform(&request, &response), JV_OK);
    assert_int_equal(response.status, 200);
    assert_non_null(strstr(response.body, "POST /echo HTTP/1.1\r\n"));
    assert_non_null(strstr(response.body, "\r\nContent-Type: application/json\r\n"));
    assert_non_null(strstr(response.body, "\r\nX-Custom: abc 123\r\n"));
    assert_non_null(strstr(response.body, "\r\nContent-Length: 12\r\n"));
    assert_null(strcasestr(response.body, "\r\nExpect:"));
    assert_true(response.body_length > sizeof body - 1);
    assert_memory_equal(response.body + response.body_length - (sizeof body - 1), body,
                        sizeof body - 1);
    http_response_release(&response);
}

static void test_large_post_needs_no_100_continue(void **state)
{
    (void)state;
    char url[128];
    make_url(url, sizeof url, "/echo");
    size_t length = 40000;
    char *body = malloc(length);
    assert_non_null(body);
    memset(body, 'p', length);
    jv_http_request request = {.struct_size = sizeof request,
                               .method = "POST",
                               .url = url,
                               .body = body,
                               .body_length = length};
    jv_http_response response = empty_response();
    assert_int_equal(http_perform(&request, &response), JV_OK);
    assert_int_equal(response.status, 200);
    assert_null(strcasestr(response.body, "Expect:"));
    assert_non_null(strstr(response.body, "\r\nContent-Length: 40000\r\n"));
    assert_memory_equal(response.body + response.body_length - length, body, length);
    http_response_release(&response);
    free(body);
}

static void test_get_sends_no_body(void **state)
{
    (void)state;
    char url[128];
    make_url(url, sizeof url, "/echo?x=1");
    jv_http_request request = get_request(url);
    jv_http_response response = empty_response();
    assert_int_equal(http_perform(&request, &response), JV_OK);
    assert_non_null(strstr(response.body, "GET /echo?x=1 HTTP/1.1\r\n"));
    assert_null(strcasestr(response.body, "Content-Length"));
    http_response_release(&response);
}

static void test_body_cap(void **state)
{
    (void)state;
    const char *paths[] = {"/huge", "/huge-declared"};
    for (size_t i = 0; i < 2; i++) {
        char url[128];
        make_url(url, sizeof url, paths[i]);
        jv_http_request request = get_request(url);
        jv_http_response response = empty_response();
        assert_int_equal(http_perform(&request, &response), JV_E_IO);
        assert_null(response.body);
        assert_non_null(strstr(response.error, "larger than 16777216 bytes"));
    }
}

static void test_invalid_requests(void **state)
{
    (void)state;
    char url[128];
    make_url(url, sizeof url, "/ok");
    jv_http_response response = empty_response();

    jv_http_request request = get_request(url);
    request.method = "PUT";
    assert_int_equal(http_perform(&request, &response), JV_E_INVAL);
    assert_non_null(strstr(response.error, "GET or POST"));

    const char *injected[] = {"X-Bad: a\r\nX-Evil: b", NULL};
    request = get_request(url);
    request.headers = injected;
    assert_int_equal(http_perform(&request, &response), JV_E_INVAL);

    request = get_request(NULL);
    assert_int_equal(http_perform(&request, &response), JV_E_INVAL);
    assert_int_equal(http_perform(NULL, &response), JV_E_INVAL);
    assert_int_equal(http_perform(&request, NULL), JV_E_INVAL);
}

static void test_other_protocols_refused(void **state)
{
    (void)state;
    jv_http_request request = get_request("file:///etc/passwd");
    jv_http_response response = empty_response();
    assert_int_equal(http_perform(&request, &response), JV_E_IO);
    assert_null(response.body);
    assert_null(strstr(response.error, "passwd"));
}

#define CLIENT_THREADS 4
#define REQUESTS_PER_THREAD 5

static void *fetch_repeatedly(void *argument)
{
    int *failures = argument;
    char url[128];
    make_url(url, sizeof url, "/ok");
    for (int i = 0; i < REQUESTS_PER_THREAD; i++) {
        jv_http_request request = get_request(url);
        jv_http_response response = empty_response();
        if (http_perform(&request, &response) != JV_OK || response.status != 200 ||
            strcmp(response.body, "hello world") != 0)
            (*failures)++;
        http_response_release(&response);
    }
    return NULL;
}

static void test_concurrent_requests(void **state)
{
    (void)state;
    pthread_t threads[CLIENT_THREADS];
    int failures[CLIENT_THREADS] = {0};
    for (int i = 0; i < CLIENT_THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, fetch_repeatedly, &failures[i]), 0);
    for (int i = 0; i < CLIENT_THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(failures[i], 0);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(http_global_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_200_body),
        cmocka_unit_test(test_empty_body_is_empty_string),
        cmocka_unit_test(test_429_with_retry_after),
        cmocka_unit_test(test_retry_after_http_date),
        cmocka_unit_test(test_404_is_a_response),
        cmocka_unit_test(test_redirect_not_followed),
        cmocka_unit_test(test_slow_answer_times_out),
        cmocka_unit_test(test_connection_refused_error_has_no_url),
        cmocka_unit_test(test_post_body_and_headers_arrive),
        cmocka_unit_test(test_large_post_needs_no_100_continue),
        cmocka_unit_test(test_get_sends_no_body),
        cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_invalid_requests),
        cmocka_unit_test(test_other_protocols_refused),
        cmocka_unit_test(test_concurrent_requests),
    };
    int failures = cmocka_run_group_tests(tests, start_server, stop_server);
    http_global_cleanup();
    return failures;
}
