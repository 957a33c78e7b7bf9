/*
 * subcmd.c - shared dispatch for commands that have subcommands.
 */
#include "subcmd.h"

#include <string.h>

static void list(FILE *f, const char *parent, const cli_command *t, size_t n) {
    fprintf(f, "usage: llmos %s <subcommand> [options]   (llmos %s <subcommand> --help)\n\n",
            parent, parent);
    for (size_t i = 0; i < n; i++) fprintf(f, "  %-10s %s\n", t[i].name, t[i].summary);
}

int subcmd_dispatch(const char *parent, const cli_command *table, size_t n, int argc, char **argv) {
    if (argc < 2 || cli_is_help(argv[1])) {
        list(argc < 2 ? stderr : stdout, parent, table, n);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < n; i++)
        if (!strcmp(argv[1], table[i].name)) return table[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "llmos %s: unknown subcommand '%s'\n", parent, argv[1]);
    list(stderr, parent, table, n);
    return 2;
}
