/*
 * cmd_tokenizer.c - `llmos tokenizer <train|import|info>`: make, bring in
 * and inspect tokenizers (a tokenizer file is a GGUF with no tensors).
 * Each subcommand lives in its own cmd_tokenizer_*.c file.
 */
#include "subcmd.h"

static const cli_command g_sub[] = {
    {"train", cmd_tokenizer_train, "learn a byte-level BPE tokenizer from text"},
    {"info", cmd_tokenizer_info, "show a tokenizer; bytes per token on a text"},
    {"import", cmd_tokenizer_import, "GPT-2's or Llama 2's vocabulary into a tokenizer GGUF"},
};

int cmd_tokenizer(int argc, char **argv) {
    return subcmd_dispatch("tokenizer", g_sub, sizeof(g_sub) / sizeof(g_sub[0]), argc, argv);
}
