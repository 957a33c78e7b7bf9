/*
 * cmd_data_needs.c - `llmos data packages` and `llmos data check`: the
 * Debian packages the data commands read, taken from the source tables
 * (data/needs.h), and whether their files are on this machine.
 * scripts/install-deps.sh installs what `packages` prints; scripts/main.sh
 * runs `check` before its first stage.
 */
#include "cli.h"

#include "../core/common.h"
#include "../data/corpus.h"
#include "../data/needs.h"
#include "../data/qa.h"

#include <stdlib.h>
#include <string.h>

static void usage(const char *cmd) {
    int pk = !strcmp(cmd, "packages");
    printf("usage: llmos data %s [--preset NAME]... [--chats [--sources LIST]]%s\n", cmd, pk ? " [--table]" : "");
    if (pk)
        printf("Prints the Debian packages that the selected data sources are read from, one per\n"
               "line, each once (scripts/install-deps.sh installs them). --table: one line per\n"
               "source instead: its name, packages and the files it reads, tab-separated.\n");
    else
        printf("Checks that every file the selected data sources read is present: one line per\n"
               "missing source with its Debian package, then exit status 1 and the apt-get line.\n");
    printf("  --preset NAME         the sources of corpus preset NAME (llmos data build --preset)\n"
           "  --chats               the conversation sources (llmos data chats): all of them, or\n"
           "  --sources LIST        these (comma-separated; implies --chats)\n"
           "  no selection: every preset and every conversation source\n"
           "example: llmos data %s --preset debian-small --chats\n", cmd);
}

/* Parses the selection into d; 0, or the exit status of a usage error. */
static int select_needs(const char *cmd, int argc, char **argv, data_needs *d, int *help, int *table) {
    int chats = 0, any = 0;
    const char *sources = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is_help(a)) {
            usage(cmd);
            *help = 1;
            return 0;
        } else if (!strcmp(a, "--preset")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            if (corpus_preset_needs(v, d)) return cli_error(NULL) + 1;
            any = 1;
        } else if (table && !strcmp(a, "--table")) {
            *table = 1;
        } else if (!strcmp(a, "--chats")) {
            chats = any = 1;
        } else if (!strcmp(a, "--sources")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            sources = v;
            chats = any = 1;
        } else {
            return cli_bad_option(cmd, a);
        }
    }
    if (!any)
        for (size_t i = 0; corpus_preset_name(i); i++) corpus_preset_needs(corpus_preset_name(i), d);
    if ((chats || !any) && qa_sources_needs(sources, d)) return cli_error(NULL) + 1;
    return 0;
}

int cmd_data_packages(int argc, char **argv) {
    data_needs d = {0};
    int help = 0, table = 0, rc = select_needs("data packages", argc, argv, &d, &help, &table);
    if (!rc && !help && table) data_needs_print_table(&d, stdout);
    else if (!rc && !help) data_needs_print_packages(&d, stdout);
    data_needs_free(&d);
    return rc;
}

int cmd_data_check(int argc, char **argv) {
    data_needs d = {0};
    int help = 0, rc = select_needs("data check", argc, argv, &d, &help, NULL);
    if (!rc && !help) {
        char *pkgs = NULL;
        size_t n_missing = data_needs_check(&d, stdout, &pkgs);
        if (!n_missing) printf("data: all %zu sources present\n", d.n);
        else if (pkgs) rc = cli_error("data check: %zu of %zu sources missing; as root: apt-get install %s",
                                      n_missing, d.n, pkgs);
        else rc = cli_error("data check: %zu of %zu sources missing", n_missing, d.n);
        free(pkgs);
    }
    data_needs_free(&d);
    return rc;
}
