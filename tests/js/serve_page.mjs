// tests/js/serve_page.mjs - drives the chat page of `llmos serve` in Debian's
// Chromium (through npm playwright-core), for tests/t_serve_page.sh:
//
//   node tests/js/serve_page.mjs URL OUT_DIR
//
// Types a message and sees the reply's text take three lengths or more
// while Stop is enabled (tokens streaming in); presses Stop and checks that
// the page is ready again and that the server's /metrics shows no sequence
// left in a slot; reloads and finds the conversation in the list with its
// messages. (The tiny random model may end a reply after a few tokens:
// the page's request goes to the server with a logit_bias, added through
// playwright's routing, that bans the template's special tokens, so that
// the reply runs until Stop.) Then a reply whose text is an XSS payload
// (served for one request through the routing, so that the page's own
// streaming and rendering path shows it) must appear as text, with
// Markdown bold and code as elements, nothing executed, and the request
// must carry the system prompt typed. OUT_DIR gets page.png. Exit 1 with a
// message on any mismatch.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../oracle/package.json"));
const { chromium } = require("playwright-core");

const [url, outDir] = process.argv.slice(2);
function fail(msg) {
    process.stderr.write("FAIL: " + msg + "\n");
    process.exit(1);
}
async function metric(name) {
    const t = await (await fetch(url + "metrics")).text();
    const line = t.split("\n").find(l => l.startsWith(name + " "));
    return Number(line.split(" ")[1]);
}
const specials = await (await fetch(url + "tokenize", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ content: "<|end_of_turn|><|system|><|user|><|assistant|><|tool|>" }) })).json();
if (specials.tokens.length !== 5) fail("the special tokens: " + JSON.stringify(specials));
const ban = Object.fromEntries(specials.tokens.map(id => [String(id), -100]));

const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu"],
});
try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const errors = [];
    page.on("pageerror", e => errors.push(String(e)));
    await page.route("**/v1/chat/completions", route => {
        const body = JSON.parse(route.request().postData());
        route.continue({ postData: JSON.stringify({ ...body, logit_bias: ban }) });
    });
    await page.goto(url);
    await page.waitForFunction(() => /context 0 \/ \d+/.test(document.getElementById("meter").textContent));
    await page.fill("#temp", "0");
    await page.fill("#input", "What does zebra mean?");
    // every length the reply's text takes, as the page changes it
    await page.evaluate(() => {
        window.lengths = [];
        new MutationObserver(() => {
            const a = document.querySelector(".assistant");
            if (a) window.lengths.push(a.textContent.length);
        }).observe(document.getElementById("log"), { childList: true, subtree: true, characterData: true });
    });
    await page.click("#send");
    await page.waitForFunction(() => new Set(window.lengths.filter(x => x > 0)).size >= 3, null, { polling: 50 });
    // checked and pressed in one step: the tiny model fills its context in seconds
    const pressed = await page.evaluate(() => {
        const b = document.getElementById("stop");
        if (b.disabled) return false;
        b.click();
        return true;
    });
    if (!pressed) fail("the reply ended before Stop could be pressed");
    await page.waitForFunction(() => document.getElementById("stop").disabled && !document.getElementById("send").disabled,
                               null, { polling: 100 });
    let busy = 1;
    for (let k = 0; k < 100 && busy; k++) {
        busy = await metric("llmos_requests_processing");
        if (busy) await new Promise(r => setTimeout(r, 50));
    }
    if (busy) fail("the stopped reply still holds a slot");
    const shown = await page.textContent(".assistant");
    if (!shown.length) fail("nothing of the stopped reply is shown");
    const n_ctx = (await (await fetch(url + "v1/models")).json()).data[0].meta.n_ctx;
    if (n_ctx < 16384) fail("the test needs a model with a long context");

    // reload: the conversation is still there
    await page.reload();
    await page.waitForSelector("#convs div");
    const titles = await page.$$eval("#convs div", ds => ds.map(d => d.textContent));
    if (!titles.includes("What does zebra mean?")) fail("the conversation is not in the list: " + titles);
    if ((await page.textContent(".user")) !== "What does zebra mean?") fail("the user message is not shown after reload");
    const again = await page.textContent(".assistant");
    if (again !== shown) fail(`the stopped reply changed after reload: ${JSON.stringify(again)} vs ${JSON.stringify(shown)}`);

    // an XSS payload as the reply: shown as text, never run
    const payload = "Hi **bold** and `code` <img src=x onerror=\"window.pwned=1\"><script>window.pwned=2</script>";
    let sentBody = null;
    await page.unroute("**/v1/chat/completions");
    await page.route("**/v1/chat/completions", async route => {
        sentBody = JSON.parse(route.request().postData());
        const ev = o => "data: " + JSON.stringify(o) + "\n\n";
        const head = { id: "x", object: "chat.completion.chunk", created: 0, model: "m" };
        const body = ev({ ...head, choices: [{ index: 0, delta: { role: "assistant", content: "" } }] }) +
            ev({ ...head, choices: [{ index: 0, delta: { content: payload.slice(0, 30) } }] }) +
            ev({ ...head, choices: [{ index: 0, delta: { content: payload.slice(30) } }] }) +
            ev({ ...head, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }) + "data: [DONE]\n\n";
        await route.fulfill({ status: 200, contentType: "text/event-stream", body });
    });
    await page.click("#new");
    await page.fill("#system", "Be brief.");
    await page.fill("#input", "say it");
    await page.click("#send");
    await page.waitForFunction(() => document.querySelector(".assistant")?.textContent.includes("window.pwned=2"));
    await page.waitForTimeout(300);
    if (!sentBody || sentBody.messages[0].role !== "system" || sentBody.messages[0].content !== "Be brief." ||
        sentBody.stream !== true)
        fail("the page's request: " + JSON.stringify(sentBody));
    if (await page.evaluate(() => window.pwned)) fail("the payload ran");
    const box = await page.$(".assistant");
    if (await box.$("img") || await box.$("script")) fail("the payload became elements");
    if ((await box.$eval("strong", e => e.textContent)) !== "bold") fail("**bold** is not bold");
    if ((await box.$eval("code", e => e.textContent)) !== "code") fail("`code` is not code");
    const text = await box.textContent();
    if (!text.includes("<img src=x onerror=\"window.pwned=1\"><script>window.pwned=2</script>"))
        fail("the payload is not shown as text: " + text);
    await page.screenshot({ path: path.join(outDir, "page.png") });
    if (errors.length) fail("page errors: " + errors.join("; "));
} finally {
    await browser.close();
}
process.stdout.write("serve_page.mjs: all checks passed\n");
