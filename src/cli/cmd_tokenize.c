/*
 * cmd_tokenize.c - `llmos tokenize MODEL TEXT`: the token ids and pieces
 * of a text under a model's (or a tokenizer file's) tokenizer. The way to
 * see what a model reads, and the interface tests compare with llama.cpp
 * and tiktoken.
 */
#include "cli.h"

#include "../core/common.h"
#include "../io/gguf.h"
#include "../tokenizer/tokenizer.h"
#include "../tokenizer/unicode.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(void) {
    printf("usage: llmos tokenize MODEL.gguf (TEXT | --file F | --file -) [options]\n"
           "  --file F     tokenize the bytes of file F ('-' for stdin) instead of TEXT\n"
           "  --json       print {\"ids\": [...], \"pieces\": [...]} (pieces are the decoded\n"
           "               bytes; bytes that are not valid UTF-8 show as U+FFFD)\n"
           "  --ids        print only the ids, space-separated, on one line\n"
           "  --special    turn the text of special tokens (<|endoftext|>) into those tokens\n"
           "  --bos        put the BOS token first (when the vocabulary has one)\n"
           "  --threads N  threads for long texts (default: all CPUs); ids do not change\n"
           "  --stats      print only the token count and encoding speed (wall clock and\n"
           "               per CPU second of all threads)\n"
           "  --check      decode the ids again and check that the text comes back byte\n"
           "               for byte (for llama vocabularies: after the added leading space)\n"
           "  --jsonl      the input (TEXT or --file) holds one JSON string per line; print\n"
           "               one JSON array of ids per line (for comparing with other tokenizers)\n"
           "The default output is one token per line: id, then the piece in quotes\n"
           "with C escapes for control and non-UTF-8 bytes.\n"
           "example: llmos tokenize gpt2.gguf \"Hello world\" --json\n");
}

/* Piece bytes as a JSON string; invalid UTF-8 bytes become U+FFFD. */
static void put_json_piece(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
            else if (c < 0x20) fprintf(f, "\\u%04x", c);
            else fputc(c, f);
            i++;
            continue;
        }
        size_t l;
        uint32_t cp = uni_decode((const unsigned char *)s + i, n - i, &l);
        /* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
        int ok = cp != UNI_INVALID && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF) &&
                 l == (size_t)(cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);
        if (ok) fwrite(s + i, 1, l, f);
        else {
            fputs("\xEF\xBF\xBD", f);
            l = 1;
        }
        i += l;
    }
    fputc('"', f);
}

static void put_c_piece(FILE *f, const char *s, size_t n) {
    fputc('\'', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c == '\\' || c == '\'') fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7F) fprintf(f, "\\x%02x", c);
        else fputc(c, f);
    }
    fputc('\'', f);
}

/* --jsonl: each line of text is a JSON string; prints its ids as a JSON array. */
static int tokenize_jsonl(const tokenizer *t, const char *text, size_t len, int bos, int special, int threads) {
    size_t lineno = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        lineno++;
        if (end > pos) {
            cJSON *j = cJSON_ParseWithLength(text + pos, end - pos);
            if (!j || !cJSON_IsString(j)) {
                cJSON_Delete(j);
                return cli_error("tokenize: line %zu is not a JSON string", lineno);
            }
            int *ids;
            size_t n = tok_encode_mt(t, j->valuestring, strlen(j->valuestring), bos, special, &ids, threads);
            putchar('[');
            for (size_t i = 0; i < n; i++) printf(i ? ",%d" : "%d", ids[i]);
            fputs("]\n", stdout);
            free(ids);
            cJSON_Delete(j);
        }
        pos = end + 1;
    }
    return 0;
}

/* --check: the decoded ids must give the text back. */
static int check_roundtrip(const tokenizer *t, const char *text, size_t len, const int *ids, size_t n) {
    size_t off = 0, first = 1;
    /* a llama vocabulary puts a space before the text */
    int skip_space = tok_get_kind(t) == TOK_LLAMA && len > 0;
    for (size_t i = 0; i < n; i++) {
        size_t pl;
        const char *p = tok_decode(t, ids[i], &pl);
        if (first && skip_space && pl && p[0] == ' ') {
            p++;
            pl--;
        }
        first = 0;
        if (off + pl > len || memcmp(text + off, p, pl))
            return cli_error("tokenize: decoding differs from the text at byte %zu (token %zu, id %d)", off, i, ids[i]);
        off += pl;
    }
    if (off != len) return cli_error("tokenize: decoding gives %zu bytes, the text has %zu", off, len);
    printf("roundtrip ok: %zu bytes, %zu tokens\n", len, n);
    return 0;
}

/* CPU time of the whole process (all threads), seconds. */
static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static char *read_stdin(size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, stdin)) > 0) {
        n += r;
        if (n == cap) buf = xrealloc(buf, cap *= 2);
    }
    *len = n;
    return buf;
}

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *text = NULL, *file = NULL;
    int json = 0, jsonl = 0, check = 0, ids_only = 0, special = 0, bos = 0, stats = 0, threads = cli_default_threads();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            usage();
            return 0;
        } else if (!strcmp(a, "--file")) {
            if (!(file = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--ids")) ids_only = 1;
        else if (!strcmp(a, "--special")) special = 1;
        else if (!strcmp(a, "--bos")) bos = 1;
        else if (!strcmp(a, "--stats")) stats = 1;
        else if (!strcmp(a, "--check")) check = 1;
        else if (!strcmp(a, "--jsonl")) jsonl = 1;
        else if (!strcmp(a, "--threads")) {
            const char *v = cli_value(argc, argv, &i);
            long n;
            if (!v) return 2;
            if (parse_long("--threads", v, 1, 1024, &n)) return cli_error(NULL), 2;
            threads = (int)n;
        } else if (a[0] == '-' && a[1] && !(a[1] >= '0' && a[1] <= '9')) return cli_bad_option("tokenize", a);
        else if (!model) model = a;
        else if (!text) text = a;
        else return cli_bad_option("tokenize", a);
    }
    if (!model || (!text) == (!file)) {
        fprintf(stderr, "llmos tokenize: need MODEL and either TEXT or --file (see llmos tokenize --help)\n");
        return 2;
    }
    gguf_file *g = gguf_open(model);
    if (!g) return cli_error(NULL);
    tokenizer *t = tok_from_gguf(g);
    gguf_close(g);
    if (!t) {
        err_prefix(model);
        return cli_error(NULL);
    }
    char *buf = NULL;
    size_t len;
    if (file) {
        buf = !strcmp(file, "-") ? read_stdin(&len) : file_read_all(file, &len);
        if (!buf) {
            tok_free(t);
            return cli_error(NULL);
        }
        text = buf;
    } else len = strlen(text);

    if (jsonl) {
        int rc = tokenize_jsonl(t, text, len, bos, special, threads);
        free(buf);
        tok_free(t);
        if (!rc && fflush(stdout)) rc = cli_error("tokenize: cannot write the output");
        return rc;
    }
    int *ids;
    double t0 = time_now(), c0 = cpu_seconds();
    size_t n = tok_encode_mt(t, text, len, bos, special, &ids, threads);
    double dt = time_now() - t0, dc = cpu_seconds() - c0;
    if (check) {
        int rc = check_roundtrip(t, text, len, ids, n);
        free(ids);
        free(buf);
        tok_free(t);
        return rc;
    }
    if (stats) {
        printf("%zu tokens, %zu bytes, %.3f s, %.2f MB/s, %.2f MB per CPU second, %.3f bytes/token, %d threads\n",
               n, len, dt, dt > 0 ? len / dt / 1e6 : 0.0, dc > 0 ? len / dc / 1e6 : 0.0, n ? (double)len / n : 0.0,
               threads);
    } else if (json) {
        fputs("{\"ids\": [", stdout);
        for (size_t i = 0; i < n; i++) printf(i ? ", %d" : "%d", ids[i]);
        fputs("], \"pieces\": [", stdout);
        for (size_t i = 0; i < n; i++) {
            size_t pl;
            const char *p = tok_decode(t, ids[i], &pl);
            if (i) fputs(", ", stdout);
            put_json_piece(stdout, p, pl);
        }
        fputs("]}\n", stdout);
    } else if (ids_only) {
        for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
        putchar('\n');
    } else {
        for (size_t i = 0; i < n; i++) {
            size_t pl;
            const char *p = tok_decode(t, ids[i], &pl);
            printf("%6d ", ids[i]);
            put_c_piece(stdout, p, pl);
            putchar('\n');
        }
    }
    free(ids);
    free(buf);
    tok_free(t);
    if (fflush(stdout)) return cli_error("tokenize: cannot write the output");
    return 0;
}
