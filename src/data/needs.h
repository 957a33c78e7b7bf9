/*
 * needs.h - what the data commands read from the machine, and which Debian
 * package provides it. The entries come from the source tables themselves
 * (the corpus presets in corpus_debian.c, the conversation sources in
 * qa.c): they are the one list of the packages llmos's data needs.
 * `llmos data packages` prints them (scripts/install-deps.sh installs what
 * it prints) and `llmos data check` looks for every file before a long job
 * starts (scripts/main.sh's preflight). Installing is the scripts' job: the
 * library only names what is missing.
 *
 * Ownership: a data_needs owns its entries' strings; data_needs_free
 * releases them.
 */
#ifndef LLMOS_NEEDS_H
#define LLMOS_NEEDS_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    char *what;     /* "corpus debian-small/kjv", "chats gcide" */
    char *packages; /* space-separated Debian packages; "" when every Debian system has the files */
    char *files;    /* space-separated globs, each of which must match an existing path */
} data_need;

typedef struct {
    data_need *v;
    size_t n;
} data_needs;

/* Appends one entry (the strings are copied). */
void data_needs_add(data_needs *d, const char *what, const char *packages, const char *files);
void data_needs_free(data_needs *d);

/* Appends the needs of corpus preset NAME (corpus_debian.c); -1 with
 * err_set on an unknown name. */
int corpus_preset_needs(const char *name, data_needs *d);
/* Appends the needs of the conversation sources in LIST (comma-separated;
 * NULL, "" or "all": every source) (qa.c); -1 with err_set on an unknown
 * source name. */
int qa_sources_needs(const char *list, data_needs *d);

/* The packages of every entry, each once, in table order, one per line. */
void data_needs_print_packages(const data_needs *d, FILE *f);
/* One line per entry: WHAT, packages ("-" for none), files, tab-separated. */
void data_needs_print_table(const data_needs *d, FILE *f);
/* Checks every entry; for each one whose files are missing, prints
 *   missing: WHAT: no 'GLOB' (Debian package 'PKG')
 * to f and appends its packages to *pkgs (space-separated, each once; the
 * caller frees it). Returns the number of entries missing. */
size_t data_needs_check(const data_needs *d, FILE *f, char **pkgs);

#endif
