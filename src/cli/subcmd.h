/*
 * subcmd.h - dispatch for commands with subcommands (`llmos tokenizer
 * train`, `llmos data build`): a table of {name, fn, summary} like main.c's.
 */
#ifndef LLMOS_SUBCMD_H
#define LLMOS_SUBCMD_H

#include "cli.h"

/* Runs the subcommand named argv[1] from the table (argv[0] is the parent
 * command). Prints the table for --help or an unknown name. */
int subcmd_dispatch(const char *parent, const cli_command *table, size_t n, int argc, char **argv);

#endif
