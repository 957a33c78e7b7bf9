// tests/js/chat_template.mjs - renders conversations with the chat template a
// GGUF stores (tokenizer.chat_template, as llama.cpp's GGUF reader returns
// it), through two independent Jinja paths, and tokenizes with llama.cpp.
//
//   node tests/js/chat_template.mjs MODEL < conversations.jsonl
//
// stdin: one {"messages": [...]} per line. Prints one JSON line per
// conversation and per add_generation_prompt (false, then true):
//   {"template_found": true, "text": T, "ids": [...], "wrapper_ids": [...]}
// text   @huggingface/jinja (the engine node-llama-cpp uses) rendering the
//        stored template, with add_generation_prompt;
// ids    llama.cpp tokenizing that text with special-token parsing (and BOS
//        when the vocabulary asks for it), as its server does;
// wrapper_ids  node-llama-cpp's JinjaTemplateChatWrapper (what it resolves
//        for an unknown template) rendering the chat history, tokenized by
//        llama.cpp (only for histories that end with a user message and
//        add_generation_prompt true and no tool message, the case a chat
//        front end evaluates).
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../oracle/package.json"));
process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";
const nlc = await import(require.resolve("node-llama-cpp"));
const { Template } = await import(require.resolve("@huggingface/jinja"));
const { getLlama, LlamaLogLevel, JinjaTemplateChatWrapper, LlamaText, SpecialToken } = nlc;

const modelPath = process.argv[2];
if (!modelPath) {
    process.stderr.write("usage: chat_template.mjs MODEL < conversations.jsonl\n");
    process.exit(2);
}
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const convs = Buffer.concat(chunks).toString("utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath, vocabOnly: true });
const tmplText = model.fileInfo.metadata?.tokenizer?.chat_template;
if (typeof tmplText !== "string") {
    process.stdout.write(JSON.stringify({ template_found: false }) + "\n");
    process.exit(0);
}
const tmpl = new Template(tmplText);
const addBos = model.fileInfo.metadata?.tokenizer?.ggml?.add_bos_token !== false;
const bosText = model.tokens.bosString ?? "";
const wrapper = new JinjaTemplateChatWrapper({ template: tmplText });

for (const c of convs) {
    for (const gen of [false, true]) {
        const text = tmpl.render({ messages: c.messages, add_generation_prompt: gen,
                                   bos_token: bosText, eos_token: model.tokens.eosString ?? "" });
        let ids = Array.from(model.tokenize(text, true));
        if (addBos && model.tokens.bos != null) ids = [model.tokens.bos, ...ids];
        const out = { template_found: true, template: tmplText, text, ids };
        const last = c.messages[c.messages.length - 1];
        if (gen && last.role === "user" && c.messages.every((m) => m.role !== "tool")) {
            const chatHistory = c.messages.map((m) =>
                m.role === "assistant" ? { type: "model", response: [m.content] }
                    : { type: m.role, text: m.content });
            chatHistory.push({ type: "model", response: [] });
            const st = wrapper.generateContextState({ chatHistory });
            let w = Array.from(st.contextText.tokenize(model.tokenizer));
            if (addBos && model.tokens.bos != null && w[0] !== model.tokens.bos) w = [model.tokens.bos, ...w];
            out.wrapper_ids = w;
        }
        process.stdout.write(JSON.stringify(out) + "\n");
    }
}
