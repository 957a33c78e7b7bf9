// tests/js/llamacpp.mjs - llama.cpp (through npm node-llama-cpp, CPU build,
// never downloaded or rebuilt) as a command-line oracle for GGUF files.
//
//   node tests/js/llamacpp.mjs tokenize MODEL [--special] < texts.json
//        stdin: a JSON array of strings; prints a JSON array of id arrays
//   node tests/js/llamacpp.mjs greedy MODEL --ids 1,2,3 -n 64 [--kv f16|f32] [--fa on|off]
//        prints {"ids": [...]}: greedy continuation (stops after EOS)
//   node tests/js/llamacpp.mjs logits MODEL --ids 1,2,3 [--kv f16|f32] [--fa on|off]
//        prints {"logits": [[...], ...]}: logits at every position
//   node tests/js/llamacpp.mjs batch < jobs.json
//        jobs: [{"cmd": "greedy"|"logits", "model": PATH, "ids": [...], "n": 64,
//                "kv": "f32", "fa": false}, ...]; prints a JSON array with one
//        result per job ({"ids"} / {"logits"} / {"error": message})
//
// --kv sets the KV cache type (llama.cpp's default is f16; with "f32", flash
// attention off, llama.cpp's f32 path matches a float64 reference to ~1e-6).
// --fa off turns flash attention off (it is "auto" by default). Exit 1 with a
// message when llama.cpp cannot load the model.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../oracle/package.json"));
process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";
const { getLlama, LlamaLogLevel } = await import(require.resolve("node-llama-cpp"));

function usage() {
    process.stderr.write("usage: llamacpp.mjs tokenize|greedy|logits MODEL [--ids 1,2,3] [-n N] [--kv f16|f32] [--fa on|off] [--special] | batch < jobs.json\n");
    process.exit(2);
}

async function readStdin() {
    const chunks = [];
    for await (const c of process.stdin) chunks.push(c);
    return Buffer.concat(chunks).toString("utf8");
}

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const models = new Map();

async function loadModel(modelPath) {
    if (!models.has(modelPath)) models.set(modelPath, await llama.loadModel({ modelPath }));
    return models.get(modelPath);
}

// Runs one greedy or logits job on a fresh context.
async function runJob(model, { cmd, ids, n = 64, kv = "f16", fa = "auto" }) {
    kv = kv.toUpperCase();
    const ctxSize = Math.max(64, Math.min(model.trainContextSize, ids.length + n + 8));
    const ctx = await model.createContext({
        contextSize: ctxSize, threads: 1, batchSize: ctxSize, flashAttention: fa,
        experimentalKvCacheKeyType: kv, experimentalKvCacheValueType: kv,
    });
    try {
        const seq = ctx.getSequence();
        if (cmd === "greedy") {
            const out = [];
            const eos = model.tokens.eos;
            if (n > 0)
                for await (const t of seq.evaluate(ids, { temperature: 0 })) {
                    out.push(t);
                    if (out.length >= n || t === eos) break;
                }
            return { ids: out };
        }
        if (cmd === "logits") {
            const res = await seq.controlledEvaluate(ids.map((t) => [t, { generateNext: { logits: true } }]));
            return {
                logits: res.map((r) => {
                    const m = r.next.logits;
                    const a = new Array(m.size).fill(0);
                    for (const [tok, v] of m) a[tok] = v;
                    return a;
                }),
            };
        }
        throw new Error(`unknown job '${cmd}'`);
    } finally {
        await ctx.dispose();
    }
}

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) usage();
if (cmd === "batch") {
    const jobs = JSON.parse(await readStdin());
    const out = [];
    for (const job of jobs) {
        try {
            out.push(await runJob(await loadModel(job.model), job));
        } catch (e) {
            out.push({ error: String(e.message).split("\n")[0] });
        }
    }
    process.stdout.write(JSON.stringify(out) + "\n");
} else {
    const [modelPath, ...rest] = args;
    if (!modelPath) usage();
    let ids = [], n = 64, kv = "f16", fa = "auto", special = false;
    for (let i = 0; i < rest.length; i++) {
        if (rest[i] === "--ids") ids = rest[++i].split(",").map(Number);
        else if (rest[i] === "-n") n = Number(rest[++i]);
        else if (rest[i] === "--kv") kv = rest[++i];
        else if (rest[i] === "--fa") fa = rest[++i] === "on";
        else if (rest[i] === "--special") special = true;
        else usage();
    }
    let model;
    try {
        model = await loadModel(modelPath);
    } catch (e) {
        process.stderr.write(`llamacpp.mjs: cannot load '${modelPath}': ${String(e.message).split("\n")[0]}\n`);
        process.exit(1);
    }
    if (cmd === "tokenize") {
        const texts = JSON.parse(await readStdin());
        process.stdout.write(JSON.stringify(texts.map((t) => Array.from(model.tokenize(t, special)))) + "\n");
    } else if (cmd === "greedy" || cmd === "logits") {
        process.stdout.write(JSON.stringify(await runJob(model, { cmd, ids, n, kv, fa })) + "\n");
    } else usage();
}
for (const m of models.values()) await m.dispose();
await llama.dispose();
