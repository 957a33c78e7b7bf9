/*
 * http.c - the HTTP plumbing of the local web servers (see http.h).
 */
#include "http.h"

#include "../core/common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct http_server {
    struct MHD_Daemon *d;
    http_config cfg;
    http_handler handler;
    void *ctx;
    int port, loopback;
    char url[400];
};

enum { HTTP_MAX_EXTRA = 8 };

/* One request's state over the calls libmicrohttpd makes: the body as it
 * arrives, then the request handed to the handler. */
typedef struct {
    http_request rq;
    char *body;
    size_t n, cap;
    int n_extra;
    char *extra[HTTP_MAX_EXTRA][2];
} http_conn_req;

/* ---- replies ---- */

static void http_add_common(http_request *rq, struct MHD_Response *r, const char *type) {
    http_conn_req *cr = (http_conn_req *)rq;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    for (int i = 0; i < cr->n_extra; i++) MHD_add_response_header(r, cr->extra[i][0], cr->extra[i][1]);
}

enum MHD_Result http_reply(http_request *rq, unsigned status, const char *type, const char *body, size_t len) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    http_add_common(rq, r, type);
    enum MHD_Result ok = MHD_queue_response(rq->conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result http_reply_json(http_request *rq, unsigned status, cJSON *j) {
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!s) return MHD_NO;
    enum MHD_Result ok = http_reply(rq, status, "application/json; charset=utf-8", s, strlen(s));
    free(s);
    return ok;
}

enum MHD_Result http_reply_error(http_request *rq, unsigned status, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", msg);
    return http_reply_json(rq, status, j);
}

typedef struct {
    http_stream_fn read;
    void (*done)(void *ctx);
    void *ctx;
} http_stream;

static ssize_t http_stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    http_stream *s = cls;
    long n = s->read(s->ctx, buf, max);
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void http_stream_free(void *cls) {
    http_stream *s = cls;
    if (s->done) s->done(s->ctx);
    free(s);
}

enum MHD_Result http_reply_stream(http_request *rq, unsigned status, const char *type, http_stream_fn read,
                                  void *ctx, void (*done)(void *ctx)) {
    http_stream *s = xcalloc(1, sizeof *s);
    *s = (http_stream){read, done, ctx};
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, http_stream_read, s, http_stream_free);
    if (!r) {
        http_stream_free(s);
        return MHD_NO;
    }
    http_add_common(rq, r, type);
    enum MHD_Result ok = MHD_queue_response(rq->conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

void http_add_header(http_request *rq, const char *name, const char *value) {
    http_conn_req *cr = (http_conn_req *)rq;
    LLMOS_ASSERT(cr->n_extra < HTTP_MAX_EXTRA);
    cr->extra[cr->n_extra][0] = xstrdup(name);
    cr->extra[cr->n_extra][1] = xstrdup(value);
    cr->n_extra++;
}

const char *http_header(const http_request *rq, const char *name) {
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

int http_client_gone(const http_request *rq) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return 1;
    struct pollfd p = {.fd = ci->connect_fd, .events = POLLRDHUP};
    if (poll(&p, 1, 0) <= 0) return 0;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

int http_host_is_loopback(const char *host) {
    if (!host) return 1;
    char name[256];
    size_t n;
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        if (!end || (size_t)(end - host - 1) >= sizeof name) return 0;
        n = (size_t)(end - host - 1);
        memcpy(name, host + 1, n);
    } else {
        n = strcspn(host, ":");
        if (n >= sizeof name) return 0;
        memcpy(name, host, n);
    }
    name[n] = 0;
    struct in_addr a4;
    struct in6_addr a6;
    if (!strcasecmp(name, "localhost")) return 1;
    if (inet_pton(AF_INET, name, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, name, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* ---- libmicrohttpd callbacks ---- */

static enum MHD_Result http_on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                       const char *version, const char *upload, size_t *upload_size,
                                       void **req_cls) {
    http_server *s = cls;
    http_conn_req *cr = *req_cls;
    if (!cr) { /* the headers: the body (if any) comes in the next calls */
        *req_cls = cr = xcalloc(1, sizeof *cr);
        cr->rq.conn = c;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (cr->rq.too_big || cr->n + n > s->cfg.max_body) {
            cr->rq.too_big = 1;
            return MHD_YES;
        }
        if (cr->n + n + 1 > cr->cap) {
            cr->cap = (cr->n + n + 1) * 2;
            cr->body = xrealloc(cr->body, cr->cap);
        }
        memcpy(cr->body + cr->n, upload, n);
        cr->n += n;
        return MHD_YES;
    }
    if (!cr->body) cr->body = xcalloc(1, 1);
    cr->body[cr->n] = 0;
    http_request *rq = &cr->rq;
    rq->method = method;
    rq->url = url;
    rq->body = cr->body;
    rq->body_len = cr->n;
    rq->get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    rq->post = !strcmp(method, "POST");
    rq->loopback = s->loopback;
    return s->handler(s->ctx, rq);
}

static void http_on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                              enum MHD_RequestTerminationCode why) {
    http_conn_req *cr = *req_cls;
    if (!cr) return;
    if (cr->rq.on_done) cr->rq.on_done(cr->rq.user);
    for (int i = 0; i < cr->n_extra; i++) free(cr->extra[i][0]), free(cr->extra[i][1]);
    free(cr->body);
    free(cr);
    *req_cls = NULL;
}

/* ---- the server ---- */

/* A listening TCP socket on host:port (s->port gets the real one when 0
 * was asked, s->loopback whether the address is a loopback one) and the
 * URL to print. -1 with err_set. */
static int http_listen(http_server *s, const char *host, int port) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int e = getaddrinfo(host, ps, &hints, &ai);
    if (e) return err_set("cannot listen on '%s': %s", host, gai_strerror(e));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
        err_set("cannot listen on %s port %d: %s", host, port, strerror(errno));
        if (fd >= 0) close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    s->loopback = 0;
    s->port = port;
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0 && sa.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&sa;
        s->port = ntohs(a->sin6_port);
        s->loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
    } else if (sa.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&sa;
        s->port = ntohs(a->sin_port);
        s->loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    snprintf(s->url, sizeof s->url, ai->ai_family == AF_INET6 ? "http://[%s]:%d/" : "http://%s:%d/", host, s->port);
    freeaddrinfo(ai);
    return fd;
}

http_server *http_server_start(const http_config *cfg, http_handler h, void *ctx) {
    http_server *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->handler = h;
    s->ctx = ctx;
    int fd = http_listen(s, cfg->host, cfg->port);
    if (fd < 0) {
        free(s);
        return NULL;
    }
    unsigned flags = cfg->thread_per_connection
                         ? MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO
                         : MHD_USE_AUTO_INTERNAL_THREAD;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_LISTEN_SOCKET, fd, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)http_on_completed, NULL},
        {cfg->timeout_s ? MHD_OPTION_CONNECTION_TIMEOUT : MHD_OPTION_END, cfg->timeout_s, NULL},
        {cfg->max_connections ? MHD_OPTION_CONNECTION_LIMIT : MHD_OPTION_END, cfg->max_connections, NULL},
        {cfg->max_per_ip ? MHD_OPTION_PER_IP_CONNECTION_LIMIT : MHD_OPTION_END, cfg->max_per_ip, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    /* an absent option ends the array early: compact the present ones */
    struct MHD_OptionItem list[6];
    int n = 0;
    for (size_t i = 0; i + 1 < sizeof opts / sizeof *opts; i++)
        if (opts[i].option != MHD_OPTION_END) list[n++] = opts[i];
    list[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, http_on_request, s, MHD_OPTION_ARRAY, list, MHD_OPTION_END);
    if (!s->d) {
        close(fd);
        err_set("cannot start the web server on %s", s->url);
        free(s);
        return NULL;
    }
    return s;
}

void http_server_stop(http_server *s) {
    if (!s) return;
    MHD_stop_daemon(s->d); /* closes the socket */
    free(s);
}

int http_server_port(const http_server *s) { return s->port; }
const char *http_server_url(const http_server *s) { return s->url; }

void http_block_signals(sigset_t *old) {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, old);
}

int http_wait_signal(void) {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    int sig = 0;
    sigwait(&stop, &sig);
    return sig;
}
