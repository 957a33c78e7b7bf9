/*
 * cmd_data.c - `llmos data <build|stats|tokenize|chats|packages|check>`: the
 * corpus pipeline and what it reads.
 * Each subcommand lives in its own cmd_data_*.c file.
 */
#include "subcmd.h"

static const cli_command g_sub[] = {
    {"build", cmd_data_build, "build a cleaned, deduplicated, mixed corpus (train.jsonl, val.jsonl)"},
    {"stats", cmd_data_stats, "documents, bytes and tokens per source of a built corpus"},
    {"tokenize", cmd_data_tokenize, "tokenize text or JSONL into token shards for pretraining"},
    {"chats", cmd_data_chats, "build Q&A conversations for fine-tuning from Debian's reference data"},
    {"packages", cmd_data_packages, "the Debian packages the presets and conversation sources read"},
    {"check", cmd_data_check, "whether every file those sources read is on this machine"},
};

int cmd_data(int argc, char **argv) {
    return subcmd_dispatch("data", g_sub, sizeof(g_sub) / sizeof(g_sub[0]), argc, argv);
}
