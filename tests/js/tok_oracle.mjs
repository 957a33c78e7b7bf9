// tests/js/tok_oracle.mjs - the reference tokenizers llmos is compared with,
// as one command-line tool. Input: JSONL, one JSON string per line (stdin).
// Output: JSONL, one JSON array of token ids per line.
//
//   node tests/js/tok_oracle.mjs tiktoken            js-tiktoken getEncoding("gpt2")
//   node tests/js/tok_oracle.mjs tiktoken-wasm       npm tiktoken (WASM) get_encoding("gpt2")
//   node tests/js/tok_oracle.mjs llama-js            llama-tokenizer-js (Llama 2; no BOS,
//                                                    with the leading space)
//   node tests/js/tok_oracle.mjs llamacpp MODEL [--special]
//                                                    llama.cpp through node-llama-cpp, the
//                                                    model loaded vocabulary-only
//   node tests/js/tok_oracle.mjs llamacpp MODEL --pieces
//                                                    input: JSON arrays of ids; output: their
//                                                    text, one JSON string per line (special
//                                                    tokens shown)
//   node tests/js/tok_oracle.mjs bench FILE [SECONDS] encoding speed of js-tiktoken and
//                                                    tiktoken WASM on the text of FILE (best
//                                                    run; wall clock and per CPU second):
//                                                    prints {"js-tiktoken": {mb_per_s, ...}}
// Special-token text is tokenized as ordinary text by the tiktoken encoders.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../oracle/package.json"));
process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";

async function readCases() {
    const out = [];
    const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of rl) if (line.length) out.push(JSON.parse(line));
    return out;
}

function writeIds(all) {
    const chunks = all.map((ids) => JSON.stringify(Array.from(ids)));
    fs.writeSync(1, chunks.join("\n") + (chunks.length ? "\n" : ""));
}

async function jsTiktoken() {
    const { getEncoding } = await import(require.resolve("js-tiktoken"));
    const enc = getEncoding("gpt2");
    return (s) => enc.encode(s, [], []);
}

async function wasmTiktoken() {
    const { get_encoding } = require("tiktoken");
    const enc = get_encoding("gpt2");
    return (s) => enc.encode(s, [], []);
}

const [cmd, arg, ...rest] = process.argv.slice(2);
if (cmd === "tiktoken" || cmd === "tiktoken-wasm") {
    const enc = cmd === "tiktoken" ? await jsTiktoken() : await wasmTiktoken();
    writeIds((await readCases()).map(enc));
} else if (cmd === "llama-js") {
    const mod = await import(require.resolve("llama-tokenizer-js"));
    const tok = mod.default;
    writeIds((await readCases()).map((s) => (s.length ? tok.encode(s, false, true, false) : [])));
} else if (cmd === "llamacpp") {
    const { getLlama, LlamaLogLevel } = await import(require.resolve("node-llama-cpp"));
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    let model;
    try {
        model = await llama.loadModel({ modelPath: arg, vocabOnly: true });
    } catch (e) {
        process.stderr.write(`tok_oracle.mjs: llama.cpp cannot load '${arg}': ${e.message}\n`);
        process.exit(1);
    }
    const special = rest.includes("--special");
    if (rest.includes("--pieces")) {
        // each input line is an array of ids: their text, special tokens shown
        const out = (await readCases()).map((ids) => JSON.stringify(model.detokenize(ids, true)));
        fs.writeSync(1, out.join("\n") + "\n");
    } else writeIds((await readCases()).map((s) => model.tokenize(s, special)));
    await model.dispose();
    await llama.dispose();
} else if (cmd === "bench") {
    const text = fs.readFileSync(arg, "utf8");
    const secs = Number(rest[0] || 3);
    const mb = Buffer.byteLength(text) / 1e6;
    const res = { bytes: Buffer.byteLength(text) };
    for (const [name, mk] of [["js-tiktoken", jsTiktoken], ["tiktoken-wasm", wasmTiktoken]]) {
        const enc = await mk();
        enc(text.slice(0, 100000)); // warm up
        let best = Infinity, bestCpu = Infinity, runs = 0, tokens = 0;
        const t0 = performance.now();
        while (performance.now() - t0 < secs * 1000 || runs < 1) {
            const t = performance.now(), c = process.cpuUsage();
            tokens = enc(text).length;
            const cu = process.cpuUsage(c);
            best = Math.min(best, (performance.now() - t) / 1000);
            bestCpu = Math.min(bestCpu, (cu.user + cu.system) / 1e6);
            runs++;
        }
        res[name] = { mb_per_s: +(mb / best).toFixed(2), mb_per_cpu_s: +(mb / bestCpu).toFixed(2), tokens, runs };
    }
    console.log(JSON.stringify(res));
} else {
    process.stderr.write("usage: tok_oracle.mjs tiktoken|tiktoken-wasm|llama-js|llamacpp MODEL [--special]|bench FILE\n");
    process.exit(2);
}
