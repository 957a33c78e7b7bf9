// tests/js/label_web.mjs - drives the page of `llmos label --web` in Debian's
// Chromium (through npm playwright-core) the way a labeler would, for
// tests/t_label_web.sh:
//
//   node tests/js/label_web.mjs URL OUT_DIR
//
// With K=3 and four prompts it: checks that the guideline is shown as text
// (its Markdown as headings and bold, its markup-looking lines literally,
// never run); presses Save with nothing chosen and expects the server's
// error; ranks the first prompt's answers C, A, B by clicking rank buttons;
// writes an ideal answer for the second and picks B over A (typing "b>a" in
// the ranking field, as the terminal reads it); flags the third
// as spam; clicks ranks on the fourth, then Skip; and expects the "all
// judged" screen. OUT_DIR gets shown.json
// (the prompt and candidates as the page displayed them, per task) and
// page.png (a screenshot of the first task). Exit 1 with a message on any
// mismatch.
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../oracle/package.json"));
const { chromium } = require("playwright-core");

const [url, outDir] = process.argv.slice(2);
if (!url || !outDir) {
    process.stderr.write("usage: label_web.mjs URL OUT_DIR\n");
    process.exit(2);
}
function check(ok, what) {
    if (!ok) throw new Error("check failed: " + what);
}

const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu"],
});
const problems = [];
try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(30000);
    page.on("pageerror", (e) => problems.push("page error: " + e.message));
    page.on("console", (m) => {
        // the 400 answer to the empty Save is expected; anything else is not
        if (m.type() === "error" && !/status of 400/.test(m.text())) problems.push("console: " + m.text());
    });
    await page.goto(url);

    // the guideline, beside the task
    await page.getByText("Prefer correct answers", { exact: false }).waitFor();
    check((await page.textContent("#guide h3")) === "Test guideline", "the guideline's heading");
    check((await page.textContent("#guide strong")) === "correct", "bold in the guideline");
    check((await page.$$("#guide li")).length === 2, "the guideline's list");
    const guide = await page.textContent("#guide");
    check(guide.includes("<script>window.pwned = 1</script>"), "markup in the guideline shown as text");
    check((await page.$$("#guide script, #guide img")).length === 0, "no element made from the guideline");
    check(await page.evaluate(() => window.pwned === undefined), "no script from the guideline ran");

    const shown = [];
    async function readTask(pos) {
        await page.waitForFunction((p) => document.getElementById("progress").textContent.startsWith("prompt " + p + " of 4"), pos);
        await page.waitForSelector("#cand-2");
        const t = {
            prompt: await page.$$eval("#prompt .msg", (es) => es.map((e) => ({
                role: e.querySelector(".role").textContent, content: e.querySelector(".text").textContent }))),
            candidates: await page.$$eval("#cands .cand .text", (es) => es.map((e) => e.textContent)),
            progress: await page.textContent("#progress"),
        };
        check(t.candidates.length === 3, "three candidates on prompt " + pos);
        shown.push(t);
        return t;
    }
    const rank = (letter, r) => page.getByRole("button", { name: "answer " + letter + " rank " + r, exact: true }).click();
    const pressed = (letter, r) => page.getByRole("button", { name: "answer " + letter + " rank " + r, exact: true })
        .getAttribute("aria-pressed");

    // prompt 1: Save with nothing chosen is refused; then rank C, A, B
    let t = await readTask(1);
    check(t.progress.includes("judged 0 of 4"), "progress at the start: " + t.progress);
    await page.click("#save");
    await page.waitForSelector("#status.error");
    check((await page.textContent("#status")).includes("nothing to save"), "the server's refusal is shown");
    await rank("C", 1);
    await rank("A", 2);
    await rank("B", 3);
    await rank("B", 1); // changed mind...
    await rank("B", 3); // ...and back
    check((await pressed("C", 1)) === "true" && (await pressed("B", 1)) === "false", "rank buttons show the choice");
    await page.screenshot({ path: path.join(outDir, "page.png"), fullPage: true });
    await page.click("#save");

    // prompt 2: an ideal answer and the better of two (B over A)
    t = await readTask(2);
    check(t.progress.includes("judged 1 of 4 (1 this session)"), "progress after one: " + t.progress);
    // this time typed, as the guideline says: "zz" is refused, "b>a" + Enter saves
    await page.fill("#ideal", "It means a striped horse.");
    await page.fill("#ranking", "zz");
    check(await page.evaluate(() => document.getElementById("ranking").classList.contains("bad")), "'zz' marked bad");
    await page.fill("#ranking", "b>a");
    check((await pressed("B", 1)) === "true" && (await pressed("A", 2)) === "true", "the typed ranking shows");
    await page.press("#ranking", "Enter");

    // prompt 3: spam
    t = await readTask(3);
    await page.check("#flag-spam");
    await page.click("#save");

    // prompt 4: ranks clicked, then Skip (the ranks are not kept)
    t = await readTask(4);
    await rank("A", 1);
    await rank("C", 2);
    await page.click("#skip");

    await page.waitForSelector("#finished:not([hidden])");
    const fin = await page.textContent("#finished-text");
    check(fin.includes("Judged 4 of 4 prompts (4 this session)"), "the end screen: " + fin);
    writeFileSync(path.join(outDir, "shown.json"), JSON.stringify(shown));
} finally {
    await browser.close();
}
if (problems.length) {
    console.error(problems.join("\n"));
    process.exit(1);
}
console.log("browser ok: 4 prompts judged through the page");
