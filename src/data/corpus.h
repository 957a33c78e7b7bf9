/*
 * corpus.h - the corpus builder behind `llmos data build`: it turns text
 * files, folders, JSONL, gzip'd files, URLs and the built-in Debian presets
 * into two documents files (train.jsonl, val.jsonl: one {"source",
 * "license", "text"} object per line) and a manifest.json of counts.
 *
 * The pipeline, in order (corpus.c):
 *   1. read     every source is turned into documents (corpus_read.c for
 *               files/URLs, corpus_debian.c for the presets). Each document
 *               is cleaned as it arrives: invalid UTF-8 bytes are decoded as
 *               Windows-1252 (Latin-1 for the bytes cp1252 leaves undefined),
 *               control characters dropped, CR/LF unified, trailing spaces
 *               cut, runs of blank lines shortened to one.
 *   2. boilerplate  lines (>= 3 words) that recur in >= 30% of a source's
 *               documents (and in >= 8 of them) are navigation, headers or
 *               footers: they are removed.
 *   3. chunk    documents longer than chunk_bytes are cut at paragraph
 *               boundaries, so the split and the dedup work on pieces.
 *   4. filter   too short / too long / too many symbols / too repetitive.
 *   5. exact dedup  by a 128-bit hash of the text lowercased with
 *               whitespace collapsed; the first copy is kept.
 *   6. near dedup   MinHash (128 permutations of word 5-shingles) with LSH
 *               banding (16 bands x 8 rows); a candidate pair whose
 *               estimated Jaccard similarity is >= near_threshold removes
 *               the later document.
 *   7. split    a document goes to val when hash(seed, text hash) falls
 *               below val_fraction; the rest is train.
 *   8. mix      each train document is written floor(w) times, plus once
 *               more with probability frac(w), w the source's weight; the
 *               train lines are then shuffled by the seed.
 * Everything is deterministic for a given seed and input.
 *
 * Ownership: a corpus owns every string it holds; corpus_free releases all.
 */
#ifndef LLMOS_CORPUS_H
#define LLMOS_CORPUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- options ------------------------------------------------------------ */

typedef struct {
    uint64_t seed;           /* split and shuffle (default 1) */
    double val_fraction;     /* share of documents held out (default 0.01) */
    size_t chunk_bytes;      /* documents are cut into pieces of at most this (32768) */
    size_t min_bytes;        /* shorter documents are dropped (24) */
    size_t max_bytes;        /* longer documents (before chunking) are dropped (64 MB) */
    double max_symbol_ratio; /* share of non-space bytes that are ASCII symbols (0.30) */
    double max_dup_line_ratio; /* share of bytes in lines repeated within the doc (0.30) */
    double near_threshold;   /* estimated Jaccard at which a near duplicate is removed (0.8) */
    int boilerplate;         /* remove lines that recur across a source (1) */
    int threads;             /* MinHash signatures (default: all CPUs) */
    int quiet;               /* no progress on stderr */
} corpus_opts;

void corpus_opts_default(corpus_opts *o);

/* ---- the collection of documents ---------------------------------------- */

typedef struct corpus corpus;

/* Why an input was skipped (counted per reason, reported by name). */
typedef enum {
    CORPUS_SKIP_UNREADABLE, /* cannot open / read / list */
    CORPUS_SKIP_BINARY,     /* NUL bytes or mostly control characters */
    CORPUS_SKIP_EMPTY,      /* nothing left after extraction */
    CORPUS_SKIP_BAD_FORMAT, /* corrupt gzip, unparsable JSONL line, bad archive */
    CORPUS_SKIP_URL,        /* a URL that failed */
    CORPUS_SKIP_N
} corpus_skip_reason;

corpus *corpus_new(const corpus_opts *o);
void corpus_free(corpus *c);

/* Finds or creates the source NAME; license is set when the source is new
 * (or replaces "unknown"). Returns its index. */
int corpus_source(corpus *c, const char *name, const char *license);
/* Sets a source's mixture weight (>= 0). Returns -1 when no such source. */
int corpus_set_weight(corpus *c, const char *name, double weight);
int corpus_set_license(corpus *c, const char *name, const char *license);

/* Adds one document to source src: the bytes are copied, repaired to valid
 * UTF-8 and whitespace-normalized. Empty results are counted, not kept. */
void corpus_add(corpus *c, int src, const char *text, size_t len);
/* Reports a skipped input: counted under reason, printed on stderr (the
 * first few of each reason, then only counted). Never fatal. */
void corpus_skip(corpus *c, corpus_skip_reason reason, const char *what, const char *why);
/* Progress hook for readers: called after each file; prints a line at most
 * once a second. */
void corpus_progress(corpus *c, const char *what);

/* Runs steps 2-8 and writes DIR/train.jsonl, DIR/val.jsonl and
 * DIR/manifest.json atomically (DIR is created). preset may be NULL.
 * Returns 0, or -1 with err_set. */
int corpus_finish(corpus *c, const char *dir, const char *preset);
/* The per-source table (docs, MB, filtered, duplicates, train/val) and the
 * near-duplicate similarity histogram, after corpus_finish. */
void corpus_print_summary(const corpus *c, FILE *f);

/* ---- readers (corpus_read.c) -------------------------------------------- */

/* Reads SPEC into the corpus: "[NAME=]PATH|URL". PATH is a file or folder
 * (walked recursively in name order, symlinks inside not followed); the
 * format comes from the extension (.txt .text .md .rst, .html .htm .xhtml,
 * .jsonl .ndjson, .pod, .info, man pages .1-.9, any of them .gz; a dictd
 * NAME.index beside NAME.dict.dz). NAME
 * defaults to the base name without extensions. Bad inputs are skipped and
 * counted; returns -1 only when SPEC itself cannot be used at all (err_set). */
int corpus_read_spec(corpus *c, const char *spec, const char *license);

/* Reads a file or a folder tree into source src. exclude: space-separated
 * fnmatch patterns on full paths, or NULL. any_ext: in folders, read files
 * of unknown extension as text (otherwise they are passed over). */
void corpus_read_path(corpus *c, int src, const char *path, const char *exclude, int any_ext);

/* Format-aware reading of one buffer already in memory (name used for the
 * format and messages). Takes ownership of buf (malloc'd). */
void corpus_read_buffer(corpus *c, int src, const char *name, char *buf, size_t len);
/* Reads a file (decompressing .gz/.dz) into a malloc'd buffer; NULL with
 * err_set on failure. */
char *corpus_slurp(const char *path, size_t *len);

/* ---- text extraction (corpus_text.c) ------------------------------------ */

/* Each returns a malloc'd NUL-terminated plain text and its length. */
char *text_from_html(const char *s, size_t n, size_t *out_len);
char *text_from_roff(const char *s, size_t n, size_t *out_len);
char *text_from_pod(const char *s, size_t n, size_t *out_len);
/* Repairs encoding and normalizes whitespace (step 1 above). */
char *text_clean(const char *s, size_t n, size_t *out_len, int *repaired);
/* 1 when the bytes look binary (NUL in the first 64 KiB, or > 10% control
 * characters). */
int text_is_binary(const char *s, size_t n);
/* 64-bit hash of bytes with a seed (used for dedup, split and mixing). */
uint64_t text_hash64(const void *p, size_t n, uint64_t seed);

/* ---- presets (corpus_debian.c) ------------------------------------------ */

/* Reads the sources of preset NAME into c. Known names: "debian",
 * "debian-small", "tiny". -1 with err_set on an unknown name, or when a
 * source's files are missing: each is named on stderr with its Debian
 * package, and the message gives the apt-get line (installing them is the
 * job of scripts/install-deps.sh; the needs are in needs.h). */
int corpus_read_preset(corpus *c, const char *name);
/* Reads a dictd database (BASE.index + BASE.dict.dz or BASE.dict): one
 * document per entry, database-info entries left out, {braces} removed,
 * GCIDE accent codes ([=a], ['e]) turned into combining marks. */
void corpus_read_dictd(corpus *c, int src, const char *base);

/* The name of preset i (0, 1, ...); NULL past the last. */
const char *corpus_preset_name(size_t i);
/* One line per preset for --help. */
void corpus_list_presets(FILE *f);

#endif
