// tests/js/llamacpp.mjs - llama.cpp (through npm node-llama-cpp, CPU build,
// never downloaded or rebuilt) as a command-line oracle for GGUF files.
//
//   node tests/js/llamacpp.mjs tokenize MODEL [--special] < texts.json
//        stdin: a JSON array of strings; prints a JSON array of id arrays
//   node tests/js/llamacpp.mjs greedy MODEL --ids 1,2,3 -n 64 [--kv f16|f32]
//        prints {"ids": [...]}: greedy continuation (stops after EOS)
//   node tests/js/llamacpp.mjs logits MODEL --ids 1,2,3 [--kv f16|f32]
//        prints {"logits": [[...], ...]}: logits at every position
//
// --kv sets the KV cache type (llama.cpp's default is f16). Exit 1 with a
// message when llama.cpp cannot load the model.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../oracle/package.json"));
process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";
const { getLlama, LlamaLogLevel } = await import(require.resolve("node-llama-cpp"));

function usage() {
    process.stderr.write("usage: llamacpp.mjs tokenize|greedy|logits MODEL [--ids 1,2,3] [-n N] [--kv f16|f32] [--special]\n");
    process.exit(2);
}

const [cmd, modelPath, ...rest] = process.argv.slice(2);
if (!cmd || !modelPath) usage();
let ids = [], n = 64, kv = "F16", special = false;
for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--ids") ids = rest[++i].split(",").map(Number);
    else if (rest[i] === "-n") n = Number(rest[++i]);
    else if (rest[i] === "--kv") kv = rest[++i].toUpperCase();
    else if (rest[i] === "--special") special = true;
    else usage();
}

async function readStdin() {
    const chunks = [];
    for await (const c of process.stdin) chunks.push(c);
    return Buffer.concat(chunks).toString("utf8");
}

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
let model;
try {
    model = await llama.loadModel({ modelPath });
} catch (e) {
    process.stderr.write(`llamacpp.mjs: cannot load '${modelPath}': ${e.message}\n`);
    process.exit(1);
}

if (cmd === "tokenize") {
    const texts = JSON.parse(await readStdin());
    const out = texts.map((t) => Array.from(model.tokenize(t, special)));
    process.stdout.write(JSON.stringify(out) + "\n");
} else {
    const ctxSize = Math.max(64, Math.min(model.trainContextSize, ids.length + n + 8));
    const ctx = await model.createContext({
        contextSize: ctxSize, threads: 1, batchSize: ctxSize, flashAttention: false,
        experimentalKvCacheKeyType: kv, experimentalKvCacheValueType: kv,
    });
    const seq = ctx.getSequence();
    if (cmd === "greedy") {
        const out = [];
        const eos = model.tokens.eos;
        if (n > 0)
            for await (const t of seq.evaluate(ids, { temperature: 0 })) {
                out.push(t);
                if (out.length >= n || t === eos) break;
            }
        process.stdout.write(JSON.stringify({ ids: out }) + "\n");
    } else if (cmd === "logits") {
        const res = await seq.controlledEvaluate(ids.map((t) => [t, { generateNext: { logits: true } }]));
        const rows = res.map((r) => {
            const m = r.next.logits;
            const a = new Array(m.size).fill(0);
            for (const [tok, v] of m) a[tok] = v;
            return a;
        });
        process.stdout.write(JSON.stringify({ logits: rows }) + "\n");
    } else usage();
    await ctx.dispose();
}
await model.dispose();
await llama.dispose();
