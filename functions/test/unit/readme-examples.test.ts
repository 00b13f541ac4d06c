import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signatureHeaders, type SignatureScheme } from "../../src/domain/signature-schemes";
import { generateSecret } from "../../src/domain/signing";

// The README's receiver examples, run as they are written against signatures the pipeline makes.
const readme = readFileSync(join(__dirname, "..", "..", "..", "README.md"), "utf8");
const dir = mkdtempSync(join(tmpdir(), "readme-examples-"));

function example(name: string): string {
  const match = new RegExp(`<!-- tested: ${name} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match) throw new Error(`README has no example marked "tested: ${name}"`);
  return match[1] as string;
}

const body = JSON.stringify({ id: "evt_1", event: "process.crashed", data: { machineName: "Gallery PC 1 ✓" } });
const now = Math.floor(Date.now() / 1000);
const sign = (scheme: SignatureScheme, secret: string, at = now) =>
  signatureHeaders(scheme, { body, messageId: "evt_1", timestampSeconds: at, secrets: [secret] });

/** Runs `code` + `call` with node or python3, handing it the cases on stdin; returns its printed verdicts. */
function run(lang: "node" | "python3", code: string, call: string, cases: { body: string; header: string; secret: string }[]): boolean[] {
  const file = join(dir, lang === "node" ? "example.js" : "example.py");
  const harness =
    lang === "node"
      ? `\nconst cases = JSON.parse(require("fs").readFileSync(0, "utf8"));\nfor (const c of cases) console.log(${call} ? "true" : "false");\n`
      : `\nimport json, sys\nfor c in json.load(sys.stdin):\n    print("true" if ${call} else "false")\n`;
  writeFileSync(file, code + harness);
  const result = spawnSync(lang, [file], { input: JSON.stringify(cases), encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${lang} example failed: ${result.stderr || result.error}`);
  return result.stdout
    .trim()
    .split("\n")
    .map((l) => l === "true");
}

describe("README receiver examples", () => {
  const secret = generateSecret();
  const other = generateSecret();

  it("Node, owlette scheme", () => {
    const header = sign("owlette", secret)["X-Owlette-Signature"] as string;
    const verdicts = run("node", example("node-owlette"), "verifyWebhook(Buffer.from(c.body), c.header, c.secret)", [
      { body, header, secret },
      { body: `${body} `, header, secret },
      { body, header, secret: other },
      { body, header: header.slice(2), secret },
    ]);
    expect(verdicts).toEqual([true, false, false, false]);
  });

  it("Python, owlette and sha256 schemes", () => {
    const hex = sign("owlette", secret)["X-Owlette-Signature"] as string;
    const sha = sign("sha256", secret)["X-Owlette-Signature"] as string;
    const verdicts = run("python3", example("python-owlette"), 'verify_owlette(c["body"].encode(), c["header"], c["secret"])', [
      { body, header: hex, secret },
      { body, header: sha, secret },
      { body: `${body} `, header: sha, secret },
      { body, header: hex, secret: other },
    ]);
    expect(verdicts).toEqual([true, true, false, false]);
  });

  it("Python, timestamped scheme, with its replay window", () => {
    const fresh = sign("timestamped", secret)["Owlette-Signature"] as string;
    const stale = sign("timestamped", secret, now - 600)["Owlette-Signature"] as string;
    const verdicts = run("python3", example("python-timestamped"), 'verify(c["body"].encode(), c["header"], c["secret"])', [
      { body, header: fresh, secret },
      { body, header: stale, secret },
      { body: `${body} `, header: fresh, secret },
      { body, header: fresh, secret: other },
    ]);
    expect(verdicts).toEqual([true, false, false, false]);
  });
});
