/*
 * conv.c - reading, validating and writing conversation JSONL (conv.h).
 */
#include "conv.h"

#include "../core/common.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int all_space(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') return 0;
    return 1;
}

void conv_free(conv *c) {
    for (int i = 0; i < c->n; i++) free((char *)c->msgs[i].content);
    free(c->msgs);
    memset(c, 0, sizeof *c);
}

int conv_parse(const char *json, size_t len, conv *c, int prompts) {
    memset(c, 0, sizeof *c);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return err_set("not valid JSON");
    int rc = -1;
    const cJSON *msgs = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "messages")
                                             : NULL;
    if (!cJSON_IsObject(root)) {
        err_set("expected a JSON object with \"messages\"");
        goto out;
    }
    if (!msgs) {
        err_set("no \"messages\" array");
        goto out;
    }
    if (!cJSON_IsArray(msgs)) {
        err_set("\"messages\" is not an array");
        goto out;
    }
    int n = cJSON_GetArraySize(msgs);
    if (n == 0) {
        err_set("\"messages\" is empty");
        goto out;
    }
    c->msgs = xcalloc((size_t)n, sizeof *c->msgs);
    int n_assistant = 0, i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs) {
        i++;
        if (!cJSON_IsObject(m)) {
            err_set("message %d is not an object", i);
            goto out;
        }
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!cJSON_IsString(role)) {
            err_set("message %d has no \"role\" string", i);
            goto out;
        }
        int r = chat_role_parse(role->valuestring);
        if (r < 0) {
            err_set("message %d has unknown role '%.40s' (expected system, user, assistant or tool)",
                    i, role->valuestring);
            goto out;
        }
        if (!content || cJSON_IsNull(content)) {
            err_set("message %d (%s) has no \"content\"", i, role->valuestring);
            goto out;
        }
        if (!cJSON_IsString(content)) {
            err_set("message %d (%s): \"content\" is not a string", i, role->valuestring);
            goto out;
        }
        if (all_space(content->valuestring)) {
            err_set("message %d (%s) has empty content", i, role->valuestring);
            goto out;
        }
        if (r == CHAT_SYSTEM && i != 1) {
            err_set("message %d: a system message may only come first", i);
            goto out;
        }
        if (r == CHAT_ASSISTANT) n_assistant++;
        c->msgs[c->n].role = (chat_role)r;
        c->msgs[c->n].content = xstrdup(content->valuestring);
        c->n++;
    }
    if (!n_assistant && !prompts) {
        err_set("no assistant message (nothing to learn from)");
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc) conv_free(c);
    return rc;
}

int jsonl_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

int jsonl_complete(const char *s, size_t n) {
    cJSON *j = cJSON_ParseWithLength(s, n);
    cJSON_Delete(j);
    return j != NULL;
}

int jsonl_torn(const char *path, size_t line, const char *s, size_t n, int has_nl) {
    if (has_nl || jsonl_complete(s, n)) return 0;
    fprintf(stderr, "llmos: warning: %s:%zu: ignoring a torn last line (%zu bytes, no newline; a "
                    "writer was interrupted)\n", path, line, n);
    return 1;
}

int jsonl_error(const char *path, size_t line, const char *what) {
    char *why = xstrdup(err_msg());
    if (what) err_set("%s:%zu: %s: %s", path, line, what, why);
    else err_set("%s:%zu: %s", path, line, why);
    free(why);
    return -1;
}

int conv_list_read(conv_list *l, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return err_set("cannot open '%s': %s", path, strerror(errno));
    free(l->path);
    l->path = xstrdup(path);
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t n = (size_t)len;
        int has_nl = n && line[n - 1] == '\n';
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        line[n] = 0;
        if (all_space(line)) continue;
        if (memchr(line, 0, n)) {
            rc = err_set("%s:%zu: NUL byte in line", path, lineno);
            break;
        }
        conv c;
        if (conv_parse(line, n, &c, l->prompts)) {
            if (jsonl_torn(path, lineno, line, n, has_nl)) break;
            char *why = xstrdup(err_msg());
            rc = err_set("%s:%zu: %s", path, lineno, why);
            free(why);
            break;
        }
        c.line = lineno;
        if (l->n == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 1024;
            l->items = xrealloc(l->items, l->cap * sizeof *l->items);
        }
        l->items[l->n++] = c;
    }
    if (!rc && ferror(f)) rc = err_set("cannot read '%s': %s", path, strerror(errno));
    free(line);
    fclose(f);
    return rc;
}

void conv_list_free(conv_list *l) {
    for (size_t i = 0; i < l->n; i++) conv_free(&l->items[i]);
    free(l->items);
    free(l->path);
    memset(l, 0, sizeof *l);
}

static void buf_reserve(conv_buf *b, size_t extra) {
    if (b->n + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra + 1) cap *= 2;
    b->s = xrealloc(b->s, cap);
    b->cap = cap;
}

void conv_buf_puts(conv_buf *b, const char *s) {
    size_t n = strlen(s);
    buf_reserve(b, n);
    memcpy(b->s + b->n, s, n + 1);
    b->n += n;
}

void conv_buf_json_str(conv_buf *b, const char *s) {
    buf_reserve(b, strlen(s) * 6 + 2);
    char *p = b->s + b->n;
    *p++ = '"';
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        switch (*q) {
        case '"': *p++ = '\\'; *p++ = '"'; break;
        case '\\': *p++ = '\\'; *p++ = '\\'; break;
        case '\n': *p++ = '\\'; *p++ = 'n'; break;
        case '\t': *p++ = '\\'; *p++ = 't'; break;
        case '\r': *p++ = '\\'; *p++ = 'r'; break;
        default:
            if (*q < 0x20) p += sprintf(p, "\\u%04x", *q);
            else *p++ = (char)*q;
        }
    }
    *p++ = '"';
    *p = 0;
    b->n = (size_t)(p - b->s);
}

void conv_buf_free(conv_buf *b) {
    free(b->s);
    memset(b, 0, sizeof *b);
}

int conv_write(FILE *f, const chat_msg *m, int n, const char *extra) {
    conv_buf b = {0};
    conv_buf_puts(&b, "{\"messages\": [");
    for (int i = 0; i < n; i++) {
        conv_buf_puts(&b, i ? ", {\"role\": \"" : "{\"role\": \"");
        conv_buf_puts(&b, chat_role_name(m[i].role));
        conv_buf_puts(&b, "\", \"content\": ");
        conv_buf_json_str(&b, m[i].content);
        conv_buf_puts(&b, "}");
    }
    conv_buf_puts(&b, "]");
    if (extra) {
        conv_buf_puts(&b, ", ");
        conv_buf_puts(&b, extra);
    }
    conv_buf_puts(&b, "}\n");
    int rc = fwrite(b.s, 1, b.n, f) == b.n ? 0 : -1;
    conv_buf_free(&b);
    return rc;
}

int conv_question(const conv *c, const char **reference) {
    int q = 0;
    while (q < c->n && c->msgs[q].role != CHAT_USER) q++;
    if (q == c->n) q = -1;
    *reference = q >= 0 && q + 1 < c->n && c->msgs[q + 1].role == CHAT_ASSISTANT ? c->msgs[q + 1].content : NULL;
    return q;
}
