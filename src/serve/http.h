/*
 * http.h - the HTTP plumbing the local web servers share (`llmos label
 * --web`, `llmos serve`), on libmicrohttpd: a listening socket on a host
 * and port (port 0: any free one), request bodies gathered up to a limit,
 * replies with the headers every page gets, a guard against DNS
 * rebinding on loopback servers, and the signal handling that stops a
 * server cleanly.
 *
 * Every server runs with connection timeouts (an idle or stalled client
 * is dropped after timeout_s seconds) and a limit on connections, in all
 * and from one address, so that one client cannot hold every connection.
 *
 * Two modes. With thread_per_connection, each connection has its own
 * thread and a handler may block (waiting for a model's tokens, or
 * streaming them through http_reply_stream); otherwise one internal
 * thread serves every request in turn.
 *
 * Ownership: an http_request, its body and its user pointer live from the
 * request's headers to its end; the handler owns nothing of it. The
 * handler's reply functions copy what they are given.
 */
#ifndef LLMOS_HTTP_H
#define LLMOS_HTTP_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

typedef struct http_server http_server;

typedef struct {
    const char *host;          /* "127.0.0.1" */
    int port;                  /* 0: a free port, read back in http_server_port */
    size_t max_body;           /* bodies over this get too_big set, not stored */
    int thread_per_connection; /* 1: handlers may block */
    unsigned timeout_s;        /* idle connection timeout; 0: none */
    unsigned max_connections;  /* in all; 0: libmicrohttpd's default */
    unsigned max_per_ip;       /* from one address; 0: no limit */
} http_config;

typedef struct {
    struct MHD_Connection *conn;
    const char *method, *url;
    const char *body; /* NUL-terminated copy of the body (may be empty) */
    size_t body_len;
    int too_big;      /* the body was over max_body (and was dropped) */
    int get, post;    /* method is GET or HEAD; method is POST */
    int loopback;     /* the server listens on a loopback address only */
    void *user;       /* for the handler: freed by on_done when set */
    void (*on_done)(void *user);
} http_request;

/* Called once per request, after the whole body has arrived; returns what
 * an http_reply* call returned. */
typedef enum MHD_Result (*http_handler)(void *ctx, http_request *rq);

/* Listens and starts serving. NULL with err_set ("cannot listen on
 * 127.0.0.1 port 8080: Address already in use") on failure. */
http_server *http_server_start(const http_config *cfg, http_handler h, void *ctx);
/* Stops accepting, ends every connection (waiting for running handlers)
 * and frees the server. */
void http_server_stop(http_server *s);
int http_server_port(const http_server *s);
/* "http://127.0.0.1:8080/" */
const char *http_server_url(const http_server *s);

/* Replies. Each returns MHD_NO when the reply could not be queued. */
enum MHD_Result http_reply(http_request *rq, unsigned status, const char *type, const char *body, size_t len);
/* Sends j (freed here) as the JSON body. */
enum MHD_Result http_reply_json(http_request *rq, unsigned status, cJSON *j);
/* {"error": "MSG"}, the label page's error shape. */
enum MHD_Result http_reply_error(http_request *rq, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A reply of unknown length, written as it is produced (server-sent
 * events): read() is called from the connection's thread, may block, and
 * returns the bytes it put in buf (at most max), or -1 at the end.
 * done(ctx) is called once when the reply ends or the client is gone. */
typedef long (*http_stream_fn)(void *ctx, char *buf, size_t max);
enum MHD_Result http_reply_stream(http_request *rq, unsigned status, const char *type, http_stream_fn read,
                                  void *ctx, void (*done)(void *ctx));
/* Adds a header to every reply of this request made after the call
 * (at most 8). */
void http_add_header(http_request *rq, const char *name, const char *value);

/* A request header, or NULL. */
const char *http_header(const http_request *rq, const char *name);
/* 1 when the client has closed its side of the connection (checked without
 * waiting): what a handler that waits polls to stop work nobody reads. */
int http_client_gone(const http_request *rq);

/* 1 when a Host header names this machine's loopback interface (or is
 * absent, as HTTP/1.0 allows). */
int http_host_is_loopback(const char *host);

/* Blocks SIGINT and SIGTERM in the calling thread and the threads it
 * starts from now on (old mask in *old), so that http_wait_signal alone
 * sees them; http_wait_signal returns the one that came. */
void http_block_signals(sigset_t *old);
int http_wait_signal(void);

#endif
