/*
 * cmd_data.c - `llmos data <build|stats|tokenize>`: the corpus pipeline.
 * Each subcommand lives in its own cmd_data_*.c file.
 */
#include "subcmd.h"

static const cli_command g_sub[] = {
    {"help", NULL, "(subcommands are added as they land)"},
};

int cmd_data(int argc, char **argv) {
    return subcmd_dispatch("data", g_sub, sizeof(g_sub) / sizeof(g_sub[0]) - 1, argc, argv);
}
