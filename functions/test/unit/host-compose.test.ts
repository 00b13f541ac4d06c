import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compose, CODEBASE } from "../../../scripts/host/compose";
import { parseIndexFile } from "../../../scripts/host/indexes";
import { ComposeInputError, parseRuleset, patternMatches } from "../../../scripts/host/rules-text";
import { runCompose } from "../../../scripts/host-compose";

const root = join(__dirname, "..", "..", "..");
const fixtures = join(__dirname, "..", "fixtures", "host");
const text = (p: string) => readFileSync(p, "utf8");
const file = (p: string) => ({ text: text(p), file: p });

function composeWith(hostRules: string, hostIndexes = text(join(fixtures, "firestore.indexes.json"))) {
  return compose({
    hostRules: { text: hostRules, file: "host.rules" },
    hostIndexes: { text: hostIndexes, file: "host.indexes.json" },
    pipelineRules: file(join(root, "firestore.host.rules")),
    pipelineIndexes: file(join(root, "firestore.indexes.json")),
    functionsSource: "../functions",
  });
}

const hostRules = text(join(fixtures, "firestore.rules"));

describe("host:compose rules", () => {
  const result = composeWith(hostRules);
  const composed = result.files["firestore.rules"];

  it("keeps every line of the host's ruleset, in order, and adds the pipeline's inside its documents block", () => {
    const lines = composed.split("\n");
    let at = 0;
    for (const line of hostRules.split("\n")) {
      const found = lines.indexOf(line, at);
      expect({ line, found: found >= 0 }).toEqual({ line, found: true });
      at = found + 1;
    }
    const parsed = parseRuleset(composed, "composed");
    const added = parsed.documents.children.find((b) => b.pattern === "/sites/{pipelineSiteId}");
    expect(added?.children.map((c) => c.pattern)).toEqual(["/webhooks/{pipelineWebhookId}"]);
    expect(added?.children[0]?.children.map((c) => c.pattern)).toEqual(["/deliveries/{pipelineDeliveryId}"]);
    // The host's blocks are all still there.
    const hostBlocks = parseRuleset(hostRules, "host").documents.children.map((b) => b.pattern);
    expect(parsed.documents.children.map((b) => b.pattern)).toEqual([...hostBlocks, "/sites/{pipelineSiteId}"]);
  });

  it("reports what the host's rules let clients do on the paths the pipeline guards, with the host's lines", () => {
    const ids = result.conflicts.map((c) => c.guard.id).sort();
    expect(ids).toEqual(["logs-agent-create", "machine-doc-agent-fields", "webhook-docs-writable"]);
    const machine = result.conflicts.find((c) => c.guard.id === "machine-doc-agent-fields")!;
    const permissive = hostRules.split("\n").findIndex((l) => l.includes("allow write: if trustedServer() || agentFor(siteId, machineId);")) + 1;
    expect(machine.rules.map((r) => r.line)).toContain(permissive);
    expect(result.files["conflicts.txt"]).toContain(`host.rules:${permissive}  match /sites/{siteId}/machines/{machineId}  allow create, update`);
    expect(result.files["conflicts.txt"]).toMatch(/machines of other agents and other sites are untouched/);
    expect(result.blocking).toEqual([]);
    // `if false` and read-only rules are no conflict: api_keys is closed, webhooks are readable.
    expect(result.files["conflicts.txt"]).not.toContain("api_keys");
  });

  it("a host rule that opens a server-only path is blocking: nothing is written without --accept-blocking", () => {
    const open = hostRules.replace(
      "    match /installer_metadata/{document=**} {",
      "    match /sites/{siteId}/{rest=**} {\n      allow read: if request.auth != null;\n    }\n\n    match /installer_metadata/{document=**} {",
    );
    const blocked = composeWith(open);
    expect(blocked.blocking.map((c) => c.guard.id)).toEqual(expect.arrayContaining(["signing-secrets", "server-only-events", "server-only-occurrences"]));
    const dir = mkdtempSync(join(tmpdir(), "compose-"));
    const rulesFile = join(dir, "open.rules");
    writeFileSync(rulesFile, open);
    const out = join(dir, "out");
    const run = runCompose({ rules: rulesFile, indexes: join(fixtures, "firestore.indexes.json"), out });
    expect(run.exitCode).toBe(3);
    expect(run.message).toMatch(/signing secret/);
    expect(existsSync(out)).toBe(false);
    expect(runCompose({ rules: rulesFile, indexes: join(fixtures, "firestore.indexes.json"), out, acceptBlocking: true }).exitCode).toBe(0);
    expect(existsSync(join(out, "firestore.rules"))).toBe(true);
  });

  it("refuses to compose a ruleset that already holds the pipeline's rules", () => {
    expect(() => composeWith(composed)).toThrow(/already holds the pipeline's rules/);
  });
});

describe("host:compose bad input: a clear error with the line, nothing written", () => {
  const cases: [string, string, RegExp][] = [
    ["a JSON file", '{\n  "indexes": []\n}\n', /^host\.rules:1: not a Firestore ruleset: no `service cloud\.firestore \{` block$/],
    [
      "another service",
      "rules_version = '2';\nservice firebase.storage {\n  match /b/{bucket}/o {\n  }\n}\n",
      /^host\.rules:2: not a Firestore ruleset: `service firebase\.storage`/,
    ],
    [
      "no documents block",
      "rules_version = '2';\nservice cloud.firestore {\n  match /other/{x} {\n    allow read: if true;\n  }\n}\n",
      /^host\.rules:2: no `match \/databases\/\{database\}\/documents` block/,
    ],
    [
      "an unclosed match",
      "service cloud.firestore {\n  match /databases/{database}/documents {\n    match /a/{b} {\n      allow read: if true;\n  }\n",
      /^host\.rules:1: the service block is never closed/,
    ],
    [
      "a stray word",
      "service cloud.firestore {\n  match /databases/{database}/documents {\n    match /a/{b} {\n      alow read: if true;\n    }\n  }\n}\n",
      /^host\.rules:4: unexpected `alow`/,
    ],
    [
      "an unknown method",
      "service cloud.firestore {\n  match /databases/{database}/documents {\n    match /a/{b} {\n      allow reed: if true;\n    }\n  }\n}\n",
      /^host\.rules:4: unknown method `reed`/,
    ],
  ];
  it.each(cases)("rules: %s", (_name, rules, message) => {
    expect(() => composeWith(rules)).toThrow(ComposeInputError);
    expect(() => composeWith(rules)).toThrow(message);
  });

  it("braces and keywords inside comments and strings do not count", () => {
    const tricky = hostRules.replace("function authed() {", "// match /x { allow read: if true; }\n    function authed() {\n      let s = '}}';");
    expect(() => parseRuleset(tricky, "t")).not.toThrow();
  });

  it.each([
    ["invalid JSON", '{\n  "indexes": [\n    { "collectionGroup": "a", }\n  ]\n}\n', /^host\.indexes\.json:3: invalid JSON/],
    [
      "not an index file",
      '{\n  "indexes": [\n    { "collectionGroup": "a", "queryScope": "SOMETIMES", "fields": [] }\n  ]\n}\n',
      /^host\.indexes\.json:3: not a Firestore index file: indexes\.0\.queryScope/,
    ],
  ])("indexes: %s", (_name, json, message) => {
    expect(() => composeWith(hostRules, json)).toThrow(message);
  });

  it("the command writes nothing and exits 2 on bad input", () => {
    const dir = mkdtempSync(join(tmpdir(), "compose-"));
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ not json");
    const out = join(dir, "out");
    expect(() => runCompose({ rules: join(fixtures, "firestore.rules"), indexes: bad, out })).toThrow(/bad\.json:1: invalid JSON/);
    expect(() => runCompose({ rules: join(dir, "missing.rules"), indexes: bad, out })).toThrow(/missing\.rules:1: no such file/);
    expect(existsSync(out)).toBe(false);
  });
});

describe("host:compose indexes", () => {
  const host = parseIndexFile(text(join(fixtures, "firestore.indexes.json")), "host");
  const ours = parseIndexFile(text(join(root, "firestore.indexes.json")), "ours");

  it("keeps every index and field override of the host and adds the pipeline's", () => {
    const result = composeWith(hostRules);
    const out = JSON.parse(result.files["firestore.indexes.json"]);
    expect(out.indexes.slice(0, host.indexes.length)).toEqual(host.indexes);
    expect(out.indexes).toEqual(expect.arrayContaining(ours.indexes));
    expect(out.indexes).toHaveLength(host.indexes.length + ours.indexes.length);
    expect(out.fieldOverrides).toEqual(expect.arrayContaining([...host.fieldOverrides, ...ours.fieldOverrides]));
  });

  it("adds no duplicate of an index the host already has, and keeps the host's field override where they differ", () => {
    const shared = ours.indexes[1]!;
    const ttl = ours.fieldOverrides.find((o) => o.ttl)!;
    const hostFile = JSON.stringify({ indexes: [...host.indexes, shared], fieldOverrides: [{ ...ttl, ttl: false }] });
    const result = composeWith(hostRules, hostFile);
    const out = JSON.parse(result.files["firestore.indexes.json"]);
    expect(out.indexes.filter((i: unknown) => JSON.stringify(i) === JSON.stringify(shared))).toHaveLength(1);
    expect(
      out.fieldOverrides.filter(
        (o: { fieldPath: string; collectionGroup: string }) => o.collectionGroup === ttl.collectionGroup && o.fieldPath === ttl.fieldPath,
      ),
    ).toEqual([{ ...ttl, ttl: false }]);
    expect(result.files["conflicts.txt"]).toContain(`[warning] field override ${ttl.collectionGroup}/${ttl.fieldPath}: the host's is kept`);
  });
});

describe("deploy configuration", () => {
  // The host's functions (its functions/src/index.ts): a deploy of ours must never list them for deletion.
  const HOST_FUNCTIONS = [
    "onMetricsWrite",
    "onCommandCompleted",
    "sweepStaleDeployments",
    "onRoostWritten",
    "onTargetStateWritten",
    "verifyChunk",
    "chunkGcNightly",
    "preUploadCheck",
    "reconcileQuota",
    "aggregateTelemetry",
    "getUsageSummaryHttp",
    "recordUsageEvent",
    "exportAuditDaily",
    "recordAuditEvent",
    "verifyAuditChain",
    "exportSecurityBoundaryAuditDevDaily",
    "emitWebhook",
    "processRetryQueue",
    "sweepExpiredApiKeysDaily",
    "sweepExpiredIdempotencyCacheDaily",
  ];

  it('both modes deploy the functions under their own codebase, never the host\'s "default"', () => {
    const standalone = JSON.parse(text(join(root, "firebase.json")));
    const hosted = JSON.parse(composeWith(hostRules).files["firebase.json"]);
    for (const config of [standalone, hosted]) {
      expect(config.functions.map((f: { codebase?: string }) => f.codebase)).toEqual([CODEBASE]);
      expect(CODEBASE).not.toBe("default");
    }
    // Host mode deploys no Hosting site: the host's own site stays as it is.
    expect(hosted.hosting).toBeUndefined();
    expect(hosted.firestore).toEqual({ rules: "firestore.rules", indexes: "firestore.indexes.json" });
  });

  it("no function of the pipeline has the name of one of the host's", () => {
    const sources = ["functions/src/index.ts", "functions/src/triggers/management-api.ts"].map((p) => text(join(root, p))).join("\n");
    const names = [...sources.matchAll(/export const (\w+)/g), ...sources.matchAll(/export \{ ([^}]+) \}/g)].flatMap((m) =>
      m[1]!.split(",").map((s) => s.trim()),
    );
    expect(names).toEqual(expect.arrayContaining(["onMachineWritten", "deliverWebhook", "api", "createWebhook"]));
    expect(names.filter((n) => HOST_FUNCTIONS.includes(n))).toEqual([]);
  });
});

describe("match paths", () => {
  it.each([
    [["sites", "{s}", "webhooks", "{w}"], ["sites", "S", "webhooks", "W"], true],
    [["sites", "{s}", "webhooks", "{w}"], ["sites", "S", "webhooks", "W", "private", "signing"], false],
    [["sites", "{s}", "{rest=**}"], ["sites", "S", "webhooks", "W", "private", "signing"], true],
    [["{document=**}"], ["apiKeys", "K"], true],
    [["sites", "{s}", "machines", "{m}"], ["sites", "S", "logs", "L"], false],
  ])("%j covers %j: %s", (pattern, path, expected) => {
    expect(patternMatches(pattern, path)).toBe(expected);
  });
});
