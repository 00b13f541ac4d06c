import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EMBED_PATH, isEmbedPath } from "../../../console/src/model";

// The console's response headers (firebase.json, Hosting). Rules whose patterns overlap would
// leave the result to the order Hosting applies them in, which its docs do not state: the
// Content-Security-Policy comes from exactly one rule on every path, so no order matters.
// (The browser test checks the same paths against the Hosting emulator's own matching.)

interface HeaderRule {
  source?: string;
  regex?: string;
  headers: { key: string; value: string }[];
}
const rules: HeaderRule[] = JSON.parse(readFileSync(join(__dirname, "../../../firebase.json"), "utf8")).hosting.headers;

/** The rule patterns firebase.json uses: `**`, an exact path, or an anchored RE2-compatible regex. */
function matches(rule: HeaderRule, path: string): boolean {
  if (rule.regex !== undefined) return new RegExp(rule.regex, "u").test(path);
  if (rule.source === "**") return true;
  if (rule.source && !/[*?{[!]/.test(rule.source)) return rule.source === path;
  throw new Error(`firebase.json: a header pattern this test cannot evaluate: ${rule.source}`);
}

function headersFor(path: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const rule of rules.filter((r) => matches(r, path))) for (const h of rule.headers) (out[h.key.toLowerCase()] ??= []).push(h.value);
  return out;
}

const frameAncestors = (csp: string) => /(?:^|;)\s*frame-ancestors ([^;]*)/.exec(csp)?.[1]?.trim().split(/\s+/) ?? [];

const APP_PATHS = [
  "/",
  "/index.html",
  "/sites/x",
  "/anything",
  "/x/embed",
  "/embed/",
  "/embed/x",
  "/embedded",
  "/emb",
  "/e",
  "/assets/index.js",
  "/__/firebase/init.js",
];

describe("console headers (firebase.json)", () => {
  it.each(APP_PATHS)("%s: one CSP, framable by the console's own origin only", (path) => {
    const h = headersFor(path);
    expect(h["content-security-policy"]).toHaveLength(1);
    const csp = h["content-security-policy"]![0]!;
    expect(csp).toContain("script-src 'self'");
    expect(frameAncestors(csp)).toEqual(["'self'"]);
    expect(h["x-frame-options"]).toEqual(["SAMEORIGIN"]);
    expect(h["x-content-type-options"]).toEqual(["nosniff"]);
    expect(isEmbedPath(path)).toBe(false);
  });

  it("/embed: one CSP whose frame-ancestors are 'self' and the https origins the operator lists", () => {
    const h = headersFor(EMBED_PATH);
    expect(h["content-security-policy"]).toHaveLength(1);
    const ancestors = frameAncestors(h["content-security-policy"]![0]!);
    expect(ancestors[0]).toBe("'self'");
    for (const origin of ancestors.slice(1)) expect(origin).toMatch(/^https:\/\/[a-z0-9.-]+(:\d+)?$/);
    // X-Frame-Options cannot name origins: it would refuse every framing page.
    expect(h["x-frame-options"]).toBeUndefined();
    expect(isEmbedPath(EMBED_PATH)).toBe(true);
  });
});
