/*
 * cmd_data_tokenize.c - `llmos data tokenize`: text into token shards for
 * pretraining (format in src/data/shard.h).
 *
 * Inputs are text files, folders (every regular file below, sorted), and
 * JSONL files (*.jsonl: one object per line, its "text" field is a
 * document). A text file is one document. Each document is encoded
 * without BOS and followed by the end-of-text token.
 *
 * Validation split: an input named val.jsonl (as `llmos data build`
 * writes it) is the validation set. Otherwise a document goes to val.bin
 * when a hash of its index and the seed falls below --val-fraction; with
 * fewer than 1/fraction documents (say one big text file) that would hold
 * out nothing, so then the last fraction of every document's tokens is
 * held out instead.
 */
#include "cli.h"

#include "../core/common.h"
#include "../data/shard.h"
#include "../model/train_model.h"
#include "../tokenizer/tokenizer.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const tokenizer *tok;
    const char *out_dir;
    uint32_t vocab;
    int eos;
    int threads;
    double val_fraction;
    uint64_t seed;
    int64_t shard_tokens;
    int tail_split;   /* hold out the tail of each document */
    int have_val_file;
    /* state */
    shard_writer train, val;
    int train_open, n_train_shards;
    uint64_t doc_index, train_tokens_total, train_docs, val_docs;
    uint64_t bytes_total;
} tokenize_ctx;

static int open_next_train(tokenize_ctx *c) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/train-%05d.bin", c->out_dir, c->n_train_shards);
    if (shard_writer_open(&c->train, path, c->vocab, c->eos) < 0) return -1;
    c->train_open = 1;
    c->n_train_shards++;
    return 0;
}

static int add_train(tokenize_ctx *c, const int *ids, size_t n, uint64_t bytes, int end_doc) {
    if (!c->train_open && open_next_train(c) < 0) return -1;
    if (shard_writer_add(&c->train, ids, n) < 0) return -1;
    c->train_tokens_total += n;
    if (end_doc) {
        if (shard_writer_end_doc(&c->train, bytes) < 0) return -1;
        c->train_tokens_total++;
        c->train_docs++;
    } else {
        c->train.n_bytes += bytes;
    }
    if ((int64_t)c->train.n_tokens >= c->shard_tokens) {
        if (shard_writer_close(&c->train) < 0) return -1;
        c->train_open = 0;
    }
    return 0;
}

static int add_val(tokenize_ctx *c, const int *ids, size_t n, uint64_t bytes) {
    if (shard_writer_add(&c->val, ids, n) < 0) return -1;
    c->val_docs++;
    return shard_writer_end_doc(&c->val, bytes);
}

static int add_document(tokenize_ctx *c, const char *text, size_t len, int force_val) {
    int *ids = NULL;
    /* BOS first when the tokenizer adds one (as llama.cpp does to every
     * prompt), so the model learns what follows the start of a document */
    const size_t n = tok_encode_mt(c->tok, text, len, tok_add_bos(c->tok), 0, &ids, c->threads);
    int rc = 0;
    c->bytes_total += len;
    const uint64_t idx = c->doc_index++;
    if (force_val) {
        rc = add_val(c, ids, n, len);
    } else if (c->have_val_file || c->val_fraction <= 0) {
        rc = add_train(c, ids, n, len, 1);
    } else if (c->tail_split) {
        const size_t keep = n - (size_t)((double)n * c->val_fraction);
        const uint64_t kb = (uint64_t)((double)len * keep / (n ? n : 1));
        rc = add_train(c, ids, keep, kb, 1);
        if (rc == 0 && n > keep) rc = add_val(c, ids + keep, n - keep, len - kb);
    } else {
        uint64_t h = c->seed ^ (idx * 0x9e3779b97f4a7c15ull);
        const double u = (train_rng_next(&h) >> 11) * 0x1.0p-53;
        rc = u < c->val_fraction ? add_val(c, ids, n, len) : add_train(c, ids, n, len, 1);
    }
    free(ids);
    return rc;
}

static int is_jsonl(const char *path) {
    const size_t n = strlen(path);
    return n > 6 && !strcmp(path + n - 6, ".jsonl");
}

static int is_val_file(const char *path) {
    const char *b = strrchr(path, '/');
    return !strcmp(b ? b + 1 : path, "val.jsonl");
}

/* Collects regular files under path (sorted within each folder). */
static int collect(const char *path, char ***files, int *n) {
    struct stat st;
    if (stat(path, &st) < 0) return err_set("cannot open '%s': %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        *files = xrealloc(*files, sizeof(char *) * (size_t)(*n + 1));
        (*files)[(*n)++] = xstrdup(path);
        return 0;
    }
    struct dirent **list;
    const int k = scandir(path, &list, NULL, alphasort);
    if (k < 0) return err_set("cannot read folder '%s': %s", path, strerror(errno));
    int rc = 0;
    for (int i = 0; i < k; i++) {
        if (rc == 0 && list[i]->d_name[0] != '.') {
            char *p = xmalloc(strlen(path) + strlen(list[i]->d_name) + 2);
            sprintf(p, "%s/%s", path, list[i]->d_name);
            rc = collect(p, files, n);
            free(p);
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

/* Documents in a file: lines of a JSONL file, 1 for text. */
static int64_t count_docs(const char *path) {
    if (!is_jsonl(path)) return 1;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    int64_t n = 0;
    int ch, prev = '\n';
    while ((ch = getc(f)) != EOF) {
        if (ch == '\n' && prev != '\n') n++;
        prev = ch;
    }
    if (prev != '\n') n++;
    fclose(f);
    return n;
}

static int tokenize_file(tokenize_ctx *c, const char *path) {
    size_t len;
    char *s = file_read_all(path, &len);
    if (!s) return -1;
    int rc = 0;
    const int val = is_val_file(path);
    if (!is_jsonl(path)) {
        rc = add_document(c, s, len, 0);
        free(s);
        return rc;
    }
    int line_no = 0;
    for (char *line = s; rc == 0 && line < s + len;) {
        char *end = memchr(line, '\n', (size_t)(s + len - line));
        if (!end) end = s + len;
        *end = 0;
        line_no++;
        if (end > line) {
            cJSON *j = cJSON_ParseWithLength(line, (size_t)(end - line));
            const cJSON *t = j ? cJSON_GetObjectItemCaseSensitive(j, "text") : NULL;
            if (!j) rc = err_set("%s:%d: not valid JSON", path, line_no);
            else if (!cJSON_IsString(t)) rc = err_set("%s:%d: no \"text\" string field", path, line_no);
            else rc = add_document(c, t->valuestring, strlen(t->valuestring), val);
            cJSON_Delete(j);
        }
        line = end + 1;
    }
    free(s);
    return rc;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: llmos data tokenize --tokenizer TOK.gguf --out DIR [options] INPUT...\n"
            "\n"
            "Tokenizes text into shards for `llmos pretrain`: DIR/train-NNNNN.bin, DIR/val.bin\n"
            "and a copy of the tokenizer as DIR/tokenizer.gguf. INPUT is a text file (one\n"
            "document), a folder (every file below it) or a JSONL file (its \"text\" fields);\n"
            "an input named val.jsonl becomes the validation set.\n"
            "\n"
            "options:\n"
            "  --tokenizer FILE     tokenizer GGUF (required)\n"
            "  --out DIR            output folder (created if missing)          (required)\n"
            "  --val-fraction F     share of documents held out when no val.jsonl is given\n"
            "                       (0.01; with fewer than 1/F documents, the last F of each\n"
            "                       document's tokens)\n"
            "  --shard-tokens N     tokens per train shard                        (100M)\n"
            "  --seed N             validation split                                (1)\n"
            "  --threads N          encoding threads\n"
            "\n"
            "example:\n"
            "  llmos data tokenize --tokenizer tok.gguf --out data/ corpus/train.jsonl corpus/val.jsonl\n"
            "  llmos pretrain --data data/\n");
}

int cmd_data_tokenize(int argc, char **argv) {
    const char *tok_path = NULL, *out = NULL;
    tokenize_ctx c;
    memset(&c, 0, sizeof(c));
    c.val_fraction = 0.01;
    c.seed = 1;
    c.shard_tokens = 100000000;
    c.threads = cli_default_threads();
    char **inputs = NULL;
    int n_inputs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        long lv;
        double dv;
        if (cli_is_help(a)) {
            usage(stdout);
            free(inputs);
            return 0;
        }
        if (!strcmp(a, "--tokenizer") || !strcmp(a, "--out") || !strcmp(a, "--val-fraction") ||
            !strcmp(a, "--shard-tokens") || !strcmp(a, "--seed") || !strcmp(a, "--threads")) {
            if (!(v = cli_value(argc, argv, &i))) return free(inputs), 2;
            if (!strcmp(a, "--tokenizer")) tok_path = v;
            else if (!strcmp(a, "--out")) out = v;
            else if (!strcmp(a, "--val-fraction")) {
                if (parse_double(a, v, &dv) < 0 || dv < 0 || dv >= 1) {
                    fprintf(stderr, "llmos data tokenize: --val-fraction must be in [0, 1)\n");
                    return free(inputs), 2;
                }
                c.val_fraction = dv;
            } else if (!strcmp(a, "--shard-tokens")) {
                if (parse_count(a, v, &dv) < 0 || dv < 1024) {
                    fprintf(stderr, "llmos data tokenize: --shard-tokens must be at least 1024\n");
                    return free(inputs), 2;
                }
                c.shard_tokens = (int64_t)dv;
            } else {
                if (parse_long(a, v, 0, 0x7fffffffL, &lv) < 0) return free(inputs), cli_error(NULL) + 1;
                if (!strcmp(a, "--seed")) c.seed = (uint64_t)lv;
                else c.threads = lv > 0 ? (int)lv : 1;
            }
        } else if (a[0] == '-' && a[1]) {
            free(inputs);
            return cli_bad_option("data tokenize", a);
        } else {
            inputs = xrealloc(inputs, sizeof(char *) * (size_t)(n_inputs + 1));
            inputs[n_inputs++] = argv[i];
        }
    }
    if (!tok_path || !out || n_inputs == 0) {
        fprintf(stderr, "llmos data tokenize: --tokenizer, --out and at least one INPUT are required "
                        "(see llmos data tokenize --help)\n");
        free(inputs);
        return 2;
    }
    int rc = 1;
    char **files = NULL;
    int n_files = 0;
    gguf_file *g = NULL;
    tokenizer *tok = NULL;
    char path[4096];
    for (int i = 0; i < n_inputs; i++)
        if (collect(inputs[i], &files, &n_files) < 0) goto done;
    if (!(g = gguf_open(tok_path))) goto done;
    if (!(tok = tok_from_gguf(g))) {
        err_prefix(tok_path); /* "F: no tokenizer.ggml.tokens" */
        goto done;
    }
    c.tok = tok;
    c.out_dir = out;
    c.vocab = (uint32_t)tok_vocab_size(tok);
    c.eos = tok_eos(tok);
    if (c.eos < 0) {
        err_set("%s: the tokenizer has no end-of-text token to separate documents", tok_path);
        goto done;
    }
    int64_t docs = 0;
    for (int i = 0; i < n_files; i++) {
        if (is_val_file(files[i])) c.have_val_file = 1;
        else docs += count_docs(files[i]);
    }
    c.tail_split = !c.have_val_file && c.val_fraction > 0 && (double)docs * c.val_fraction < 1.0;
    if (mkdir(out, 0755) < 0 && errno != EEXIST) {
        err_set("cannot create '%s': %s", out, strerror(errno));
        goto done;
    }
    /* stale shards of an earlier run would be read as training data */
    DIR *dp = opendir(out);
    if (dp) {
        struct dirent *de;
        while ((de = readdir(dp)))
            if (!strncmp(de->d_name, "train-", 6) && strstr(de->d_name, ".bin")) {
                snprintf(path, sizeof(path), "%s/%s", out, de->d_name);
                unlink(path);
            }
        closedir(dp);
    }
    snprintf(path, sizeof(path), "%s/val.bin", out);
    if (shard_writer_open(&c.val, path, c.vocab, c.eos) < 0) goto done;
    const double t0 = time_now();
    for (int i = 0; i < n_files; i++)
        if (tokenize_file(&c, files[i]) < 0) {
            shard_writer_abort(&c.val);
            if (c.train_open) shard_writer_abort(&c.train);
            goto done;
        }
    if (c.train_open && shard_writer_close(&c.train) < 0) {
        shard_writer_abort(&c.val);
        goto done;
    }
    if (c.n_train_shards == 0 || c.bytes_total == 0) { /* no val.bin without training data */
        shard_writer_abort(&c.val);
        err_set(c.n_train_shards ? "the inputs hold no text (0 bytes)" : "no training documents in the inputs");
        goto done;
    }
    const uint64_t val_tokens = c.val.n_tokens;
    if (shard_writer_close(&c.val) < 0) goto done;
    /* the tokenizer travels with the shards */
    size_t tl;
    char *tb = file_read_all(tok_path, &tl);
    snprintf(path, sizeof(path), "%s/tokenizer.gguf", out);
    if (!tb || file_write_atomic(path, tb, tl) < 0) {
        free(tb);
        goto done;
    }
    free(tb);
    char b1[32], b2[32], b3[32], b4[32];
    const uint64_t total = c.train_tokens_total + val_tokens;
    fprintf(stderr, "llmos data tokenize: %llu documents, %s bytes -> %s tokens (%.2f bytes/token) in %.1fs\n"
                    "  train: %d shard(s), %s tokens; val: %s tokens (%s) -> %s\n",
            (unsigned long long)c.doc_index, fmt_count((double)c.bytes_total, b1, sizeof(b1)),
            fmt_count((double)total, b2, sizeof(b2)), total ? (double)c.bytes_total / total : 0,
            time_now() - t0, c.n_train_shards, fmt_count((double)c.train_tokens_total, b3, sizeof(b3)),
            fmt_count((double)val_tokens, b4, sizeof(b4)),
            c.have_val_file ? "val.jsonl" : c.tail_split ? "tail of each document" : "held-out documents", out);
    if (val_tokens == 0) fprintf(stderr, "llmos: warning: the validation shard is empty\n");
    rc = 0;
done:
    if (rc) cli_error(NULL);
    for (int i = 0; i < n_files; i++) free(files[i]);
    free(files);
    free(inputs);
    tok_free(tok);
    gguf_close(g);
    return rc;
}
