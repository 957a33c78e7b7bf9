/*
 * cmd_tokenizer_train.c - `llmos tokenizer train`: learn a byte-level BPE
 * tokenizer from text files, folders, JSONL or stdin, and write it as a
 * GGUF with no tensors; `llmos tokenizer info`: what a tokenizer holds and
 * how well it compresses a given text.
 */
#include "cli.h"

#include "../core/common.h"
#include "../io/gguf.h"
#include "../tokenizer/tokenizer.h"
#include "../tokenizer/train.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ======================================================================
 * Inputs
 * ====================================================================== */

/* Extensions of the files taken from folders (case-insensitive). */
static const char *const g_text_ext[] = {
    "txt", "text", "md", "markdown", "rst", "html", "htm", "xhtml", "xml", "tex", "org",
    "adoc", "asciidoc", "texi", "csv", "tsv", "jsonl", "ndjson", "c", "h", "cc", "cpp", "hpp", "py",
    "js", "ts", "go", "rs", "java", "sh", "pl", "pm", "pod", "rb", "lua", "sql", "css",
    "yaml", "yml", "toml", "ini", "cfg",
};

#define READ_BLOCK (32u << 20)
#define BINARY_PROBE 65536

typedef struct {
    char **paths;
    size_t n, cap;
    uint64_t total_bytes; /* of the files (stdin unknown) */
    size_t n_other;       /* files in folders with other extensions */
} input_list;

typedef struct {
    toktrain *tt;
    int jsonl_all;  /* --jsonl: every input is JSONL */
    int quiet, tty;
    uint64_t total, done;
    size_t n_files, n_binary, n_records;
    double t0, last;
    char *buf;
    size_t cap;
} train_ctx;

static void list_push(input_list *l, const char *p, uint64_t size) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->paths = xrealloc(l->paths, l->cap * sizeof *l->paths);
    }
    l->paths[l->n++] = xstrdup(p);
    l->total_bytes += size;
}

static const char *ext_of(const char *path) {
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    return dot && (!slash || dot > slash) && dot[1] ? dot + 1 : "";
}

static int has_text_ext(const char *path) {
    const char *e = ext_of(path);
    for (size_t i = 0; i < ARRAY_LEN(g_text_ext); i++)
        if (!strcasecmp(e, g_text_ext[i])) return 1;
    return 0;
}

/* Walks a folder recursively in name order; hidden entries and symbolic
 * links to folders are skipped. */
static int walk_dir(input_list *l, const char *dir) {
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0) return err_set("cannot read folder '%s': %s", dir, strerror(errno));
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        if (!rc && name[0] != '.') {
            size_t len = strlen(dir) + strlen(name) + 2;
            char *p = xmalloc(len);
            snprintf(p, len, "%s/%s", dir, name);
            struct stat ls, st;
            if (lstat(p, &ls) == 0 && stat(p, &st) == 0) {
                if (S_ISDIR(st.st_mode)) {
                    if (!S_ISLNK(ls.st_mode)) rc = walk_dir(l, p);
                } else if (S_ISREG(st.st_mode)) {
                    if (has_text_ext(p)) list_push(l, p, (uint64_t)st.st_size);
                    else l->n_other++;
                }
            }
            free(p);
        }
        free(ents[i]);
    }
    free(ents);
    return rc;
}

static int collect_inputs(input_list *l, int n, char **args) {
    for (int i = 0; i < n; i++) {
        if (!strcmp(args[i], "-")) {
            list_push(l, "-", 0);
            continue;
        }
        struct stat st;
        if (stat(args[i], &st) != 0) return err_set("cannot open '%s': %s", args[i], strerror(errno));
        if (S_ISDIR(st.st_mode)) {
            if (walk_dir(l, args[i])) return -1;
        } else {
            list_push(l, args[i], (uint64_t)st.st_size);
        }
    }
    return 0;
}

static void show_read_progress(train_ctx *c, int final) {
    if (c->quiet) return;
    double now = time_now();
    if (!final && now - c->last < (c->tty ? 0.2 : 10.0)) return;
    c->last = now;
    char b1[32], b2[32], b3[32], b4[32];
    double el = now - c->t0;
    fmt_bytes((double)c->done, b1, sizeof b1);
    fmt_bytes(el > 0 ? c->done / el : 0, b2, sizeof b2);
    fmt_count((double)toktrain_n_words(c->tt), b4, sizeof b4);
    if (c->total)
        fprintf(stderr, "%sreading: %s of %s (%s/s), %s words%s", c->tty ? "\r" : "", b1,
                fmt_bytes((double)c->total, b3, sizeof b3), b2, b4, c->tty ? "\033[K" : "\n");
    else
        fprintf(stderr, "%sreading: %s (%s/s), %s words%s", c->tty ? "\r" : "", b1, b2, b4,
                c->tty ? "\033[K" : "\n");
    if (final && c->tty) fputc('\n', stderr);
}

static void add_text(train_ctx *c, const char *s, size_t n) {
    toktrain_add(c->tt, s, n);
    c->done += n;
    show_read_progress(c, 0);
}

/* Streams a text file in blocks cut at safe piece boundaries. Files whose
 * first 64 KB hold a NUL byte are skipped as binary. */
static int feed_text(train_ctx *c, FILE *f, const char *name) {
    size_t len = 0;
    int first = 1;
    for (;;) {
        if (len == c->cap) {
            c->cap = c->cap ? c->cap * 2 : READ_BLOCK;
            c->buf = xrealloc(c->buf, c->cap);
        }
        size_t got = fread(c->buf + len, 1, c->cap - len, f);
        if (ferror(f)) return err_set("cannot read '%s': %s", name, strerror(errno));
        len += got;
        if (first && len) {
            first = 0;
            if (memchr(c->buf, 0, MIN(len, (size_t)BINARY_PROBE))) {
                c->n_binary++;
                return 0;
            }
        }
        if (got == 0 || feof(f)) break;
        if (len < c->cap) continue;
        size_t cut = toktrain_safe_cut(c->buf, len);
        if (!cut) continue; /* no boundary in the whole block: read on */
        add_text(c, c->buf, cut);
        memmove(c->buf, c->buf + cut, len - cut);
        len -= cut;
    }
    if (len) add_text(c, c->buf, len);
    c->n_files++;
    return 0;
}

/* One JSON object per line; the "text" string of each is a document. */
static int feed_jsonl(train_ctx *c, FILE *f, const char *name) {
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    uint64_t lineno = 0;
    int rc = 0;
    while ((n = getline(&line, &lcap, f)) > 0) {
        lineno++;
        size_t skip = 0;
        while (skip < (size_t)n && (line[skip] == ' ' || line[skip] == '\t' || line[skip] == '\r' || line[skip] == '\n')) skip++;
        if (skip == (size_t)n) {
            c->done += (uint64_t)n;
            continue;
        }
        cJSON *j = cJSON_ParseWithLength(line, (size_t)n);
        const cJSON *text = j ? cJSON_GetObjectItemCaseSensitive(j, "text") : NULL;
        if (!cJSON_IsString(text)) {
            cJSON_Delete(j);
            rc = err_set("'%s' line %llu: %s", name, (unsigned long long)lineno,
                         j ? "no \"text\" string" : "not valid JSON");
            break;
        }
        toktrain_add(c->tt, text->valuestring, strlen(text->valuestring));
        cJSON_Delete(j);
        c->n_records++;
        c->done += (uint64_t)n;
        show_read_progress(c, 0);
    }
    if (!rc && ferror(f)) rc = err_set("cannot read '%s': %s", name, strerror(errno));
    free(line);
    if (!rc) c->n_files++;
    return rc;
}

static int feed_input(train_ctx *c, const char *path) {
    int is_stdin = !strcmp(path, "-");
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) return err_set("cannot open '%s': %s", path, strerror(errno));
    const char *name = is_stdin ? "(stdin)" : path;
    const char *ext = ext_of(path);
    int jsonl = c->jsonl_all || !strcasecmp(ext, "jsonl") || !strcasecmp(ext, "ndjson");
    int rc = jsonl ? feed_jsonl(c, f, name) : feed_text(c, f, name);
    if (!is_stdin) fclose(f);
    return rc;
}

/* ======================================================================
 * llmos tokenizer train
 * ====================================================================== */

typedef struct {
    int quiet, tty;
    double last; /* elapsed time of the last plain line */
} merge_view;

static void show_merge_progress(void *ctx, const toktrain_progress *p) {
    merge_view *v = ctx;
    if (v->quiet) return;
    double rate = p->elapsed_s > 0 ? p->merges_done / p->elapsed_s : 0;
    double eta = rate > 0 ? (p->merges_target - p->merges_done) / rate : 0;
    if (!v->tty && p->merges_done != p->merges_target && p->elapsed_s - v->last < 10) return;
    v->last = p->elapsed_s;
    fprintf(stderr, "%smerges: %d of %d (%.0f/s, ETA %.0f s), last pair count %lld%s",
            v->tty ? "\r" : "", p->merges_done, p->merges_target, rate, eta,
            (long long)p->last_count, v->tty ? "\033[K" : "\n");
}

/* Splits a comma-separated list into specials appended to *list. */
static int parse_specials(const char *arg, char ***list, int *n) {
    const char *p = arg;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (!len) return err_set("--special: empty token name in '%s'", arg);
        *list = xrealloc(*list, (size_t)(*n + 1) * sizeof **list);
        (*list)[(*n)++] = xstrndup(p, len);
        if (!e) return 0;
        p = e + 1;
    }
}

static void usage_train(void) {
    printf("usage: llmos tokenizer train [options] INPUT...\n"
           "Learns a byte-level BPE tokenizer (GPT-4 style pre-tokenizer, llama.cpp's\n"
           "\"gpt2\" model with \"llama-bpe\" pre-tokenizer) and writes it as a GGUF with\n"
           "no tensors.\n\n"
           "  INPUT            a text file; a folder (searched recursively for .txt .md .rst\n"
           "                   .html .tex .jsonl, source code and similar; binary files are\n"
           "                   skipped and counted); a .jsonl or .ndjson file (the \"text\"\n"
           "                   field of each line); or - for stdin\n"
           "  --vocab-size N   total vocabulary: 256 bytes + merges + specials (default 8192)\n"
           "  --out FILE       the tokenizer GGUF to write (default tokenizer.gguf)\n"
           "  --special LIST   more special tokens, comma-separated, after the defaults\n"
           "  --min-count N    merge only pairs seen at least N times (default 2)\n"
           "  --jsonl          read every input (stdin too) as JSONL\n"
           "  --threads N      threads for counting (default: LLMOS_THREADS or all CPUs);\n"
           "                   the result is the same for any N\n"
           "  --quiet          no progress on stderr\n\n"
           "Ids: 0-255 the byte tokens (GPT-2's order), then one token per merge, then the\n"
           "special tokens (control, never produced from ordinary text):\n"
           "  <|begin_of_text|> (bos) <|end_of_text|> (eos) <|end_of_turn|> (eot)\n"
           "  <|system|> <|user|> <|assistant|> <|tool|>, then those of --special (which\n"
           "  must not be a plain word: write <|image|>, not image).\n"
           "Ties between pairs of equal count go to the smaller merged byte sequence.\n\n"
           "example: llmos tokenizer train --vocab-size 8192 --out tok.gguf corpus/ notes.jsonl\n"
           "         llmos tokenizer train --special \"<|image|>,<|audio|>\" --out tok.gguf book.txt\n");
}

int cmd_tokenizer_train(int argc, char **argv) {
    long vocab = 8192, min_count = 2, threads = cli_default_threads();
    const char *out = "tokenizer.gguf";
    int quiet = 0, jsonl = 0, n_in = 0, rc = 1;
    char **inputs = xmalloc((size_t)argc * sizeof *inputs);
    char **specials = NULL;
    int n_specials = 0;
    for (int i = 0; i < TOKTRAIN_N_DEFAULT_SPECIALS; i++) {
        specials = xrealloc(specials, (size_t)(n_specials + 1) * sizeof *specials);
        specials[n_specials++] = xstrdup(toktrain_default_specials[i]);
    }
    input_list il = {0};
    train_ctx c = {0};
    gguf_writer *w = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is_help(a)) {
            usage_train();
            rc = 0;
            goto done;
        } else if (!strcmp(a, "--vocab-size") || !strcmp(a, "--out") || !strcmp(a, "--special") ||
                   !strcmp(a, "--min-count") || !strcmp(a, "--threads")) {
            if (!(v = cli_value(argc, argv, &i))) {
                rc = 2;
                goto done;
            }
            int bad = 0;
            if (!strcmp(a, "--vocab-size")) bad = parse_long(a, v, 1, 1L << 21, &vocab);
            else if (!strcmp(a, "--min-count")) bad = parse_long(a, v, 1, 1L << 40, &min_count);
            else if (!strcmp(a, "--threads")) bad = parse_long(a, v, 1, 1024, &threads);
            else if (!strcmp(a, "--special")) bad = parse_specials(v, &specials, &n_specials);
            else out = v;
            if (bad) {
                fprintf(stderr, "llmos tokenizer train: %s\n", err_msg());
                rc = 2;
                goto done;
            }
        } else if (!strcmp(a, "--quiet")) quiet = 1;
        else if (!strcmp(a, "--jsonl")) jsonl = 1;
        else if (a[0] == '-' && a[1]) {
            rc = cli_bad_option("tokenizer train", a);
            goto done;
        } else inputs[n_in++] = argv[i];
    }
    if (!n_in) {
        fprintf(stderr, "llmos tokenizer train: no INPUT given (see llmos tokenizer train --help)\n");
        rc = 2;
        goto done;
    }
    merge_view mv = {quiet, cli_progress_tty(), 0};
    toktrain_opts o = {
        .vocab_size = (int)vocab, .min_count = (int)min_count,
        .specials = (const char *const *)specials, .n_specials = n_specials,
        .progress = show_merge_progress, .progress_ctx = &mv,
    };
    if (toktrain_check_opts(&o)) {
        rc = cli_error(NULL);
        goto done;
    }
    if (collect_inputs(&il, n_in, inputs)) {
        rc = cli_error(NULL);
        goto done;
    }

    c.tt = toktrain_new((int)threads);
    c.jsonl_all = jsonl;
    c.quiet = quiet;
    c.tty = cli_progress_tty();
    c.total = il.total_bytes;
    c.t0 = c.last = time_now();
    for (size_t i = 0; i < il.n; i++)
        if (feed_input(&c, il.paths[i])) {
            if (c.tty && !quiet) fputc('\n', stderr);
            rc = cli_error(NULL);
            goto done;
        }
    toktrain_sync(c.tt);
    show_read_progress(&c, 1);
    double t_read = time_now() - c.t0;
    if (!quiet) {
        char b1[32];
        fprintf(stderr, "read %s from %zu file%s", fmt_bytes((double)c.done, b1, sizeof b1),
                c.n_files, c.n_files == 1 ? "" : "s");
        if (c.n_records) fprintf(stderr, " (%zu JSONL records)", c.n_records);
        if (c.n_binary) fprintf(stderr, ", skipped %zu binary", c.n_binary);
        if (il.n_other) fprintf(stderr, ", skipped %zu with other extensions", il.n_other);
        fprintf(stderr, " in %.1f s\n", t_read);
    }
    if (!c.done) {
        if (c.n_binary)
            rc = cli_error("no text to train on: the input holds only binary files (%zu skipped)",
                           c.n_binary);
        else
            rc = cli_error("no text to train on: the input%s %s empty", n_in > 1 ? "s" : "",
                           n_in > 1 ? "are" : "is");
        goto done;
    }

    double t1 = time_now();
    if (toktrain_learn(c.tt, &o)) {
        rc = cli_error(NULL);
        goto done;
    }
    if (c.tty && !quiet) fputc('\n', stderr);
    w = gguf_writer_new();
    toktrain_to_gguf(c.tt, w);
    if (gguf_writer_save(w, out)) {
        rc = cli_error(NULL);
        goto done;
    }
    if (!quiet) {
        int V = toktrain_vocab_size(c.tt);
        fprintf(stderr, "wrote %s: %d tokens (256 bytes, %d merges, %d special) in %.1f s "
                        "(read %.1f s, merges %.1f s)\n",
                out, V, toktrain_n_merges(c.tt), n_specials, time_now() - c.t0, t_read,
                time_now() - t1);
        if (V < vocab)
            fprintf(stderr, "note: the text has no more pairs seen %ld+ times; the vocabulary "
                            "has %d tokens, not %ld\n", min_count, V, vocab);
    }
    rc = 0;
done:
    gguf_writer_free(w);
    toktrain_free(c.tt);
    free(c.buf);
    for (size_t i = 0; i < il.n; i++) free(il.paths[i]);
    free(il.paths);
    for (int i = 0; i < n_specials; i++) free(specials[i]);
    free(specials);
    free(inputs);
    return rc;
}

/* ======================================================================
 * llmos tokenizer info
 * ====================================================================== */

static void usage_info(void) {
    printf("usage: llmos tokenizer info FILE.gguf [--text F] [--threads N]\n"
           "Shows a tokenizer (a tokenizer GGUF or any model GGUF): kind, pre-tokenizer,\n"
           "vocabulary size, merges, special tokens with their ids, bos/eos/eot.\n"
           "  --text F     also encode file F ('-' for stdin) and show the average\n"
           "               bytes per token (ordinary text: specials are not parsed)\n"
           "  --threads N  threads for encoding (default: LLMOS_THREADS or all CPUs)\n"
           "example: llmos tokenizer info tok.gguf --text heldout.txt\n");
}

/* Prints s quoted with C escapes for control bytes. */
static void print_quoted(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20 || c == 0x7F) printf("\\x%02x", c);
        else putchar(c);
    }
    putchar('"');
}

static char *read_stdin_all(size_t *len) {
    size_t cap = 1 << 20, n = 0;
    char *b = xmalloc(cap);
    size_t got;
    while ((got = fread(b + n, 1, cap - n, stdin)) > 0) {
        n += got;
        if (n == cap) b = xrealloc(b, cap *= 2);
    }
    *len = n;
    return b;
}

int cmd_tokenizer_info(int argc, char **argv) {
    const char *path = NULL, *text_path = NULL;
    long threads = cli_default_threads();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            usage_info();
            return 0;
        } else if (!strcmp(a, "--text") || !strcmp(a, "--threads")) {
            const char *v = cli_value(argc, argv, &i);
            if (!v) return 2;
            if (!strcmp(a, "--text")) text_path = v;
            else if (parse_long(a, v, 1, 1024, &threads)) {
                fprintf(stderr, "llmos tokenizer info: %s\n", err_msg());
                return 2;
            }
        } else if (a[0] == '-' && a[1]) return cli_bad_option("tokenizer info", a);
        else if (!path) path = a;
        else return cli_bad_option("tokenizer info", a);
    }
    if (!path) {
        fprintf(stderr, "llmos tokenizer info: missing FILE (see llmos tokenizer info --help)\n");
        return 2;
    }
    gguf_file *g = gguf_open(path);
    if (!g) return cli_error(NULL);
    tokenizer *t = tok_from_gguf(g);
    if (!t) {
        err_prefix(path);
        gguf_close(g);
        return cli_error(NULL);
    }
    gguf_close(g);
    int V = tok_vocab_size(t), n_special = 0;
    for (int i = 0; i < V; i++) n_special += tok_is_special(t, i);
    printf("file:        %s\n", path);
    if (tok_get_kind(t) == TOK_GPT2)
        printf("kind:        gpt2 (byte-level BPE), pre-tokenizer %s\n", tok_pre_name(t));
    else
        printf("kind:        llama (SentencePiece BPE)\n");
    printf("vocabulary:  %d tokens (%d merges, %d special)\n", V, tok_n_merges(t), n_special);
    static const char *role_name[] = {"bos", "eos", "eot"};
    int roles[3] = {tok_bos(t), tok_eos(t), tok_eot(t)};
    printf("bos/eos/eot: %d / %d / %d, add bos: %s\n", roles[0], roles[1], roles[2],
           tok_add_bos(t) ? "yes" : "no");
    if (n_special) printf("specials:\n");
    int shown = 0;
    for (int i = 0; i < V; i++) {
        if (!tok_is_special(t, i)) continue;
        if (shown++ == 24) {
            printf("  ... and %d more\n", n_special - 24);
            break;
        }
        size_t len;
        const char *txt = tok_decode(t, i, &len);
        printf("  %6d  ", i);
        print_quoted(txt, len);
        for (int r = 0; r < 3; r++)
            if (roles[r] == i) printf(" (%s)", role_name[r]);
        putchar('\n');
    }
    int rc = 0;
    if (text_path) {
        size_t n;
        char *text = !strcmp(text_path, "-") ? read_stdin_all(&n) : file_read_all(text_path, &n);
        if (!text) {
            rc = cli_error(NULL);
        } else {
            int *ids;
            double t0 = time_now();
            size_t k = tok_encode_mt(t, text, n, 0, 0, &ids, (int)threads);
            double el = time_now() - t0;
            char b1[32], b2[32];
            printf("text:        %s, %s, %zu tokens, %.3f bytes/token (encoded in %.2f s, %s/s)\n",
                   text_path, fmt_bytes((double)n, b1, sizeof b1), k,
                   k ? (double)n / (double)k : 0.0, el, fmt_bytes(el > 0 ? n / el : 0, b2, sizeof b2));
            free(ids);
            free(text);
        }
    }
    tok_free(t);
    return rc;
}
