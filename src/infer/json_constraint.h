/*
 * json_constraint.h - constrained decoding for JSON: an automaton built
 * from a JSON schema that says, byte by byte, whether a text can still
 * become a JSON value valid against the schema. The sampler masks every
 * token whose bytes would leave that language, so even a small model
 * returns JSON that parses and validates (OpenAI's response_format
 * json_object and json_schema, and the arguments of tool calls).
 *
 * The automaton is a pushdown recognizer (one frame per open object, array,
 * string, number or literal) run on every alternative of an anyOf at once
 * (up to JC_MAX_PATHS alive paths), so it is exact for the schemas below:
 *
 *   type (one or a list), properties, required, additionalProperties
 *   (false, or true/absent on an object without properties), items,
 *   minItems, maxItems, minLength, maxLength, enum, const, anyOf, oneOf
 *   (of branches no value satisfies twice: the branches are checked when
 *   built only for distinct types), and the annotations title,
 *   description, $schema, default, examples, strict.
 *
 * Anything else ($ref, pattern, minimum, format...) is refused when the
 * constraint is made, with a message naming the keyword: a constraint that
 * silently ignored a keyword could emit JSON the schema rejects.
 *
 * The language it allows is a subset of what the schema accepts, on
 * purpose: properties come in the schema's order (optional ones may be
 * left out), whitespace between tokens is at most two characters in a row,
 * numbers have at most 16 digits before the exponent, and free-form keys
 * and strings are ordinary JSON strings. Every text it accepts as complete
 * validates; every schema above has such a text.
 *
 * Ownership: json_constraint_new copies what it needs from the schema
 * (the cJSON tree may be freed afterwards); json_constraint_free frees.
 */
#ifndef LLMOS_JSON_CONSTRAINT_H
#define LLMOS_JSON_CONSTRAINT_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct json_constraint json_constraint;

/* The constraint for a schema; schema NULL means any JSON object (OpenAI's
 * json_object). NULL with err_set ("schema: unsupported keyword
 * 'pattern' at properties.name") when the schema cannot be enforced. */
json_constraint *json_constraint_new(const cJSON *schema);
void json_constraint_free(json_constraint *c);
/* 1 when the n bytes can follow what was fed so far, 0 otherwise (the
 * constraint does not change). */
int json_constraint_try(const json_constraint *c, const char *s, size_t n);
/* Feeds n bytes: 0, or -1 when they cannot follow (nothing changes). */
int json_constraint_feed(json_constraint *c, const char *s, size_t n);
/* 1 when what was fed is a complete value (the end may come now). */
int json_constraint_done(const json_constraint *c);

#endif
