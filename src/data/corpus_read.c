/*
 * corpus_read.c - the corpus builder's generic readers: files and folders
 * (format by extension, gzip'd or not), JSONL with a "text" field, GNU info
 * manuals, and URLs fetched with libcurl (http, https, file). Every bad
 * input is reported through corpus_skip and skipped; nothing here is fatal
 * except a SPEC that names nothing usable.
 */
#include "corpus.h"

#include "../core/common.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <fnmatch.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zlib.h>

#define URL_MAX_BYTES ((size_t)1 << 30)

typedef enum { FMT_UNKNOWN, FMT_TEXT, FMT_HTML, FMT_JSONL, FMT_POD, FMT_INFO, FMT_ROFF } fmt_kind;

/* The format of a file by its name (a trailing .gz/.dz ignored). */
static fmt_kind fmt_of_name(const char *name) {
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    size_t n = strlen(base);
    if (n > 3 && (!strcmp(base + n - 3, ".gz") || !strcmp(base + n - 3, ".dz"))) n -= 3;
    const char *dot = NULL;
    for (size_t i = n; i > 0; i--)
        if (base[i - 1] == '.') { dot = base + i - 1; break; }
    if (!dot) return FMT_UNKNOWN;
    char ext[16];
    size_t el = (size_t)(base + n - dot - 1);
    if (el == 0 || el >= sizeof ext) return FMT_UNKNOWN;
    for (size_t i = 0; i < el; i++) ext[i] = (char)tolower((unsigned char)dot[1 + i]);
    ext[el] = 0;
    static const char *text[] = {"txt", "text", "md", "markdown", "rst", "rest", "adoc", "asciidoc"};
    for (size_t i = 0; i < ARRAY_LEN(text); i++)
        if (!strcmp(ext, text[i])) return FMT_TEXT;
    if (!strcmp(ext, "html") || !strcmp(ext, "htm") || !strcmp(ext, "xhtml")) return FMT_HTML;
    if (!strcmp(ext, "jsonl") || !strcmp(ext, "ndjson")) return FMT_JSONL;
    if (!strcmp(ext, "pod")) return FMT_POD;
    if (!strcmp(ext, "info")) return FMT_INFO;
    /* foo.info-2 */
    if (strstr(base, ".info-") && isdigit((unsigned char)base[n - 1])) return FMT_INFO;
    /* man pages: .1 .. .9 with an optional suffix (3perl, 1ssl) */
    if (ext[0] >= '1' && ext[0] <= '9') {
        size_t i = 1;
        while (ext[i] && isalpha((unsigned char)ext[i])) i++;
        if (!ext[i]) return FMT_ROFF;
    }
    return FMT_UNKNOWN;
}

char *corpus_slurp(const char *path, size_t *len) {
    size_t n = strlen(path);
    if (n > 3 && (!strcmp(path + n - 3, ".gz") || !strcmp(path + n - 3, ".dz"))) {
        gzFile g = gzopen(path, "rb");
        if (!g) {
            err_set("cannot open '%s': %s", path, strerror(errno ? errno : ENOENT));
            return NULL;
        }
        size_t cap = 1 << 16, m = 0;
        char *buf = xmalloc(cap);
        for (;;) {
            if (m + 1 >= cap) buf = xrealloc(buf, cap *= 2);
            unsigned want = (unsigned)MIN(cap - m - 1, (size_t)1 << 30);
            int got = gzread(g, buf + m, want);
            if (got < 0) {
                int e;
                const char *msg = gzerror(g, &e);
                err_set("cannot decompress '%s': %s", path, msg);
                gzclose(g);
                free(buf);
                return NULL;
            }
            if (got == 0) break;
            m += (size_t)got;
        }
        int e = Z_OK;
        const char *msg = gzerror(g, &e);
        if (e != Z_OK && e != Z_STREAM_END) { /* e.g. a truncated file */
            err_set("cannot decompress '%s': %s", path, msg);
            gzclose(g);
            free(buf);
            return NULL;
        }
        gzclose(g);
        buf[m] = 0;
        *len = m;
        return buf;
    }
    return file_read_all(path, len);
}

/* ---- formats ---------------------------------------------------------------- */

static void read_jsonl(corpus *c, int src, const char *name, const char *s, size_t n) {
    size_t lineno = 0, bad = 0;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - s) : n;
        lineno++;
        size_t a = i;
        while (a < e && isspace((unsigned char)s[a])) a++;
        if (a < e) {
            cJSON *j = cJSON_ParseWithLength(s + a, e - a);
            const cJSON *t = j ? cJSON_GetObjectItemCaseSensitive(j, "text") : NULL;
            if (cJSON_IsString(t) && t->valuestring) corpus_add(c, src, t->valuestring, strlen(t->valuestring));
            else if (bad++ < 3) {
                char what[512];
                snprintf(what, sizeof what, "%s:%zu", name, lineno);
                corpus_skip(c, CORPUS_SKIP_BAD_FORMAT, what, j ? "no \"text\" string" : "not JSON");
            } else {
                corpus_skip(c, CORPUS_SKIP_BAD_FORMAT, name, "bad JSONL line");
            }
            cJSON_Delete(j);
        }
        i = e + 1;
    }
}

/* GNU info: nodes separated by 0x1F; the "File: ... Node: ..." header line
 * and the tag tables are dropped. */
static void read_info(corpus *c, int src, const char *s, size_t n) {
    char *out = xmalloc(n + 1);
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        const char *sep = memchr(s + i, 0x1F, n - i);
        size_t e = sep ? (size_t)(sep - s) : n;
        const char *node = s + i;
        size_t len = e - i;
        while (len && (*node == '\n' || *node == '\f')) { node++; len--; }
        int skip = (len >= 10 && !memcmp(node, "Tag Table:", 10)) || (len >= 9 && !memcmp(node, "Indirect:", 9)) ||
                   (len >= 14 && !memcmp(node, "End Tag Table", 13));
        if (!skip && len >= 5 && !memcmp(node, "File:", 5)) {
            const char *nl = memchr(node, '\n', len);
            size_t h = nl ? (size_t)(nl - node) + 1 : len;
            node += h;
            len -= h;
        } else if (!skip && i == 0) {
            skip = 1; /* the preamble before the first node (license header of the file) */
            if (len && memmem(node, len, "INFO-DIR-SECTION", 16) == NULL) skip = 0;
        }
        if (!skip && len) {
            memcpy(out + w, node, len);
            w += len;
            out[w++] = '\n';
        }
        i = sep ? e + 1 : n;
    }
    corpus_add(c, src, out, w);
    free(out);
}

void corpus_read_buffer(corpus *c, int src, const char *name, char *buf, size_t len) {
    fmt_kind f = fmt_of_name(name);
    if (len == 0) {
        corpus_skip(c, CORPUS_SKIP_EMPTY, name, "empty file");
        free(buf);
        return;
    }
    if (f != FMT_INFO && text_is_binary(buf, len)) {
        corpus_skip(c, CORPUS_SKIP_BINARY, name, "binary data");
        free(buf);
        return;
    }
    char *t = NULL;
    size_t tl = 0;
    switch (f) {
    case FMT_HTML:
        if (memmem(buf, MIN(len, (size_t)2048), "http-equiv=\"refresh\"", 20)) { free(buf); return; } /* a redirect */
        t = text_from_html(buf, len, &tl);
        break;
    case FMT_POD: t = text_from_pod(buf, len, &tl); break;
    case FMT_ROFF:
        if (len >= 4 && !memcmp(buf, ".so ", 4)) { free(buf); return; } /* an alias page */
        t = text_from_roff(buf, len, &tl);
        break;
    case FMT_JSONL: read_jsonl(c, src, name, buf, len); free(buf); return;
    case FMT_INFO: read_info(c, src, buf, len); free(buf); return;
    default:
        /* an HTML page served under another name */
        if (len > 15 && (!strncasecmp(buf, "<!doctype html", 14) || !strncasecmp(buf, "<html", 5)))
            t = text_from_html(buf, len, &tl);
        break;
    }
    if (t) {
        free(buf);
        buf = t;
        len = tl;
    }
    size_t i = 0;
    while (i < len && isspace((unsigned char)buf[i])) i++;
    if (i == len) corpus_skip(c, CORPUS_SKIP_EMPTY, name, "no text");
    else corpus_add(c, src, buf, len);
    free(buf);
}

/* ---- files and folders ------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* For NAME.index beside NAME.dict.dz (or NAME.dict): NAME, else NULL. */
static char *dictd_base(const char *path) {
    size_t n = strlen(path);
    if (n < 7 || strcmp(path + n - 6, ".index")) return NULL;
    char *base = xstrndup(path, n - 6), *p = xmalloc(n + 8);
    struct stat st;
    snprintf(p, n + 8, "%s.dict.dz", base);
    int ok = stat(p, &st) == 0;
    snprintf(p, n + 8, "%s.dict", base);
    ok = ok || stat(p, &st) == 0;
    free(p);
    if (!ok) { free(base); return NULL; }
    return base;
}

static void read_file(corpus *c, int src, const char *path) {
    char *dict = dictd_base(path);
    if (dict) {
        corpus_read_dictd(c, src, dict);
        free(dict);
        return;
    }
    size_t len;
    char *buf = corpus_slurp(path, &len);
    if (!buf) {
        corpus_skip(c, strstr(err_msg(), "decompress") ? CORPUS_SKIP_BAD_FORMAT : CORPUS_SKIP_UNREADABLE, path,
                    err_msg());
        return;
    }
    corpus_read_buffer(c, src, path, buf, len);
    corpus_progress(c, path);
}

/* 1 when path matches one of the space-separated fnmatch patterns. */
static int excluded(const char *path, const char *exclude) {
    if (!exclude || !*exclude) return 0;
    char *pats = xstrdup(exclude), *save = NULL;
    int hit = 0;
    for (char *p = strtok_r(pats, " ", &save); p && !hit; p = strtok_r(NULL, " ", &save))
        hit = fnmatch(p, path, 0) == 0;
    free(pats);
    return hit;
}

/* Walks dir in name order; files of a known format (any file with any_ext)
 * are read, symlinks are not followed (Debian trees link the same docs
 * under two names). */
static void read_dir(corpus *c, int src, const char *dir, int depth, const char *exclude, int any_ext) {
    DIR *d = opendir(dir);
    if (!d) {
        corpus_skip(c, CORPUS_SKIP_UNREADABLE, dir, strerror(errno));
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) names = xrealloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        size_t pl = strlen(dir) + strlen(names[i]) + 2;
        char *p = xmalloc(pl);
        snprintf(p, pl, "%s/%s", dir, names[i]);
        struct stat st;
        if (excluded(p, exclude)) {
            /* left out on purpose */
        } else if (lstat(p, &st) != 0) corpus_skip(c, CORPUS_SKIP_UNREADABLE, p, strerror(errno));
        else if (S_ISDIR(st.st_mode) && depth < 32) read_dir(c, src, p, depth + 1, exclude, any_ext);
        else if (S_ISREG(st.st_mode) && (any_ext || fmt_of_name(p) != FMT_UNKNOWN)) read_file(c, src, p);
        else if (S_ISREG(st.st_mode)) {
            char *dict = dictd_base(p);
            if (dict) read_file(c, src, p);
            free(dict);
        }
        free(p);
        free(names[i]);
    }
    free(names);
}

void corpus_read_path(corpus *c, int src, const char *path, const char *exclude, int any_ext) {
    struct stat st;
    if (stat(path, &st) != 0) corpus_skip(c, CORPUS_SKIP_UNREADABLE, path, strerror(errno));
    else if (S_ISDIR(st.st_mode)) read_dir(c, src, path, 0, exclude, any_ext);
    else if (!excluded(path, exclude)) read_file(c, src, path);
}

/* ---- URLs ---------------------------------------------------------------------- */

typedef struct { char *p; size_t n, cap; int over; } url_buf;

static size_t url_write(char *data, size_t size, size_t nmemb, void *user) {
    url_buf *b = user;
    size_t n = size * nmemb;
    if (b->n + n + 1 > URL_MAX_BYTES) { b->over = 1; return 0; }
    if (b->n + n + 1 > b->cap) {
        while (b->n + n + 1 > b->cap) b->cap = b->cap ? b->cap * 2 : 65536;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
    return n;
}

static int g_curl_ready;

static void read_url(corpus *c, int src, const char *url) {
    if (!g_curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        g_curl_ready = 1;
    }
    CURL *h = curl_easy_init();
    if (!h) {
        corpus_skip(c, CORPUS_SKIP_URL, url, "cannot start libcurl");
        return;
    }
    url_buf b = {0};
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, url_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 100L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "llmos/" LLMOS_VERSION);
    CURLcode rc = curl_easy_perform(h);
    char *ctype = NULL;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
    char name[1024];
    /* the format from the URL path, else from the content type */
    size_t ul = strcspn(url, "?#");
    snprintf(name, sizeof name, "%.*s", (int)MIN(ul, sizeof name - 1), url);
    if (fmt_of_name(name) == FMT_UNKNOWN && ctype) {
        if (strstr(ctype, "html")) snprintf(name, sizeof name, "%.*s.html", (int)MIN(ul, sizeof name - 8), url);
        else if (strstr(ctype, "ndjson") || strstr(ctype, "jsonl")) snprintf(name, sizeof name, "%.*s.jsonl", (int)MIN(ul, sizeof name - 8), url);
    }
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
        corpus_skip(c, CORPUS_SKIP_URL, url, b.over ? "larger than 1 GiB" : (errbuf[0] ? errbuf : curl_easy_strerror(rc)));
        free(b.p);
        return;
    }
    if (!b.p) b.p = xmalloc(1);
    /* a .gz file served as is */
    if (b.n >= 2 && (unsigned char)b.p[0] == 0x1f && (unsigned char)b.p[1] == 0x8b) {
        z_stream z = {0};
        size_t cap = b.n * 4 + 65536, m = 0;
        char *out = xmalloc(cap);
        int ok = inflateInit2(&z, 16 + MAX_WBITS) == Z_OK;
        z.next_in = (unsigned char *)b.p;
        z.avail_in = (unsigned)b.n;
        int zr = Z_OK;
        while (ok && zr != Z_STREAM_END) {
            if (cap - m < 65536) out = xrealloc(out, cap *= 2);
            z.next_out = (unsigned char *)out + m;
            z.avail_out = (unsigned)(cap - m - 1);
            zr = inflate(&z, Z_NO_FLUSH);
            m = cap - 1 - z.avail_out;
            if (zr != Z_OK && zr != Z_STREAM_END) ok = 0;
            if (m > URL_MAX_BYTES) ok = 0;
        }
        inflateEnd(&z);
        free(b.p);
        if (!ok) {
            free(out);
            corpus_skip(c, CORPUS_SKIP_BAD_FORMAT, url, "corrupt gzip data");
            return;
        }
        b.p = out;
        b.n = m;
        size_t nl = strlen(name);
        if (nl > 3 && !strcmp(name + nl - 3, ".gz")) name[nl - 3] = 0;
    }
    b.p[b.n] = 0;
    corpus_read_buffer(c, src, name, b.p, b.n);
    corpus_progress(c, url);
}

/* ---- specs ---------------------------------------------------------------------- */

static int is_url(const char *s) {
    return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8) || !strncmp(s, "file://", 7) ||
           !strncmp(s, "ftp://", 6);
}

/* The default source name: the last path component without extensions. */
static char *default_name(const char *path) {
    size_t n = strcspn(path, "?#");
    while (n > 1 && path[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && path[b - 1] != '/') b--;
    if (b == n) return xstrdup("input");
    char *s = xstrndup(path + b, n - b);
    char *dot = strchr(s + 1, '.');
    if (dot && s[0] != '.') *dot = 0;
    if (!s[0]) {
        free(s);
        return xstrdup("input");
    }
    return s;
}

int corpus_read_spec(corpus *c, const char *spec, const char *license) {
    const char *path = spec;
    char *name = NULL;
    const char *eq = strchr(spec, '=');
    if (eq && eq > spec) {
        int ok = 1;
        for (const char *p = spec; p < eq; p++)
            if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.')) ok = 0;
        if (ok) {
            name = xstrndup(spec, (size_t)(eq - spec));
            path = eq + 1;
        }
    }
    if (!*path) {
        free(name);
        return err_set("empty source in '%s'", spec);
    }
    if (!name) name = default_name(path);
    int src = corpus_source(c, name, license ? license : "unknown");
    free(name);
    if (is_url(path)) {
        read_url(c, src, path);
        return 0;
    }
    corpus_read_path(c, src, path, NULL, 0);
    return 0;
}
