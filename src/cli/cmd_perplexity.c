/*
 * cmd_perplexity.c - `llmos perplexity MODEL FILE`: how well the model
 * predicts a text. The text is tokenized once and cut into windows of --ctx
 * tokens; each window starts fresh (BOS first when the vocabulary has one)
 * and every token in it is predicted from the tokens before it. Reports
 * perplexity per token and bits per byte (the total negative log-likelihood
 * in bits over the bytes of the scored text: the model as a compressor).
 */
#include "cli.h"

#include "../core/common.h"
#include "../model/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int cmd_perplexity(int argc, char **argv) {
    const char *path = NULL, *file = NULL, *cache = NULL, *v;
    long threads = cli_default_threads(), ctx = 0;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            printf("usage: llmos perplexity MODEL.gguf FILE [--ctx N] [-t N] [--cache-type T] [--json]\n"
                   "  --ctx N    window length in tokens (default: the model's context, at most 512)\n"
                   "  --cache-type T\n             " CLI_CACHE_TYPE_HELP "\n"
                   "  --json     print the figures as one JSON object\n"
                   "example: llmos perplexity out/base.gguf out/corpus/val.txt --ctx 256\n");
            return 0;
        } else if (!strcmp(a, "--ctx")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            if (parse_long(a, v, 2, 1 << 20, &ctx)) return cli_error(NULL), 2;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            if (parse_long(a, v, 1, 1024, &threads)) return cli_error(NULL), 2;
        } else if (!strcmp(a, "--cache-type")) {
            if (!(cache = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--json")) json = 1;
        else if (a[0] == '-' && a[1]) return cli_bad_option("perplexity", a);
        else if (!path) path = a;
        else if (!file) file = a;
        else return cli_bad_option("perplexity", a);
    }
    if (!path || !file) return cli_error("perplexity: need MODEL and FILE (see llmos perplexity --help)"), 2;
    const int kv_type = cli_cache_type("perplexity", cache);
    if (kv_type < 0) return 2;
    model_set_threads((int)threads);
    size_t len;
    char *text = file_read_all(file, &len);
    if (!text) return cli_error(NULL);
    model *m = model_load(path);
    if (!m) { free(text); return cli_error(NULL); }
    m->kv_type = kv_type;
    int rc = 1, *ids = NULL;
    if (!m->tok) { cli_error("%s: no tokenizer in the file", path); goto done; }
    size_t n = tok_encode(m->tok, text, len, 0, 0, &ids);
    if (!ctx) ctx = MIN(m->cfg.ctx_len, 512);
    if (ctx > m->cfg.ctx_len) { cli_error("perplexity: --ctx %ld exceeds the model's context %d", ctx, m->cfg.ctx_len); goto done; }
    const int bos = tok_bos(m->tok), V = m->cfg.vocab_size;
    /* with a BOS every text token is predicted; without, each window's first is context only */
    const int lead = bos >= 0 ? 1 : 0, step = (int)ctx - lead - (bos >= 0 ? 0 : 0);
    if (n < (size_t)(2 - lead)) { cli_error("perplexity: '%s' is too short to score", file); goto done; }
    model_state *st = model_state_new(m, (int)ctx, (int)ctx);
    int *win = xmalloc(sizeof(int) * ctx);
    double nll = 0, bytes = 0, t0 = time_now();
    size_t scored = 0;
    for (size_t start = 0; start < n; start += step) {
        int w = 0;
        if (bos >= 0) win[w++] = bos;
        size_t take = MIN((size_t)step, n - start);
        for (size_t j = 0; j < take; j++) win[w++] = ids[start + j];
        if (w < 2) break;
        const float *lg = model_forward(m, st, win, w, 0, 1);
        if (!lg) { cli_error(NULL); free(win); model_state_free(st); goto done; }
        for (int j = 1; j < w; j++) {
            const float *row = lg + (size_t)(j - 1) * V;
            double max = row[0], sum = 0;
            for (int k = 1; k < V; k++) max = row[k] > max ? row[k] : max;
            for (int k = 0; k < V; k++) sum += exp(row[k] - max);
            nll += log(sum) + max - row[win[j]];
            size_t pl;
            tok_decode(m->tok, win[j], &pl);
            bytes += pl;
            scored++;
        }
        if (cli_progress_tty())
            fprintf(stderr, "\rperplexity: %zu/%zu tokens, ppl %.3f", start + take, n, exp(nll / scored));
    }
    if (cli_progress_tty()) fputc('\n', stderr);
    double secs = time_now() - t0, ppl = exp(nll / scored), bpb = nll / log(2.0) / bytes;
    if (json)
        printf("{\"tokens\": %zu, \"bytes\": %.0f, \"nll\": %.6f, \"perplexity\": %.6f, \"bits_per_byte\": %.6f, \"ctx\": %ld, \"seconds\": %.3f}\n",
               scored, bytes, nll / scored, ppl, bpb, ctx, secs);
    else
        printf("%s: %zu tokens scored (%.0f bytes, ctx %ld) in %.1f s\nperplexity %.4f  (%.4f nats/token)\nbits per byte %.4f\n",
               file, scored, bytes, ctx, secs, ppl, nll / scored, bpb);
    free(win);
    model_state_free(st);
    rc = 0;
done:
    free(ids);
    free(text);
    model_free(m);
    return rc;
}
