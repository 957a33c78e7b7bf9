// tests/js/serve_api.mjs - talks to `llmos serve` with the official `openai`
// npm client (and plain fetch for what the client hides), for
// tests/t_serve_api.sh:
//
//   node tests/js/serve_api.mjs URL API_KEY CHECKS.json
//
// CHECKS.json comes from the shell script: {"n_ctx", "template_ids": the
// prompt tokens `llmos tokenize` gives for the rendered conversation}. The
// replies are judged by independent means: ajv validates every
// json_schema reply and every tool call's arguments against their schemas,
// JSON.parse parses them, the SSE stream is read by the client's own
// parser. Exit 1 with a message on the first mismatch.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../oracle/package.json"));
const OpenAI = require("openai").default ?? require("openai");
const Ajv = require("ajv").default ?? require("ajv");

const [url, key, checksPath] = process.argv.slice(2);
const checks = JSON.parse(readFileSync(checksPath, "utf8"));
const client = new OpenAI({ baseURL: url + "v1", apiKey: key, maxRetries: 0, timeout: 120000 });
const ajv = new Ajv({ strict: true });

function fail(msg) {
    process.stderr.write("FAIL: " + msg + "\n");
    process.exit(1);
}
function eq(a, b, what) {
    if (JSON.stringify(a) !== JSON.stringify(b)) fail(`${what}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
}

const conv = [{ role: "system", content: "You are a helpful assistant." },
              { role: "user", content: "What does \"zebra\" mean?" }];

async function streamText(params) {
    const s = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
    const text = [], fin = [], calls = [];
    let usage = null, first = true, nChunks = 0;
    for await (const c of s) {
        nChunks++;
        if (c.usage) usage = c.usage;
        for (const ch of c.choices) {
            const i = ch.index;
            text[i] ??= "";
            if (first && !ch.delta.role) fail("the first delta has no role");
            first = false;
            if (ch.delta.content) text[i] += ch.delta.content;
            for (const tc of ch.delta.tool_calls ?? []) {
                calls[i] ??= [];
                const k = tc.index;
                calls[i][k] ??= { id: "", name: "", arguments: "" };
                if (tc.id) calls[i][k].id = tc.id;
                if (tc.function?.name) calls[i][k].name += tc.function.name;
                if (tc.function?.arguments) calls[i][k].arguments += tc.function.arguments;
            }
            if (ch.finish_reason) fin[i] = ch.finish_reason;
        }
    }
    return { text, fin, usage, calls, nChunks };
}

// 1. non-streaming and streaming at temperature 0 give the same text; usage is exact
const base = { model: "chat.gguf", messages: conv, temperature: 0, max_tokens: 24 };
const r = await client.chat.completions.create(base);
const ch = r.choices[0];
if (r.object !== "chat.completion" || ch.message.role !== "assistant" || typeof ch.message.content !== "string")
    fail("chat reply shape: " + JSON.stringify(r));
if (!["stop", "length"].includes(ch.finish_reason)) fail("finish_reason " + ch.finish_reason);
eq(r.usage.prompt_tokens, checks.template_ids.length, "prompt_tokens against llmos tokenize of the template text");
if (ch.finish_reason === "length") eq(r.usage.completion_tokens, 24, "completion_tokens at max_tokens");
eq(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens, "total_tokens");
const s = await streamText(base);
eq(s.text[0], ch.message.content, "streamed text against the whole reply");
eq(s.fin[0], ch.finish_reason, "streamed finish_reason");
const counts = u => [u.prompt_tokens, u.completion_tokens, u.total_tokens];
eq(counts(s.usage), counts(r.usage), "streamed usage (stream_options.include_usage)");
if (s.usage.prompt_tokens_details.cached_tokens !== r.usage.prompt_tokens - 1)
    fail("the second request did not reuse the cached prompt: " + JSON.stringify(s.usage));
if (s.nChunks < 3) fail("too few chunks: " + s.nChunks);

// 2. logprobs: one entry per generated token, top_logprobs sorted, the chosen one greedy
const lp = await client.chat.completions.create({ ...base, logprobs: true, top_logprobs: 3 });
const content = lp.choices[0].logprobs.content;
eq(content.length, lp.usage.completion_tokens, "logprobs entries against completion_tokens");
for (const t of content) {
    if (t.top_logprobs.length !== 3 || t.logprob > 0) fail("logprobs entry " + JSON.stringify(t));
    if (Math.abs(t.top_logprobs[0].logprob - t.logprob) > 1e-3) fail("greedy token is not the most likely: " + JSON.stringify(t));
    for (let k = 1; k < 3; k++) if (t.top_logprobs[k].logprob > t.top_logprobs[k - 1].logprob) fail("top_logprobs unsorted");
    const sum = t.top_logprobs.reduce((a, x) => a + Math.exp(x.logprob), 0);
    if (sum > 1 + 1e-4) fail("top probabilities sum over 1: " + sum);
}

// 3. n and seed reproducible; the n choices are different samples
const sampled = { ...base, temperature: 1.0, n: 3, seed: 1234, max_tokens: 12 };
const a = await client.chat.completions.create(sampled), b = await client.chat.completions.create(sampled);
eq(a.choices.map(c => c.message.content), b.choices.map(c => c.message.content), "same seed, same choices");
if (a.choices.length !== 3 || new Set(a.choices.map(c => c.message.content)).size < 2) fail("n=3 choices all equal");
const c2 = await client.chat.completions.create({ ...sampled, seed: 99 });
if (JSON.stringify(c2.choices.map(c => c.message.content)) === JSON.stringify(a.choices.map(c => c.message.content)))
    fail("another seed gave the same choices");

// 4. stop strings cut the text before them, streamed or not
const full = ch.message.content;
if (full.length > 6) {
    const stop = full.slice(3, 5);
    const st = await client.chat.completions.create({ ...base, stop: [stop] });
    eq(st.choices[0].message.content, full.slice(0, full.indexOf(stop)), "text cut at the stop string");
    eq(st.choices[0].finish_reason, "stop", "finish_reason at a stop string");
    const ss = await streamText({ ...base, stop: [stop] });
    eq(ss.text[0], st.choices[0].message.content, "streamed text cut at the stop string");
}

// 5. structured output: every json_schema reply validates, json_object parses
const schema = {
    type: "object",
    properties: {
        name: { type: "string", maxLength: 12 },
        age: { type: "integer" },
        tags: { type: "array", items: { enum: ["a", "b", "zebra"] }, minItems: 1, maxItems: 3 },
        ok: { type: "boolean" },
        note: { anyOf: [{ type: "null" }, { type: "number" }, { type: "string", maxLength: 5 }] },
    },
    required: ["name", "age", "tags", "ok"],
    additionalProperties: false,
};
const validate = ajv.compile(schema);
for (let seed = 1; seed <= 6; seed++) {
    const js = await client.chat.completions.create({
        ...base, temperature: 1, seed, max_tokens: 200,
        response_format: { type: "json_schema", json_schema: { name: "person", schema, strict: true } } });
    const txt = js.choices[0].message.content;
    let v;
    try { v = JSON.parse(txt); } catch (e) { fail(`json_schema reply (seed ${seed}) is not JSON: ${txt}`); }
    if (!validate(v)) fail(`json_schema reply (seed ${seed}) fails the schema: ${txt} ${ajv.errorsText(validate.errors)}`);
    eq(js.choices[0].finish_reason, "stop", "json_schema finish_reason");
}
const jo = await client.chat.completions.create({ ...base, temperature: 1, seed: 5, max_tokens: 200,
                                                  response_format: { type: "json_object" } });
let parsed;
try { parsed = JSON.parse(jo.choices[0].message.content); } catch (e) { fail("json_object reply: " + jo.choices[0].message.content); }
if (typeof parsed !== "object" || Array.isArray(parsed) || parsed === null) fail("json_object reply is not an object");

// 6. tool calls: required and named come back as parseable calls with unique ids
const weatherParams = { type: "object", properties: { city: { enum: ["Paris", "Madrid"] }, days: { type: "integer" } },
                        required: ["city", "days"], additionalProperties: false };
const tools = [
    { type: "function", function: { name: "get_weather", description: "Weather in a city", parameters: weatherParams } },
    { type: "function", function: { name: "capital", description: "Capital of a country",
                                    parameters: { type: "object", properties: { country: { type: "string", maxLength: 10 } },
                                                  required: ["country"] } } },
];
const valTool = { get_weather: ajv.compile(weatherParams), capital: ajv.compile(tools[1].function.parameters) };
const tc = await client.chat.completions.create({ ...base, temperature: 1, seed: 3, n: 3, max_tokens: 120, tools,
                                                  tool_choice: "required" });
const ids = new Set();
for (const c of tc.choices) {
    eq(c.finish_reason, "tool_calls", "finish_reason of a required call");
    const call = c.message.tool_calls?.[0];
    if (!call || call.type !== "function" || !valTool[call.function.name]) fail("tool call: " + JSON.stringify(c.message));
    const args = JSON.parse(call.function.arguments);
    if (!valTool[call.function.name](args)) fail("tool arguments fail the schema: " + call.function.arguments);
    ids.add(call.id);
}
if (ids.size !== 3) fail("tool call ids are not unique: " + [...ids]);
const named = { ...base, max_tokens: 120, tools, tool_choice: { type: "function", function: { name: "capital" } } };
const tn = await client.chat.completions.create(named);
eq(tn.choices[0].message.tool_calls[0].function.name, "capital", "the named tool is called");
const ts = await streamText(named);
eq(ts.fin[0], "tool_calls", "streamed finish_reason of a call");
eq(ts.calls[0][0].name, "capital", "streamed tool name");
eq(ts.calls[0][0].arguments, tn.choices[0].message.tool_calls[0].function.arguments, "streamed arguments, joined");
// the call and its result go back into the conversation
const back = await client.chat.completions.create({ ...base, tools, messages: [...conv, tn.choices[0].message,
    { role: "tool", tool_call_id: tn.choices[0].message.tool_calls[0].id, content: "Paris" }] });
if (!back.choices[0].message) fail("no reply after a tool result");
const none = await client.chat.completions.create({ ...base, tools, tool_choice: "none" });
if (none.choices[0].message.tool_calls) fail("tool_choice none gave a call");

// 7. /v1/completions, streamed and not
const cp = await client.completions.create({ model: "chat.gguf", prompt: "The zebra", max_tokens: 10, temperature: 0 });
const cs = await client.completions.create({ model: "chat.gguf", prompt: "The zebra", max_tokens: 10, temperature: 0,
                                             stream: true });
let ctext = "";
for await (const c of cs) ctext += c.choices[0]?.text ?? "";
eq(ctext, cp.choices[0].text, "streamed completion against the whole one");
eq(cp.object, "text_completion", "completion object");

// 8. models
const models = await client.models.list();
eq(models.data[0].id, "chat.gguf", "model id");
process.stdout.write("serve_api.mjs: all checks passed\n");
