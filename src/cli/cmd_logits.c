/*
 * cmd_logits.c - `llmos logits MODEL --tokens 1,2,3 [--all]`: the scoring
 * interface. Prints {"tokens": [...], "logits": [...]} with the last
 * position's logits, or with --all one array per position.
 */
#include "cli.h"

#include "../core/common.h"
#include "../infer/generate.h"

#include <stdlib.h>
#include <string.h>

int cmd_logits(int argc, char **argv) {
    const char *path = NULL, *list = NULL, *text = NULL, *cache = NULL, *v;
    int all = 0;
    long threads = cli_default_threads();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            printf("usage: llmos logits MODEL.gguf (--tokens 1,2,3 | --text TEXT) [--all] [-t N]\n"
                   "                   [--cache-type f16|f32]\n"
                   "  --tokens LIST   token ids, comma-separated\n"
                   "  --text TEXT     text, tokenized with the model's tokenizer (BOS as the file says)\n"
                   "  --all           logits at every position, not only the last\n"
                   "  --cache-type T  " CLI_CACHE_TYPE_HELP "\n"
                   "prints {\"tokens\": [...], \"logits\": [...]} on stdout\n"
                   "example: llmos logits out/base.gguf --tokens 1,450,4996 --all\n");
            return 0;
        } else if (!strcmp(a, "--tokens")) { if (!(v = cli_value(argc, argv, &i))) return 2; list = v; }
        else if (!strcmp(a, "--text")) { if (!(v = cli_value(argc, argv, &i))) return 2; text = v; }
        else if (!strcmp(a, "--all")) all = 1;
        else if (!strcmp(a, "--cache-type")) { if (!(v = cli_value(argc, argv, &i))) return 2; cache = v; }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            if (parse_long(a, v, 1, 1024, &threads)) return cli_error(NULL), 2;
        } else if (a[0] == '-' && a[1]) return cli_bad_option("logits", a);
        else if (!path) path = a;
        else return cli_bad_option("logits", a);
    }
    if (!path || (!list == !text))
        return cli_error("logits: need MODEL and one of --tokens or --text (see llmos logits --help)"), 2;
    const int kv_type = cli_cache_type("logits", cache);
    if (kv_type < 0) return 2;
    model_set_threads((int)threads);
    model *m = model_load(path);
    if (!m) return cli_error(NULL);
    m->kv_type = kv_type;
    int *ids = NULL, n = 0, rc = 1;
    if (list) {
        if (parse_token_list(list, &ids, &n)) { cli_error(NULL); goto done; }
    } else {
        if (!m->tok) { cli_error("%s: no tokenizer in the file; use --tokens", path); goto done; }
        n = (int)tok_encode(m->tok, text, strlen(text), tok_add_bos(m->tok), 0, &ids);
        if (!n) { cli_error("logits: the text gives no tokens"); goto done; }
    }
    if (n > m->cfg.ctx_len) { cli_error("logits: %d tokens exceed the context length %d", n, m->cfg.ctx_len); goto done; }
    model_state *st = model_state_new(m, n, n);
    const float *lg = model_forward(m, st, ids, n, 0, all);
    if (!lg) { cli_error(NULL); model_state_free(st); goto done; }
    const int V = m->cfg.vocab_size, rows = all ? n : 1;
    printf("{\"tokens\": [");
    for (int i = 0; i < n; i++) printf(i ? ", %d" : "%d", ids[i]);
    printf("], \"logits\": %s", all ? "[" : "");
    for (int r = 0; r < rows; r++) {
        printf(r ? ", [" : "[");
        for (int j = 0; j < V; j++) printf(j ? ", %.9g" : "%.9g", lg[(size_t)r * V + j]);
        printf("]");
    }
    printf("%s}\n", all ? "]" : "");
    model_state_free(st);
    rc = 0;
done:
    free(ids);
    model_free(m);
    return rc;
}
