/*
 * shard.c - token shard files and the deterministic batch sampler (see
 * shard.h for the format).
 */
#include "shard.h"

#include "../model/train_model.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v) {
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

shard *shard_open(const char *path, uint32_t vocab_size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return err_set("cannot open '%s': %s", path, strerror(errno)), NULL;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return err_set("cannot stat '%s': %s", path, strerror(errno)), NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return err_set("'%s' is %s, not a token shard", path, S_ISDIR(st.st_mode) ? "a directory" : "not a regular file"),
               NULL;
    }
    const size_t size = (size_t)st.st_size;
    if (size < SHARD_HEADER_BYTES) {
        close(fd);
        return err_set("%s: not a token shard (%zu bytes, shorter than the %d-byte header)", path,
                       size, SHARD_HEADER_BYTES), NULL;
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return err_set("cannot map '%s': %s", path, strerror(errno)), NULL;
    const uint8_t *h = map;
    shard *s = xcalloc(1, sizeof(*s));
    s->path = xstrdup(path);
    s->map = map;
    s->map_size = size;
    if (memcmp(h, SHARD_MAGIC, 8)) {
        err_set("%s: not a token shard (bad magic; expected \"%s\")", path, SHARD_MAGIC);
        goto fail;
    }
    if (rd32(h + 8) != SHARD_VERSION) {
        err_set("%s: shard version %u is not supported (expected %d)", path, rd32(h + 8), SHARD_VERSION);
        goto fail;
    }
    s->width = rd32(h + 12);
    s->n_tokens = rd64(h + 16);
    s->vocab_size = rd32(h + 24);
    s->eos = (int32_t)rd32(h + 28);
    s->n_bytes = rd64(h + 32);
    s->n_docs = rd64(h + 40);
    s->tokens = h + SHARD_HEADER_BYTES;
    if (s->width != 2 && s->width != 4) {
        err_set("%s: token width %u is not 2 or 4", path, s->width);
        goto fail;
    }
    const uint64_t body = size - SHARD_HEADER_BYTES;
    if (s->n_tokens > body / s->width) {
        err_set("%s: truncated: the header says %llu tokens (%llu bytes), the file holds %llu bytes of tokens",
                path, (unsigned long long)s->n_tokens, (unsigned long long)(s->n_tokens * s->width),
                (unsigned long long)body);
        goto fail;
    }
    if (body > s->n_tokens * s->width) {
        err_set("%s: %llu bytes of garbage after the %llu tokens", path,
                (unsigned long long)(body - s->n_tokens * s->width), (unsigned long long)s->n_tokens);
        goto fail;
    }
    if (vocab_size > 0) {
        if (s->vocab_size != vocab_size) {
            err_set("%s: made for a vocabulary of %u tokens, the tokenizer has %u", path,
                    s->vocab_size, vocab_size);
            goto fail;
        }
        for (uint64_t i = 0; i < s->n_tokens; i++) {
            const uint32_t id = shard_token(s, i);
            if (id >= vocab_size) {
                err_set("%s: token %llu has id %u, beyond the vocabulary (%u tokens)", path,
                        (unsigned long long)i, id, vocab_size);
                goto fail;
            }
        }
    }
    return s;
fail:
    shard_close(s);
    return NULL;
}

void shard_close(shard *s) {
    if (!s) return;
    if (s->map) munmap(s->map, s->map_size);
    free(s->path);
    free(s);
}

/* ---- writing ---- */

static void header_encode(uint8_t *h, const shard_writer *w) {
    memset(h, 0, SHARD_HEADER_BYTES);
    memcpy(h, SHARD_MAGIC, 8);
    wr32(h + 8, SHARD_VERSION);
    wr32(h + 12, w->width);
    wr64(h + 16, w->n_tokens);
    wr32(h + 24, w->vocab_size);
    wr32(h + 28, (uint32_t)w->eos);
    wr64(h + 32, w->n_bytes);
    wr64(h + 40, w->n_docs);
}

int shard_writer_open(shard_writer *w, const char *path, uint32_t vocab_size, int32_t eos) {
    memset(w, 0, sizeof(*w));
    w->width = vocab_size <= 65536 ? 2 : 4;
    w->vocab_size = vocab_size;
    w->eos = eos;
    if (atomic_open(&w->af, path) < 0) return -1;
    uint8_t h[SHARD_HEADER_BYTES];
    header_encode(h, w);
    if (fwrite(h, 1, sizeof(h), w->af.f) != sizeof(h)) {
        atomic_abort(&w->af);
        return err_set("cannot write '%s': %s", path, strerror(errno));
    }
    return 0;
}

int shard_writer_add(shard_writer *w, const int *ids, size_t n) {
    uint8_t buf[4096];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const uint32_t id = (uint32_t)ids[i];
        LLMOS_ASSERT(ids[i] >= 0 && id < w->vocab_size);
        for (uint32_t b = 0; b < w->width; b++) buf[k++] = (uint8_t)(id >> (8 * b));
        if (k + 4 > sizeof(buf) || i + 1 == n) {
            if (fwrite(buf, 1, k, w->af.f) != k)
                return err_set("cannot write '%s': %s", w->af.path, strerror(errno));
            k = 0;
        }
    }
    w->n_tokens += n;
    return 0;
}

int shard_writer_end_doc(shard_writer *w, uint64_t text_bytes) {
    w->n_docs++;
    w->n_bytes += text_bytes;
    if (w->eos < 0) return 0;
    const int e = w->eos;
    return shard_writer_add(w, &e, 1);
}

int shard_writer_close(shard_writer *w) {
    uint8_t h[SHARD_HEADER_BYTES];
    header_encode(h, w);
    if (fseek(w->af.f, 0, SEEK_SET) != 0 || fwrite(h, 1, sizeof(h), w->af.f) != sizeof(h)) {
        err_set("cannot write '%s': %s", w->af.path, strerror(errno));
        atomic_abort(&w->af);
        return -1;
    }
    return atomic_commit(&w->af);
}

void shard_writer_abort(shard_writer *w) { atomic_abort(&w->af); }

/* ---- dataset and sampling ---- */

static int name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

dataset *dataset_open(const char *dir, uint32_t vocab_size) {
    DIR *dp = opendir(dir);
    if (!dp) return err_set("cannot open data folder '%s': %s", dir, strerror(errno)), NULL;
    char **names = NULL;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        const size_t len = strlen(de->d_name);
        if (!strncmp(de->d_name, "train-", 6) && len > 10 && !strcmp(de->d_name + len - 4, ".bin")) {
            names = xrealloc(names, sizeof(char *) * (size_t)(n + 1));
            names[n++] = xstrdup(de->d_name);
        }
    }
    closedir(dp);
    if (n == 0) {
        free(names);
        return err_set("%s: no token shards (train-*.bin); make them with `llmos data tokenize`", dir), NULL;
    }
    qsort(names, (size_t)n, sizeof(char *), name_cmp);
    dataset *d = xcalloc(1, sizeof(*d));
    d->train = xcalloc((size_t)n, sizeof(shard *));
    int ok = 1;
    char path[4096];
    for (int i = 0; i < n && ok; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (!(d->train[d->n_train] = shard_open(path, vocab_size))) ok = 0;
        else d->train_tokens += d->train[d->n_train++]->n_tokens;
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    if (ok) {
        snprintf(path, sizeof(path), "%s/val.bin", dir);
        if (access(path, F_OK) == 0 && !(d->val = shard_open(path, vocab_size))) ok = 0;
    }
    if (!ok) {
        dataset_close(d);
        return NULL;
    }
    return d;
}

void dataset_close(dataset *d) {
    if (!d) return;
    for (int i = 0; i < d->n_train; i++) shard_close(d->train[i]);
    free(d->train);
    shard_close(d->val);
    free(d);
}

static void window(const shard *s, uint64_t start, int T, int *tokens, int *targets) {
    for (int t = 0; t < T; t++) {
        tokens[t] = (int)shard_token(s, start + (uint64_t)t);
        targets[t] = (int)shard_token(s, start + (uint64_t)t + 1);
    }
}

int dataset_train_batch(const dataset *d, uint64_t seed, int64_t step, int micro, int B, int T,
                        int *tokens, int *targets) {
    return dataset_train_rows(d, seed, step, micro, 0, B, T, tokens, targets);
}

int dataset_train_rows(const dataset *d, uint64_t seed, int64_t step, int micro, int row0, int rows, int T,
                       int *tokens, int *targets) {
    /* start positions: shard i offers n_i - T of them */
    uint64_t total = 0;
    for (int i = 0; i < d->n_train; i++)
        if (d->train[i]->n_tokens > (uint64_t)T) total += d->train[i]->n_tokens - (uint64_t)T;
    if (total == 0)
        return err_set("the training shards are too short for a context of %d tokens (%llu tokens in all)",
                       T, (unsigned long long)d->train_tokens);
    for (int b = row0; b < row0 + rows; b++) {
        uint64_t st = seed * 0x9e3779b97f4a7c15ull ^ ((uint64_t)step << 20) ^ ((uint64_t)micro << 10) ^ (uint64_t)b;
        train_rng_next(&st);
        uint64_t pos = train_rng_next(&st) % total;
        for (int i = 0; i < d->n_train; i++) {
            const shard *s = d->train[i];
            if (s->n_tokens <= (uint64_t)T) continue;
            const uint64_t avail = s->n_tokens - (uint64_t)T;
            if (pos < avail) {
                window(s, pos, T, tokens + (size_t)(b - row0) * T, targets + (size_t)(b - row0) * T);
                break;
            }
            pos -= avail;
        }
    }
    return 0;
}

int64_t dataset_val_windows(const dataset *d, int T) {
    if (!d->val || d->val->n_tokens <= (uint64_t)T) return 0;
    return (int64_t)((d->val->n_tokens - 1) / (uint64_t)T);
}

int dataset_val_batch(const dataset *d, int i, int B, int T, int *tokens, int *targets) {
    return dataset_val_rows(d, i, B, 0, B, T, tokens, targets);
}

int dataset_val_rows(const dataset *d, int i, int B, int row0, int rows, int T, int *tokens, int *targets) {
    const int64_t nw = dataset_val_windows(d, T);
    if (nw == 0) return err_set("no validation shard longer than the context (%d tokens)", T);
    for (int b = row0; b < row0 + rows; b++) {
        const int64_t w = ((int64_t)i * B + b) % nw;
        window(d->val, (uint64_t)w * T, T, tokens + (size_t)(b - row0) * T, targets + (size_t)(b - row0) * T);
    }
    return 0;
}
