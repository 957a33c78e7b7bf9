/*
 * cmd_data_build.c - `llmos data build`: assembles a cleaned, deduplicated,
 * mixed and split corpus from files, folders, JSONL, URLs or a built-in
 * Debian preset (the pipeline is described in src/data/corpus.h).
 */
#include "cli.h"

#include "../core/common.h"
#include "../data/corpus.h"

#include <stdlib.h>
#include <string.h>

static void usage(void) {
    printf("usage: llmos data build [options] [--preset NAME] [NAME=]SOURCE...\n"
           "  SOURCE is a file, a folder (walked recursively), or a URL (http, https, file).\n"
           "  Formats by extension: .txt .md .rst (text), .html .htm (markup stripped),\n"
           "  .jsonl (the \"text\" field of each line), .pod, .info, man pages (.1-.9),\n"
           "  dictd databases (NAME.index beside NAME.dict.dz);\n"
           "  any of them gzip'd (.gz). NAME names the source (default: the base name).\n"
           "  --preset NAME         add a built-in corpus (its Debian packages: llmos data packages):\n");
    corpus_list_presets(stdout);
    printf("  --out DIR             output folder (default data/corpus): train.jsonl, val.jsonl, manifest.json\n"
           "  --seed N              split and shuffle seed (default 1)\n"
           "  --val-fraction F      share of documents held out for validation (default 0.01)\n"
           "  --mix SRC=W,...       mixture weights: train copies per document of a source (default 1;\n"
           "                        2.5 = twice, plus a third time for half of them; 0.5 = half)\n"
           "  --license SRC=LIC     license recorded for a source given on the command line\n"
           "  --chunk-bytes N       cut longer documents at paragraph boundaries (default 32768)\n"
           "  --min-bytes N         drop shorter documents (default 24)\n"
           "  --max-bytes N         drop longer documents, before chunking (default 64M)\n"
           "  --max-symbols R       drop documents whose non-space bytes are > R ASCII symbols (0.30)\n"
           "  --max-dup-lines R     drop documents with > R of their bytes in repeated lines (0.30)\n"
           "  --near F              near-duplicate threshold, estimated Jaccard of word 5-shingles (0.8)\n"
           "  --no-boilerplate      keep lines that recur across >= 30%% of a source's documents\n"
           "  --threads N           threads for MinHash signatures\n"
           "  --quiet               no progress on stderr\n"
           "example: llmos data build --preset debian-small --out data/small\n"
           "         llmos data build --out data/mine notes/ wiki=https://example.org/dump.jsonl.gz --mix notes=2\n");
}

/* Applies "a=1.5,b=2" to the corpus. */
static int apply_mix(corpus *c, const char *spec) {
    char *s = xstrdup(spec), *save = NULL;
    int rc = 0;
    for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strrchr(tok, '=');
        double w;
        if (!eq || eq == tok) { rc = err_set("--mix: '%s' is not SOURCE=WEIGHT", tok); break; }
        *eq = 0;
        if (parse_double("--mix", eq + 1, &w) != 0) { rc = -1; break; }
        if (w < 0 || w > 1000) { rc = err_set("--mix: weight of '%s' must be in [0, 1000]", tok); break; }
        if (corpus_set_weight(c, tok, w) != 0) { rc = err_set("--mix: no source named '%s' was read", tok); break; }
    }
    free(s);
    return rc;
}

int cmd_data_build(int argc, char **argv) {
    corpus_opts o;
    corpus_opts_default(&o);
    const char *out = "data/corpus", *preset = NULL;
    const char **specs = xcalloc((size_t)argc + 1, sizeof *specs);
    const char **mixes = xcalloc((size_t)argc + 1, sizeof *mixes);
    const char **lics = xcalloc((size_t)argc + 1, sizeof *lics);
    int ns = 0, nm = 0, nl = 0, rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        long l;
        double d;
        if (cli_is_help(a)) { usage(); rc = 0; goto done; }
#define VAL() do { if (!(v = cli_value(argc, argv, &i))) goto done; } while (0)
        else if (!strcmp(a, "--preset")) { VAL(); preset = v; }
        else if (!strcmp(a, "--out")) { VAL(); out = v; }
        else if (!strcmp(a, "--seed")) {
            VAL();
            if (parse_long(a, v, 0, 0x7fffffffffffffffL, &l)) { cli_error(NULL); goto done; }
            o.seed = (uint64_t)l;
        } else if (!strcmp(a, "--val-fraction")) {
            VAL();
            if (parse_double(a, v, &d) || d < 0 || d >= 1) { cli_error("data build: --val-fraction must be in [0, 1)"); goto done; }
            o.val_fraction = d;
        } else if (!strcmp(a, "--mix")) { VAL(); mixes[nm++] = v; }
        else if (!strcmp(a, "--license")) { VAL(); lics[nl++] = v; }
        else if (!strcmp(a, "--chunk-bytes") || !strcmp(a, "--min-bytes") || !strcmp(a, "--max-bytes")) {
            VAL();
            if (parse_count(a, v, &d) || d < 0 || d > 1e12) { cli_error("data build: bad %s '%s'", a, v); goto done; }
            if (!strcmp(a, "--chunk-bytes")) {
                if (d < 256) { cli_error("data build: --chunk-bytes must be >= 256"); goto done; }
                o.chunk_bytes = (size_t)d;
            } else if (!strcmp(a, "--min-bytes")) o.min_bytes = (size_t)d;
            else o.max_bytes = (size_t)d;
        } else if (!strcmp(a, "--max-symbols") || !strcmp(a, "--max-dup-lines") || !strcmp(a, "--near")) {
            VAL();
            if (parse_double(a, v, &d) || d < 0 || d > 1) { cli_error("data build: %s must be in [0, 1]", a); goto done; }
            if (!strcmp(a, "--max-symbols")) o.max_symbol_ratio = d;
            else if (!strcmp(a, "--max-dup-lines")) o.max_dup_line_ratio = d;
            else o.near_threshold = d;
        } else if (!strcmp(a, "--threads")) {
            VAL();
            if (parse_long(a, v, 1, 1024, &l)) { cli_error(NULL); goto done; }
            o.threads = (int)l;
        } else if (!strcmp(a, "--no-boilerplate")) o.boilerplate = 0;
        else if (!strcmp(a, "--quiet")) o.quiet = 1;
        else if (a[0] == '-' && a[1]) { rc = cli_bad_option("data build", a); goto done; }
        else specs[ns++] = a;
#undef VAL
    }
    if (!ns && !preset) {
        cli_error("data build: no SOURCE and no --preset (see llmos data build --help)");
        goto done;
    }
    if (o.threads <= 0) o.threads = cli_default_threads();
    corpus *c = corpus_new(&o);
    rc = 1;
    if (preset && corpus_read_preset(c, preset) != 0) {
        cli_error(NULL);
        corpus_free(c);
        goto done;
    }
    for (int i = 0; i < ns; i++) {
        /* a license given for this source's name applies from the start */
        if (corpus_read_spec(c, specs[i], NULL) != 0) {
            cli_error(NULL);
            corpus_free(c);
            goto done;
        }
    }
    for (int i = 0; i < nl; i++) {
        const char *eq = strchr(lics[i], '=');
        char *nm2 = eq ? xstrndup(lics[i], (size_t)(eq - lics[i])) : NULL;
        int bad = !eq || corpus_set_license(c, nm2, eq + 1) != 0;
        if (bad) cli_error("data build: --license '%s': expected SOURCE=LICENSE naming a source that was read", lics[i]);
        free(nm2);
        if (bad) { rc = 2; corpus_free(c); goto done; }
    }
    for (int i = 0; i < nm; i++)
        if (apply_mix(c, mixes[i]) != 0) {
            cli_error(NULL);
            rc = 2;
            corpus_free(c);
            goto done;
        }
    if (corpus_finish(c, out, preset) != 0) {
        cli_error(NULL);
        corpus_free(c);
        goto done;
    }
    corpus_print_summary(c, stdout);
    corpus_free(c);
    rc = 0;
done:
    free(specs);
    free(mixes);
    free(lics);
    return rc;
}
