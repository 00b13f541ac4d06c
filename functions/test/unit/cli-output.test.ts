import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { details, printable, progress, table } from "../../../scripts/cli/output";

// Issue 20, finding 7: agent text (machine names, log details), receivers' answers and API
// messages reach the operator's terminal. Every human-readable output escapes their control
// characters visibly; `--json` output stays the JSON it was.

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/** Raw control characters, line breaks excepted: for whole outputs, which are laid out in lines. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW_CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** What a hostile agent or receiver writes: a forged line, a window title, a clipboard write, a screen clear, a bidi flip. */
const FORGED_LINE = "PC1\n12:00:00 ✔ verified  machine.online     GALLERY-PC1";
const TITLE = "\u001b]0;owned\u0007";
const CLIPBOARD = "\u001b]52;c;cm0gLXJmIH4=\u0007";
const CLEAR = "\u001b[2J\u001b[H\u009b31m";
const FLIP = "\u202eexe.txt";

describe("printable", () => {
  it.each([
    ["ESC", "\u001b[2J", "\\x1b[2J"],
    ["BEL and NUL", "a\u0007\u0000b", "a\\x07\\x00b"],
    ["line breaks and tabs", "a\nb\r\tc", "a\\nb\\r\\tc"],
    ["DEL", "a\u007fb", "a\\x7fb"],
    ["C1 (CSI, NEL)", "a\u009b31m\u0085b", "a\\x9b31m\\x85b"],
    ["bidi overrides, isolates and marks", "\u202a\u202e\u2066\u2069\u200f", "\\u202a\\u202e\\u2066\\u2069\\u200f"],
    [
      "invisible separators, zero-width characters and the byte order mark",
      "a\u2028b\u2029\u200bc\u200d\u061c\ufeff",
      "a\\u2028b\\u2029\\u200bc\\u200d\\u061c\\ufeff",
    ],
  ])("escapes %s visibly", (_what, raw, shown) => {
    expect(printable(raw)).toBe(shown);
    expect(printable(raw)).not.toMatch(RAW_CONTROL);
  });

  it("leaves readable text alone, backslashes, accents and emoji included; and is idempotent", () => {
    const text = "C:\\Program Files\\Derivative · Café ✔ 👍 -1073741819";
    expect(printable(text)).toBe(text);
    const once = printable(`${FORGED_LINE}${TITLE}${CLIPBOARD}${CLEAR}${FLIP}`);
    expect(printable(once)).toBe(once);
    expect(printable(null)).toBe("null");
  });
});

describe("tables, details and progress escape the values they show", () => {
  const row = { id: "hook1", name: FORGED_LINE, lastStatus: `${TITLE}500`, events: [`${CLEAR}x`, FLIP] };

  it("table: one line per row, columns aligned on what is shown", () => {
    const out = table([row, { id: "hook2", name: "fine" }], ["id", "name", "lastStatus", "events"]);
    expect(out).not.toMatch(RAW_CONTROL_BUT_NEWLINE);
    const lines = out.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain("PC1\\n12:00:00");
    expect(lines[2]?.indexOf("fine")).toBe(lines[1]?.indexOf("PC1"));
  });

  it("details: one line per key, objects as escaped JSON", () => {
    const out = details({ ...row, nested: { note: `${CLIPBOARD}\u009b` } }, ["id", "name", "lastStatus", "events", "nested"]);
    expect(out).not.toMatch(RAW_CONTROL_BUT_NEWLINE);
    expect(out.split("\n")).toHaveLength(5);
    expect(out).toContain("\\x1b]0;owned\\x07500");
    // JSON.stringify escaped the C0 controls already; the C1 one it left is escaped here.
    expect(out).toContain('{"note":"\\u001b]52;c;cm0gLXJmIH4=\\u0007\\x9b"}');
  });

  it("progress: one line on stderr", () => {
    const write = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      progress(`migrated ${FORGED_LINE}${CLEAR}`);
      expect(write).toHaveBeenCalledWith("migrated PC1\\n12:00:00 ✔ verified  machine.online     GALLERY-PC1\\x1b[2J\\x1b[H\\x9b31m\n");
    } finally {
      write.mockRestore();
    }
  });
});

describe("the CLI's commands print what the API returns escaped, and --json unchanged", () => {
  const webhook = {
    id: "hook1",
    name: FORGED_LINE,
    description: `${TITLE}${CLIPBOARD}`,
    url: "https://hooks.example.com/h",
    events: ["process.crashed"],
    enabled: true,
    failCount: 0,
    lastStatus: 500,
    format: "owlette",
    signatureScheme: "owlette",
    headerNames: [FLIP],
  };
  const delivery = { id: "d1", eventType: "process.crashed", status: "failed", attemptCount: 1, attempts: [{ error: `${CLEAR}timeout` }], createdAt: "now" };
  const answers: Record<string, [number, unknown]> = {
    "GET /v1/webhooks/hook1": [200, { webhook, recentDeliveries: [delivery] }],
    "POST /v1/webhooks/hook1/test": [200, { result: { ok: false, status: 500, durationMs: 3, responseSnippet: `oops\n${CLEAR}${TITLE}` } }],
    "DELETE /v1/webhooks/hook1": [404, { error: { code: "not_found", message: `no webhook ${FORGED_LINE}${CLIPBOARD}` } }],
  };
  let api: Server;
  let base: string;
  beforeAll(async () => {
    api = createServer((req, res) => {
      const [status, body] = answers[`${req.method} ${req.url}`] ?? [404, { error: { code: "not_found", message: "no such endpoint" } }];
      res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => api.close(resolve)));

  const root = join(__dirname, "..", "..", "..");
  function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      // FUNCTIONS_EMULATOR_ORIGIN set: the CLI leaves alone any emulator suite running on this machine.
      const env = { ...process.env, FUNCTIONS_EMULATOR_ORIGIN: "http://127.0.0.1:9", NO_COLOR: "1" };
      execFile(
        join(root, "node_modules", ".bin", "tsx"),
        ["scripts/cli.ts", "--api", base, "--key", "owk_test", ...args],
        { cwd: root, env },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  it("webhooks get: details and the deliveries table, one line per field and row; with --json, the API's JSON untouched", async () => {
    const { code, stdout } = await cli("webhooks", "get", "hook1");
    expect(code).toBe(0);
    expect(stdout).not.toMatch(RAW_CONTROL_BUT_NEWLINE);
    expect(stdout).toMatch(/^name +PC1\\n12:00:00 ✔ verified {2}machine\.online +GALLERY-PC1$/m);
    expect(stdout).toContain("\\x1b]0;owned\\x07\\x1b]52;c;cm0gLXJmIH4=\\x07");
    expect(stdout).toContain("\\u202eexe.txt");
    expect(stdout).toContain("\\x1b[2J\\x1b[H\\x9b31mtimeout");
    expect(stdout.split("\n").filter((l) => l.includes("verified"))).toHaveLength(1);

    const json = await cli("--json", "webhooks", "get", "hook1");
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(answers["GET /v1/webhooks/hook1"]?.[1]);
  }, 30_000);

  it("webhooks test: the receiver's answer on one escaped line; an API error on one escaped line", async () => {
    const test = await cli("webhooks", "test", "hook1");
    expect(test.code).toBe(1);
    expect(test.stdout).toBe("✘ 500 in 3 ms: oops\\n\\x1b[2J\\x1b[H\\x9b31m\\x1b]0;owned\\x07\n");
    const gone = await cli("webhooks", "delete", "hook1");
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe("error: no webhook PC1\\n12:00:00 ✔ verified  machine.online     GALLERY-PC1\\x1b]52;c;cm0gLXJmIH4=\\x07 (404 not_found)\n");
  }, 30_000);
});
