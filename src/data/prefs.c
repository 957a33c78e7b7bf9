/*
 * prefs.c - the judgement store, the preference exchange formats and the
 * merge of several labelers (prefs.h).
 */
#include "prefs.h"

#include "../core/common.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* records                                                                   */

static void msgs_free(chat_msg *m, int n) {
    for (int i = 0; i < n; i++) free((char *)m[i].content);
    free(m);
}

void pref_rec_free(pref_rec *r) {
    free(r->labeler), free(r->time), free(r->model);
    msgs_free(r->prompt, r->n_prompt);
    for (int i = 0; i < r->n_cand; i++) free(r->cand[i]);
    free(r->cand), free(r->rank), free(r->ideal), free(r->src_format), free(r->src_line);
    memset(r, 0, sizeof *r);
}

void pref_time_now(char *buf) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ------------------------------------------------------------------------ */
/* JSON writing, json.dumps style                                            */

/* Appends n bytes (conv_buf keeps a NUL after its text). */
static void put_n(conv_buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        b->s = xrealloc(b->s, cap);
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void putc_buf(conv_buf *b, char c) { put_n(b, &c, 1); }

/* Decodes one UTF-8 sequence at s; returns its length (1 for a bad byte,
 * with *cp = the byte). */
static int utf8_next(const unsigned char *s, unsigned *cp) {
    unsigned c = s[0];
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0) return *cp = c, 1;
    unsigned v = n == 1 ? c : n == 2 ? (c & 31) : n == 3 ? (c & 15) : (c & 7);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return *cp = c, 1;
        v = (v << 6) | (s[i] & 63);
    }
    *cp = v;
    return n;
}

void pref_json_str(conv_buf *b, const char *s, int ascii) {
    char tmp[16];
    putc_buf(b, '"');
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c == '"') conv_buf_puts(b, "\\\""), p++;
        else if (c == '\\') conv_buf_puts(b, "\\\\"), p++;
        else if (c == '\n') conv_buf_puts(b, "\\n"), p++;
        else if (c == '\r') conv_buf_puts(b, "\\r"), p++;
        else if (c == '\t') conv_buf_puts(b, "\\t"), p++;
        else if (c == '\b') conv_buf_puts(b, "\\b"), p++;
        else if (c == '\f') conv_buf_puts(b, "\\f"), p++;
        else if (c < 0x20 || (ascii && c == 0x7f)) {
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
            conv_buf_puts(b, tmp), p++;
        } else if (c < 0x80 || !ascii) {
            const unsigned char *e = p + 1; /* a run of bytes written as they are */
            while (*e && *e >= 0x20 && *e != '"' && *e != '\\' && (!ascii || *e < 0x7f))
                e++;
            put_n(b, (const char *)p, (size_t)(e - p));
            p = e;
        } else {
            unsigned cp;
            p += utf8_next(p, &cp);
            if (cp >= 0x10000) {
                cp -= 0x10000;
                snprintf(tmp, sizeof tmp, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
            } else {
                snprintf(tmp, sizeof tmp, "\\u%04x", cp);
            }
            conv_buf_puts(b, tmp);
        }
    }
    putc_buf(b, '"');
}

static void json_msgs(conv_buf *b, const chat_msg *m, int n, int ascii) {
    conv_buf_puts(b, "[");
    for (int i = 0; i < n; i++) {
        conv_buf_puts(b, i ? ", {\"role\": " : "{\"role\": ");
        pref_json_str(b, chat_role_name(m[i].role), ascii);
        conv_buf_puts(b, ", \"content\": ");
        pref_json_str(b, m[i].content, ascii);
        conv_buf_puts(b, "}");
    }
    conv_buf_puts(b, "]");
}

static void json_int(conv_buf *b, long v) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%ld", v);
    conv_buf_puts(b, tmp);
}

void pref_rec_to_json(const pref_rec *r, conv_buf *b) {
    conv_buf_puts(b, "{\"labeler\": ");
    pref_json_str(b, r->labeler ? r->labeler : "", 0);
    conv_buf_puts(b, ", \"time\": ");
    pref_json_str(b, r->time ? r->time : "", 0);
    conv_buf_puts(b, ", \"model\": ");
    pref_json_str(b, r->model ? r->model : "", 0);
    conv_buf_puts(b, ", \"prompt\": ");
    json_msgs(b, r->prompt, r->n_prompt, 0);
    conv_buf_puts(b, ", \"candidates\": [");
    for (int i = 0; i < r->n_cand; i++) {
        if (i) conv_buf_puts(b, ", ");
        pref_json_str(b, r->cand[i], 0);
    }
    conv_buf_puts(b, "], \"ranks\": [");
    for (int i = 0; i < r->n_cand; i++) {
        if (i) conv_buf_puts(b, ", ");
        json_int(b, r->rank[i]);
    }
    conv_buf_puts(b, "], \"flags\": [");
    static const char *names[] = {"skip", "unsafe", "spam"};
    int first = 1;
    for (int i = 0; i < 3; i++)
        if (r->flags & (1u << i)) {
            conv_buf_puts(b, first ? "\"" : ", \"");
            conv_buf_puts(b, names[i]);
            conv_buf_puts(b, "\"");
            first = 0;
        }
    conv_buf_puts(b, "]");
    if (r->ideal) {
        conv_buf_puts(b, ", \"ideal\": ");
        pref_json_str(b, r->ideal, 0);
    }
    if (r->src_format && r->src_line) {
        conv_buf_puts(b, ", \"source\": {\"format\": ");
        pref_json_str(b, r->src_format, 0);
        conv_buf_puts(b, ", \"line\": ");
        pref_json_str(b, r->src_line, 0);
        conv_buf_puts(b, "}");
    }
    conv_buf_puts(b, "}\n");
}

/* ------------------------------------------------------------------------ */
/* JSON reading                                                              */

static char *get_str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

/* A prompt: a string (one user message) or a message list. */
static int parse_msgs(const cJSON *v, const char *what, chat_msg **out, int *n_out) {
    *out = NULL, *n_out = 0;
    if (cJSON_IsString(v)) {
        *out = xcalloc(1, sizeof **out);
        (*out)[0].role = CHAT_USER;
        (*out)[0].content = xstrdup(v->valuestring);
        *n_out = 1;
        return 0;
    }
    if (!cJSON_IsArray(v)) return err_set("\"%s\" is neither a string nor a message list", what);
    int n = cJSON_GetArraySize(v), i = 0;
    chat_msg *m = xcalloc((size_t)(n ? n : 1), sizeof *m);
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(e, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(e, "content");
        int r = cJSON_IsString(role) ? chat_role_parse(role->valuestring) : -1;
        if (r < 0 || !cJSON_IsString(content)) {
            msgs_free(m, i);
            return err_set("\"%s\" message %d needs a known \"role\" and a string \"content\"",
                           what, i + 1);
        }
        m[i].role = (chat_role)r;
        m[i].content = xstrdup(content->valuestring);
        i++;
    }
    *out = m, *n_out = n;
    return 0;
}

/* A response: a string, or a list holding one assistant message. */
static char *parse_response(const cJSON *v, const char *what) {
    if (cJSON_IsString(v)) return xstrdup(v->valuestring);
    chat_msg *m;
    int n;
    if (!v || parse_msgs(v, what, &m, &n) < 0) {
        if (!v) err_set("no \"%s\"", what);
        return NULL;
    }
    char *s = NULL;
    if (n == 1 && m[0].role == CHAT_ASSISTANT) s = xstrdup(m[0].content);
    else err_set("\"%s\" must be one assistant message", what);
    msgs_free(m, n);
    return s;
}

static int parse_ranks(const cJSON *cands, const cJSON *ranks, pref_rec *r) {
    if (!cJSON_IsArray(cands) || cJSON_GetArraySize(cands) < 1)
        return err_set("\"candidates\" is not a non-empty list");
    int n = cJSON_GetArraySize(cands);
    if (!cJSON_IsArray(ranks) || cJSON_GetArraySize(ranks) != n)
        return err_set("\"ranks\" is not a list as long as \"candidates\"");
    r->cand = xcalloc((size_t)n, sizeof *r->cand);
    r->rank = xcalloc((size_t)n, sizeof *r->rank);
    r->n_cand = n;
    for (int i = 0; i < n; i++) {
        const cJSON *c = cJSON_GetArrayItem(cands, i), *k = cJSON_GetArrayItem(ranks, i);
        if (!cJSON_IsString(c)) return err_set("candidate %d is not a string", i + 1);
        if (!cJSON_IsNumber(k) || k->valuedouble < 0 || k->valuedouble > 1e6 ||
            k->valuedouble != (int)k->valuedouble)
            return err_set("rank %d is not a whole number >= 0", i + 1);
        r->cand[i] = xstrdup(c->valuestring);
        r->rank[i] = (int)k->valuedouble;
    }
    return 0;
}

int pref_rec_parse(const char *line, size_t len, pref_rec *r) {
    memset(r, 0, sizeof *r);
    cJSON *root = cJSON_ParseWithLength(line, len);
    if (!root) return err_set("not valid JSON");
    int rc = -1;
    if (!cJSON_IsObject(root)) {
        err_set("not a JSON object");
        goto out;
    }
    r->labeler = get_str(root, "labeler");
    r->time = get_str(root, "time");
    r->model = get_str(root, "model");
    if (!r->labeler || !r->time || !r->model) {
        err_set("a judgement needs \"labeler\", \"time\" and \"model\" strings");
        goto out;
    }
    if (parse_msgs(cJSON_GetObjectItemCaseSensitive(root, "prompt"), "prompt", &r->prompt,
                   &r->n_prompt) < 0)
        goto out;
    if (parse_ranks(cJSON_GetObjectItemCaseSensitive(root, "candidates"),
                    cJSON_GetObjectItemCaseSensitive(root, "ranks"), r) < 0)
        goto out;
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(root, "flags"), *f;
    if (!cJSON_IsArray(fl)) {
        err_set("\"flags\" is not a list");
        goto out;
    }
    cJSON_ArrayForEach(f, fl) {
        const char *s = cJSON_IsString(f) ? f->valuestring : "";
        if (!strcmp(s, "skip")) r->flags |= PREF_SKIP;
        else if (!strcmp(s, "unsafe")) r->flags |= PREF_UNSAFE;
        else if (!strcmp(s, "spam")) r->flags |= PREF_SPAM;
        else {
            err_set("unknown flag '%.20s' (expected skip, unsafe or spam)", s);
            goto out;
        }
    }
    r->ideal = get_str(root, "ideal");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(root, "source");
    if (cJSON_IsObject(src)) {
        r->src_format = get_str(src, "format");
        r->src_line = get_str(src, "line");
    }
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc < 0) pref_rec_free(r);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* the store                                                                 */

/* The store's tail under the lock: a last line without '\n' that is not
 * complete JSON was torn by a killed writer and is cut off (so a torn line
 * is only ever the last one); a complete one gets its '\n'. */
static int mend_tail(int fd, const char *path) {
    struct stat st;
    if (fstat(fd, &st) < 0) return err_set("cannot stat '%s': %s", path, strerror(errno));
    if (st.st_size == 0) return 0;
    char last;
    if (pread(fd, &last, 1, st.st_size - 1) != 1) return err_set("cannot read '%s': %s", path, strerror(errno));
    if (last == '\n') return 0;
    off_t start = st.st_size > 65536 ? st.st_size - 65536 : 0, cut = -1;
    char *buf = NULL;
    size_t n = 0;
    while (cut < 0) {
        size_t want = (size_t)(st.st_size - start);
        buf = xrealloc(buf, want);
        if (pread(fd, buf, want, start) != (ssize_t)want) {
            free(buf);
            return err_set("cannot read '%s': %s", path, strerror(errno));
        }
        char *nl = memrchr(buf, '\n', want);
        if (nl) cut = start + (nl - buf) + 1, n = want - (size_t)(nl + 1 - buf);
        else if (start == 0) cut = 0, n = want;
        else start = start > 65536 ? start - 65536 : 0;
    }
    int complete = jsonl_complete(buf + (size_t)(cut - start), n);
    free(buf);
    if (complete) {
        if (write(fd, "\n", 1) != 1) return err_set("cannot append to '%s': %s", path, strerror(errno));
        return 0;
    }
    fprintf(stderr, "llmos: warning: %s: cutting off a torn last line (%zu bytes; a writer was "
                    "interrupted)\n", path, n);
    if (ftruncate(fd, cut) < 0) return err_set("cannot truncate '%s': %s", path, strerror(errno));
    return 0;
}

int pref_store_append_lines(const char *path, const char *lines, size_t len) {
    int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return err_set("cannot open '%s': %s", path, strerror(errno));
    int rc = -1;
    struct stat st;
    if (flock(fd, LOCK_EX) < 0) {
        err_set("cannot lock '%s': %s", path, strerror(errno));
        goto out;
    }
    if (mend_tail(fd, path) < 0) goto out;
    if (fstat(fd, &st) < 0) {
        err_set("cannot stat '%s': %s", path, strerror(errno));
        goto out;
    }
    /* all or nothing: on any failure the file is cut back to where it was */
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, lines + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            err_set("cannot append to '%s': %s (nothing was added)", path, w < 0 ? strerror(errno) : "no progress");
            goto undo;
        }
        done += (size_t)w;
    }
    if (fsync(fd) < 0) {
        err_set("cannot sync '%s': %s (nothing was added)", path, strerror(errno));
        goto undo;
    }
    rc = 0;
    goto out;
undo:
    if (ftruncate(fd, st.st_size) < 0 || fsync(fd) < 0)
        err_set("cannot append to '%s', and cannot cut it back to %lld bytes: %s", path,
                (long long)st.st_size, strerror(errno));
out:
    close(fd); /* releases the lock */
    return rc;
}

int pref_store_append(const char *path, const pref_rec *r) {
    conv_buf b = {0};
    pref_rec_to_json(r, &b);
    int rc = pref_store_append_lines(path, b.s, b.n);
    conv_buf_free(&b);
    return rc;
}

static void list_push(pref_list *l, pref_rec *r) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->n++] = *r;
}

int pref_store_read(const char *path, pref_list *l, int missing_ok) {
    size_t len;
    if (missing_ok && access(path, F_OK) != 0) return 0;
    char *data = file_read_all(path, &len);
    if (!data) return -1;
    size_t line = 0;
    int rc = 0;
    for (char *p = data; p < data + len && rc == 0;) {
        char *nl = memchr(p, '\n', (size_t)(data + len - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(data + len - p);
        line++;
        if (!jsonl_blank(p, n)) {
            pref_rec r;
            if (pref_rec_parse(p, n, &r) == 0) list_push(l, &r);
            else if (jsonl_torn(path, line, p, n, nl != NULL)) l->n_bad++;
            else rc = jsonl_error(path, line, "not a judgement");
        }
        p += n + 1;
    }
    free(data);
    return rc;
}

void pref_list_free(pref_list *l) {
    for (size_t i = 0; i < l->n; i++) pref_rec_free(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* ------------------------------------------------------------------------ */
/* exchange formats                                                          */

static const char *g_fmt_names[] = {"store", "pairs", "hh", "ranked"};

int pref_format_parse(const char *name) {
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, g_fmt_names[i])) return i;
    return -1;
}

const char *pref_format_name(pref_format f) { return g_fmt_names[f]; }

/* Splits an HH transcript into turns at "\n\nHuman:" and "\n\nAssistant:"
 * (the space after the colon belongs to the marker when present). */
static int hh_split(const char *s, chat_msg **out, int *n_out) {
    chat_msg *m = NULL;
    int n = 0, cap = 0;
    const char *p = s;
    while (*p) {
        int role;
        size_t ml;
        if (!strncmp(p, "\n\nHuman:", 8)) role = CHAT_USER, ml = 8;
        else if (!strncmp(p, "\n\nAssistant:", 12)) role = CHAT_ASSISTANT, ml = 12;
        else {
            msgs_free(m, n);
            return err_set("transcript does not start a turn with \"\\n\\nHuman:\" or "
                           "\"\\n\\nAssistant:\" at byte %zu", (size_t)(p - s));
        }
        p += ml;
        if (*p == ' ') p++;
        const char *e = p;
        while (*e && strncmp(e, "\n\nHuman:", 8) && strncmp(e, "\n\nAssistant:", 12)) e++;
        if (n == cap) m = xrealloc(m, (size_t)(cap = cap ? 2 * cap : 8) * sizeof *m);
        m[n].role = (chat_role)role;
        m[n].content = xstrndup(p, (size_t)(e - p));
        n++;
        p = e;
    }
    *out = m, *n_out = n;
    return 0;
}

static void hh_write(conv_buf *b, const chat_msg *m, int n, const char *answer) {
    for (int i = 0; i <= n; i++) {
        int role = i < n ? (int)m[i].role : CHAT_ASSISTANT;
        conv_buf_puts(b, role == CHAT_USER ? "\n\nHuman: " : role == CHAT_ASSISTANT
                                                                 ? "\n\nAssistant: "
                                                                 : "\n\nSystem: ");
        conv_buf_puts(b, i < n ? m[i].content : answer);
    }
}

int pref_import_line(pref_format f, const char *line, size_t len, pref_rec *r) {
    memset(r, 0, sizeof *r);
    if (f == PREF_FMT_STORE) return pref_rec_parse(line, len, r);
    cJSON *root = cJSON_ParseWithLength(line, len);
    if (!root) return err_set("not valid JSON");
    int rc = -1;
    if (!cJSON_IsObject(root)) {
        err_set("not a JSON object");
        goto out;
    }
    if (f == PREF_FMT_PAIRS || f == PREF_FMT_RANKED) {
        if (parse_msgs(cJSON_GetObjectItemCaseSensitive(root, "prompt"), "prompt", &r->prompt,
                       &r->n_prompt) < 0)
            goto out;
    }
    if (f == PREF_FMT_PAIRS) {
        r->cand = xcalloc(2, sizeof *r->cand);
        r->rank = xcalloc(2, sizeof *r->rank);
        r->n_cand = 2;
        r->rank[0] = 1, r->rank[1] = 2;
        if (!(r->cand[0] = parse_response(cJSON_GetObjectItemCaseSensitive(root, "chosen"), "chosen")))
            goto out;
        if (!(r->cand[1] = parse_response(cJSON_GetObjectItemCaseSensitive(root, "rejected"),
                                          "rejected")))
            goto out;
    } else if (f == PREF_FMT_RANKED) {
        if (parse_ranks(cJSON_GetObjectItemCaseSensitive(root, "candidates"),
                        cJSON_GetObjectItemCaseSensitive(root, "ranks"), r) < 0)
            goto out;
    } else if (f == PREF_FMT_HH) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "chosen");
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "rejected");
        if (!cJSON_IsString(c) || !cJSON_IsString(j)) {
            err_set("an HH line needs \"chosen\" and \"rejected\" strings");
            goto out;
        }
        chat_msg *mc, *mj;
        int nc, nj;
        if (hh_split(c->valuestring, &mc, &nc) < 0) goto out;
        if (hh_split(j->valuestring, &mj, &nj) < 0) {
            msgs_free(mc, nc);
            goto out;
        }
        int same = nc == nj && nc >= 1 && mc[nc - 1].role == CHAT_ASSISTANT &&
                   mj[nj - 1].role == CHAT_ASSISTANT;
        for (int i = 0; same && i < nc - 1; i++)
            same = mc[i].role == mj[i].role && !strcmp(mc[i].content, mj[i].content);
        if (!same) {
            msgs_free(mc, nc), msgs_free(mj, nj);
            err_set("chosen and rejected must share every turn before a last assistant turn");
            goto out;
        }
        r->prompt = mc, r->n_prompt = nc - 1;
        r->cand = xcalloc(2, sizeof *r->cand);
        r->rank = xcalloc(2, sizeof *r->rank);
        r->n_cand = 2;
        r->cand[0] = (char *)mc[nc - 1].content;
        r->cand[1] = (char *)mj[nj - 1].content;
        mj[nj - 1].content = NULL;
        msgs_free(mj, nj);
        r->rank[0] = 1, r->rank[1] = 2;
    }
    r->src_format = xstrdup(g_fmt_names[f]);
    r->src_line = xstrndup(line, len);
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc < 0) pref_rec_free(r);
    return rc;
}

/* Ordered pairs (i better than j) of a record: the better candidate by
 * (rank, index), then every worse-ranked candidate by index. Skipped and
 * flagged records give none. out holds n_cand^2 entries. */
static int rec_pairs(const pref_rec *r, int (*out)[2]) {
    int n = 0;
    if (r->flags) return 0;
    int *ord = xmalloc((size_t)r->n_cand * sizeof *ord), no = 0;
    for (int i = 0; i < r->n_cand; i++)
        if (r->rank[i] > 0) ord[no++] = i;
    for (int a = 1; a < no; a++) /* stable insertion sort by rank */
        for (int b = a; b > 0 && r->rank[ord[b]] < r->rank[ord[b - 1]]; b--) {
            int t = ord[b];
            ord[b] = ord[b - 1], ord[b - 1] = t;
        }
    for (int a = 0; a < no; a++)
        for (int j = 0; j < r->n_cand; j++)
            if (r->rank[j] > r->rank[ord[a]]) out[n][0] = ord[a], out[n][1] = j, n++;
    free(ord);
    return n;
}

static int plain_prompt(const pref_rec *r) {
    return r->n_prompt == 1 && r->prompt[0].role == CHAT_USER;
}

int pref_export_rec(pref_format f, const pref_rec *r, int raw, int conversational, int ascii,
                    conv_buf *b) {
    if (raw && r->src_line && r->src_format && !strcmp(r->src_format, g_fmt_names[f])) {
        conv_buf_puts(b, r->src_line);
        putc_buf(b, '\n');
        return 1;
    }
    if (f == PREF_FMT_STORE) {
        pref_rec_to_json(r, b);
        return 1;
    }
    int plain = !conversational && plain_prompt(r);
    if (f == PREF_FMT_RANKED) {
        conv_buf_puts(b, "{\"prompt\": ");
        if (plain) pref_json_str(b, r->prompt[0].content, ascii);
        else json_msgs(b, r->prompt, r->n_prompt, ascii);
        conv_buf_puts(b, ", \"candidates\": [");
        for (int i = 0; i < r->n_cand; i++) {
            if (i) conv_buf_puts(b, ", ");
            pref_json_str(b, r->cand[i], ascii);
        }
        conv_buf_puts(b, "], \"ranks\": [");
        for (int i = 0; i < r->n_cand; i++) {
            if (i) conv_buf_puts(b, ", ");
            json_int(b, r->rank[i]);
        }
        conv_buf_puts(b, "]}\n");
        return 1;
    }
    int(*pairs)[2] = xmalloc((size_t)(r->n_cand * r->n_cand + 1) * sizeof *pairs);
    int np = rec_pairs(r, pairs);
    for (int k = 0; k < np; k++) {
        const char *c = r->cand[pairs[k][0]], *j = r->cand[pairs[k][1]];
        if (f == PREF_FMT_HH) {
            conv_buf t = {0};
            conv_buf_puts(b, "{\"chosen\": ");
            hh_write(&t, r->prompt, r->n_prompt, c);
            pref_json_str(b, t.s, ascii);
            t.n = 0;
            conv_buf_puts(&t, "");
            conv_buf_puts(b, ", \"rejected\": ");
            hh_write(&t, r->prompt, r->n_prompt, j);
            pref_json_str(b, t.s, ascii);
            conv_buf_free(&t);
        } else {
            conv_buf_puts(b, "{\"prompt\": ");
            if (plain) pref_json_str(b, r->prompt[0].content, ascii);
            else json_msgs(b, r->prompt, r->n_prompt, ascii);
            for (int s = 0; s < 2; s++) {
                conv_buf_puts(b, s ? ", \"rejected\": " : ", \"chosen\": ");
                if (plain) pref_json_str(b, s ? j : c, ascii);
                else {
                    chat_msg m = {CHAT_ASSISTANT, s ? j : c};
                    json_msgs(b, &m, 1, ascii);
                }
            }
        }
        conv_buf_puts(b, "}\n");
    }
    free(pairs);
    return np;
}

/* The offset of the first byte of s that is not part of valid UTF-8
 * (overlong forms, surrogates and values past U+10FFFF are not), or -1. */
static long utf8_bad_at(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], cp, k = c < 0x80 ? 1 : c >= 0xC2 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3
                                                 : c >= 0xF0 && c < 0xF5 ? 4 : 0;
        if (!k || i + k > n) return (long)i;
        cp = k == 1 ? c : c & (0x7F >> k);
        for (unsigned j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return (long)i;
            cp = (cp << 6) | (s[i + j] & 63);
        }
        if ((k == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return (long)i;
        i += k;
    }
    return -1;
}

int pref_import_file(pref_format f, const char *path, const char *data, size_t len, const char *labeler,
                     const char *time, const char *model, conv_buf *out, size_t *n_rec) {
    size_t line = 0;
    *n_rec = 0;
    for (const char *s = data; s < data + len;) {
        const char *nl = memchr(s, '\n', (size_t)(data + len - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(data + len - s);
        line++;
        if (!jsonl_blank(s, n)) {
            long bad = utf8_bad_at((const unsigned char *)s, n);
            pref_rec r;
            if (bad >= 0)
                return err_set("%s:%zu: not valid UTF-8 (byte 0x%02X at column %ld)", path, line,
                               (unsigned char)s[bad], bad + 1);
            if (pref_import_line(f, s, n, &r) < 0) {
                if (jsonl_torn(path, line, s, n, nl != NULL)) break;
                return jsonl_error(path, line, NULL);
            }
            if (f != PREF_FMT_STORE) { /* a store line keeps its labeler and time */
                r.labeler = xstrdup(labeler), r.time = xstrdup(time), r.model = xstrdup(model);
            }
            pref_rec_to_json(&r, out);
            pref_rec_free(&r);
            (*n_rec)++;
        }
        s += n + 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* pairs                                                                     */

static chat_msg *msgs_dup(const chat_msg *m, int n) {
    chat_msg *d = xcalloc((size_t)(n ? n : 1), sizeof *d);
    for (int i = 0; i < n; i++) d[i].role = m[i].role, d[i].content = xstrdup(m[i].content);
    return d;
}

static void pairs_push(pref_pairs *p, const chat_msg *m, int n, const char *c, const char *j) {
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->items = xrealloc(p->items, p->cap * sizeof *p->items);
    }
    pref_pair *q = &p->items[p->n++];
    q->prompt = msgs_dup(m, n);
    q->n_prompt = n;
    q->chosen = xstrdup(c);
    q->rejected = xstrdup(j);
}

void pref_pairs_free(pref_pairs *p) {
    for (size_t i = 0; i < p->n; i++) {
        msgs_free(p->items[i].prompt, p->items[i].n_prompt);
        free(p->items[i].chosen), free(p->items[i].rejected);
    }
    free(p->items);
    memset(p, 0, sizeof *p);
}

void pref_pairs_from_rec(pref_pairs *p, const pref_rec *r) {
    int(*pairs)[2] = xmalloc((size_t)(r->n_cand * r->n_cand + 1) * sizeof *pairs);
    int np = rec_pairs(r, pairs);
    for (int k = 0; k < np; k++)
        pairs_push(p, r->prompt, r->n_prompt, r->cand[pairs[k][0]], r->cand[pairs[k][1]]);
    free(pairs);
}

int pref_pairs_read(const char *path, pref_pairs *p) {
    size_t len;
    char *data = file_read_all(path, &len);
    if (!data) return -1;
    size_t line = 0;
    int rc = 0;
    for (char *s = data; s < data + len && rc == 0;) {
        char *nl = memchr(s, '\n', (size_t)(data + len - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(data + len - s);
        line++;
        if (!jsonl_blank(s, n)) {
            pref_format f = PREF_FMT_PAIRS;
            if (memmem(s, n, "\"labeler\"", 9)) f = PREF_FMT_STORE;
            else if (memmem(s, n, "\"candidates\"", 12)) f = PREF_FMT_RANKED;
            else if (!memmem(s, n, "\"prompt\"", 8)) f = PREF_FMT_HH;
            pref_rec r;
            if (pref_import_line(f, s, n, &r) == 0) {
                pref_pairs_from_rec(p, &r);
                pref_rec_free(&r);
            } else if (!jsonl_torn(path, line, s, n, nl != NULL)) {
                rc = jsonl_error(path, line, NULL);
            }
        }
        s += n + 1;
    }
    free(data);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* merging                                                                   */

int pref_bradley_terry(const double *wins, int n, double prior, double *score) {
    double *p = xmalloc((size_t)n * sizeof *p), *np = xmalloc((size_t)n * sizeof *np);
    for (int i = 0; i < n; i++) p[i] = 1;
    int it;
    for (it = 1; it <= 1000; it++) {
        double delta = 0;
        for (int i = 0; i < n; i++) {
            double w = 0, d = 0;
            for (int j = 0; j < n; j++) {
                if (j == i) continue;
                double nij = wins[i * n + j] + wins[j * n + i];
                if (nij == 0) continue;
                w += wins[i * n + j] + prior;
                d += (nij + 2 * prior) / (p[i] + p[j]);
            }
            np[i] = d > 0 ? w / d : p[i];
        }
        double lg = 0;
        for (int i = 0; i < n; i++) lg += log(np[i]);
        lg /= n;
        for (int i = 0; i < n; i++) {
            np[i] *= exp(-lg);
            delta = fmax(delta, fabs(log(np[i]) - log(p[i])));
            p[i] = np[i];
        }
        if (delta < 1e-10) break;
    }
    for (int i = 0; i < n; i++) score[i] = log(p[i]);
    free(p), free(np);
    return it;
}

typedef struct {
    char *key;
    size_t idx;
} keyed;

static int keyed_cmp(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

static int find_str(char **v, int n, const char *s) {
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i], s)) return i;
    return -1;
}

void pref_merge(const pref_list *l, pref_pairs *out, FILE *ranked, pref_agreement *ag) {
    memset(ag, 0, sizeof *ag);
    keyed *k = xmalloc((l->n + 1) * sizeof *k);
    size_t nk = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->items[i].flags) continue;
        k[nk].key = chat_render(l->items[i].prompt, l->items[i].n_prompt, 0, NULL);
        k[nk].idx = i;
        nk++;
    }
    qsort(k, nk, sizeof *k, keyed_cmp);
    /* groups, emitted in order of first appearance */
    size_t *gstart = xmalloc((nk + 1) * sizeof *gstart), ng = 0;
    for (size_t i = 0; i < nk; i++)
        if (i == 0 || strcmp(k[i].key, k[i - 1].key)) gstart[ng++] = i;
    gstart[ng] = nk;
    size_t *order = xmalloc((ng + 1) * sizeof *order);
    for (size_t g = 0; g < ng; g++) order[g] = g;
    for (size_t a = 1; a < ng; a++) /* insertion sort by first record index */
        for (size_t b = a; b > 0 && k[gstart[order[b]]].idx < k[gstart[order[b - 1]]].idx; b--) {
            size_t t = order[b];
            order[b] = order[b - 1], order[b - 1] = t;
        }
    double n_first_a = 0, n_first_b = 0; /* for kappa: "lower index wins" per side */
    for (size_t oi = 0; oi < ng; oi++) {
        size_t g = order[oi], g0 = gstart[g], g1 = gstart[g + 1];
        ag->n_prompts++;
        /* the union of candidates */
        int nc = 0, cap = 0;
        char **cs = NULL;
        for (size_t i = g0; i < g1; i++) {
            const pref_rec *r = &l->items[k[i].idx];
            for (int c = 0; c < r->n_cand; c++)
                if (find_str(cs, nc, r->cand[c]) < 0) {
                    if (nc == cap) cs = xrealloc(cs, (size_t)(cap = cap ? 2 * cap : 8) * sizeof *cs);
                    cs[nc++] = r->cand[c];
                }
        }
        double *wins = xcalloc((size_t)nc * nc, sizeof *wins);
        /* per record: its order over the union (0 = unranked) */
        size_t nr = g1 - g0;
        int *rk = xcalloc(nr * (size_t)nc, sizeof *rk);
        for (size_t i = g0; i < g1; i++) {
            const pref_rec *r = &l->items[k[i].idx];
            for (int c = 0; c < r->n_cand; c++)
                rk[(i - g0) * nc + find_str(cs, nc, r->cand[c])] = r->rank[c];
            for (int a = 0; a < nc; a++)
                for (int b = 0; b < nc; b++) {
                    int ra = rk[(i - g0) * nc + a], rb = rk[(i - g0) * nc + b];
                    if (ra && rb && ra < rb) wins[a * nc + b] += 1;
                }
        }
        /* agreement between records of different labelers */
        int multi = 0;
        for (size_t x = g0; x < g1; x++)
            for (size_t y = x + 1; y < g1; y++) {
                const pref_rec *rx = &l->items[k[x].idx], *ry = &l->items[k[y].idx];
                if (!strcmp(rx->labeler, ry->labeler)) continue;
                multi = 1;
                int sw = strcmp(rx->labeler, ry->labeler) > 0; /* side A = smaller name */
                const int *ka = rk + (sw ? y - g0 : x - g0) * nc, *kb = rk + (sw ? x - g0 : y - g0) * nc;
                for (int a = 0; a < nc; a++)
                    for (int b = a + 1; b < nc; b++) {
                        if (!ka[a] || !ka[b] || !kb[a] || !kb[b] || ka[a] == ka[b] || kb[a] == kb[b])
                            continue;
                        int wa = ka[a] < ka[b], wb = kb[a] < kb[b];
                        ag->n_comparisons++;
                        ag->n_agree += wa == wb;
                        n_first_a += wa, n_first_b += wb;
                    }
            }
        ag->n_multi += multi;
        for (int a = 0; a < nc; a++)
            for (int b = 0; b < nc; b++)
                if (wins[a * nc + b] > wins[b * nc + a])
                    pairs_push(out, l->items[k[g0].idx].prompt, l->items[k[g0].idx].n_prompt, cs[a],
                               cs[b]);
        if (ranked) {
            double *sc = xmalloc((size_t)nc * sizeof *sc);
            pref_bradley_terry(wins, nc, 0.1, sc);
            conv_buf b = {0};
            const pref_rec *r0 = &l->items[k[g0].idx];
            conv_buf_puts(&b, "{\"prompt\": ");
            if (plain_prompt(r0)) pref_json_str(&b, r0->prompt[0].content, 1);
            else json_msgs(&b, r0->prompt, r0->n_prompt, 1);
            conv_buf_puts(&b, ", \"candidates\": [");
            for (int c = 0; c < nc; c++) {
                if (c) conv_buf_puts(&b, ", ");
                pref_json_str(&b, cs[c], 1);
            }
            conv_buf_puts(&b, "], \"ranks\": [");
            for (int c = 0; c < nc; c++) {
                int better = 0;
                for (int d = 0; d < nc; d++) better += sc[d] > sc[c] + 1e-9;
                if (c) conv_buf_puts(&b, ", ");
                json_int(&b, better + 1);
            }
            conv_buf_puts(&b, "], \"scores\": [");
            for (int c = 0; c < nc; c++) {
                char tmp[32];
                snprintf(tmp, sizeof tmp, "%s%.4f", c ? ", " : "", sc[c]);
                conv_buf_puts(&b, tmp);
            }
            char tmp[64];
            snprintf(tmp, sizeof tmp, "], \"judgements\": %zu}\n", nr);
            conv_buf_puts(&b, tmp);
            fwrite(b.s, 1, b.n, ranked);
            conv_buf_free(&b);
            free(sc);
        }
        free(rk), free(wins), free(cs);
    }
    for (size_t i = 0; i < nk; i++) free(k[i].key);
    free(k), free(gstart), free(order);
    if (ag->n_comparisons) {
        double n = (double)ag->n_comparisons;
        ag->rate = ag->n_agree / n;
        double pa = n_first_a / n, pb = n_first_b / n;
        double pe = pa * pb + (1 - pa) * (1 - pb);
        ag->kappa = pe < 1 ? (ag->rate - pe) / (1 - pe) : NAN;
    } else {
        ag->rate = ag->kappa = NAN;
    }
}
