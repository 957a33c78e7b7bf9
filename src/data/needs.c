/*
 * needs.c - the list of what the data commands need (see needs.h): adding
 * entries, printing their packages once each, and checking their files.
 */
#include "needs.h"

#include "../core/common.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>

void data_needs_add(data_needs *d, const char *what, const char *packages, const char *files) {
    d->v = xrealloc(d->v, (d->n + 1) * sizeof *d->v);
    d->v[d->n].what = xstrdup(what);
    d->v[d->n].packages = xstrdup(packages);
    d->v[d->n].files = xstrdup(files);
    d->n++;
}

void data_needs_free(data_needs *d) {
    for (size_t i = 0; i < d->n; i++) free(d->v[i].what), free(d->v[i].packages), free(d->v[i].files);
    free(d->v);
    d->v = NULL;
    d->n = 0;
}

/* Appends the words of LIST not yet in *set (space-separated, owned). */
static void add_words(char **set, const char *list) {
    char *buf = xstrdup(list), *save = NULL;
    for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        size_t n = strlen(w), have = *set ? strlen(*set) : 0;
        int dup = 0;
        for (const char *p = *set; p && *p && !dup;) {
            const char *e = strchr(p, ' ');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            dup = l == n && !memcmp(p, w, n);
            p = e ? e + 1 : p + l;
        }
        if (dup) continue;
        *set = xrealloc(*set, have + n + 2);
        if (have) (*set)[have++] = ' ';
        memcpy(*set + have, w, n + 1);
    }
    free(buf);
}

void data_needs_print_packages(const data_needs *d, FILE *f) {
    char *set = NULL;
    for (size_t i = 0; i < d->n; i++) add_words(&set, d->v[i].packages);
    char *save = NULL;
    for (char *w = set ? strtok_r(set, " ", &save) : NULL; w; w = strtok_r(NULL, " ", &save))
        fprintf(f, "%s\n", w);
    free(set);
}

void data_needs_print_table(const data_needs *d, FILE *f) {
    for (size_t i = 0; i < d->n; i++)
        fprintf(f, "%s\t%s\t%s\n", d->v[i].what, *d->v[i].packages ? d->v[i].packages : "-", d->v[i].files);
}

/* The first glob of FILES that matches no existing path (owned), or NULL. */
static char *first_missing(const char *files) {
    char *buf = xstrdup(files), *save = NULL, *miss = NULL;
    for (char *pat = strtok_r(buf, " ", &save); pat && !miss; pat = strtok_r(NULL, " ", &save)) {
        glob_t g;
        /* without GLOB_NOCHECK, a pattern that matches nothing is GLOB_NOMATCH */
        if (glob(pat, GLOB_BRACE, NULL, &g) != 0) miss = xstrdup(pat);
        else globfree(&g);
    }
    free(buf);
    return miss;
}

size_t data_needs_check(const data_needs *d, FILE *f, char **pkgs) {
    size_t n_missing = 0;
    for (size_t i = 0; i < d->n; i++) {
        char *miss = first_missing(d->v[i].files);
        if (!miss) continue;
        n_missing++;
        if (*d->v[i].packages) {
            fprintf(f, "missing: %s: no '%s' (Debian package%s '%s')\n", d->v[i].what, miss,
                    strchr(d->v[i].packages, ' ') ? "s" : "", d->v[i].packages);
            add_words(pkgs, d->v[i].packages);
        } else {
            fprintf(f, "missing: %s: no '%s' (a file every Debian system has)\n", d->v[i].what, miss);
        }
        free(miss);
    }
    return n_missing;
}
