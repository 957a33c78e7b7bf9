/*
 * qa.h - the conversation dataset builder behind `llmos data chats`: it
 * turns the structured reference data Debian ships (WordNet, GCIDE, the chemical
 * elements, ISO country/currency/language codes, airports, VERA acronyms,
 * GNU units, the Perl and Python FAQs) into question/answer conversations
 * for supervised fine-tuning.
 *
 * What makes it useful for training an assistant:
 *   - several phrasings of each question, chosen per subject by a seeded
 *     hash (the same options give the same file);
 *   - multi-turn conversations (a definition, then "use it in a sentence",
 *     "any synonyms?", "what kind of thing is it?"; an element's symbol,
 *     then its atomic number...), where the follow-up leans on the context;
 *   - answers in one voice: a direct, complete sentence that restates the
 *     subject, then the detail, never a question back;
 *   - a held-out split by subject: a subject (a word, a country, an
 *     element, an acronym, a FAQ question) goes entirely to the held-out
 *     file or entirely to the training file, decided by a hash of its
 *     lowercased name, so the same word is held out in every source. The
 *     held-out file measures whether the assistant answers about subjects it
 *     only saw in pretraining documents.
 *
 * Each output line is a conv.h conversation with two extra members,
 * "source" and "subject".
 */
#ifndef LLMOS_QA_H
#define LLMOS_QA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define QA_MAX_SOURCES 16

typedef struct {
    const char *out_path;     /* training conversations */
    const char *heldout_path; /* held-out subjects; NULL: no held-out file */
    const char *sources;      /* comma-separated names; NULL: all */
    double heldout_frac;      /* share of subjects held out (0.05) */
    long max_per_source;      /* 0: no limit */
    size_t max_answer_chars;  /* longer FAQ answers are cut at a paragraph (1500) */
    uint64_t seed;
    int quiet;
} qa_opts;

typedef struct {
    char name[32];
    size_t n_train, n_heldout; /* conversations */
    size_t n_subjects;
    double seconds;
} qa_source_stats;

typedef struct {
    qa_source_stats src[QA_MAX_SOURCES];
    int n_src;
    size_t n_train, n_heldout;
} qa_stats;

void qa_opts_default(qa_opts *o);
/* Builds the files. -1 with err_set on an unknown source name, missing
 * data files (the message names the Debian package to install) or a write
 * error; the output files are written atomically. */
int qa_build(const qa_opts *o, qa_stats *st);
/* One line per source for --help: name, Debian package, what it gives. */
void qa_list_sources(FILE *f);

#endif
