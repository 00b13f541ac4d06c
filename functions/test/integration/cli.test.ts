import { spawn } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { paths } from "../../src/data/paths";
import type { Store } from "../../src/data/store";
import { signatureHeaders } from "../../src/domain/signature-schemes";
import { generateSecret } from "../../src/domain/signing";
import type { Receiver } from "../../../scripts/lib/receiver";
import { call, idToken } from "../support/api-client";
import { runCli } from "../support/cli";
import { SUBSCRIBABLE_EVENT_TYPES } from "../../src/domain/event-catalog";
import { startSuite, uniqueId, waitFor } from "../support/emulator";

// Every CLI command, run as a user runs it (a separate process), against the emulator suite.
jest.setTimeout(120_000);

const root = join(__dirname, "..", "..", "..");
const tsx = join(root, "node_modules", ".bin", "tsx");
let store: Store;
let receiver: Receiver;
let siteId: string;
let key: string;

const cli = (args: string[], env: Record<string, string | undefined> = {}) => runCli(args, { OWLETTE_API_KEY: key, ...env });
const json = async (args: string[]) => {
  const r = await cli(["--json", ...args]);
  if (r.code !== 0) throw new Error(`cli ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

beforeAll(async () => {
  ({ store, receiver } = await startSuite());
  siteId = uniqueId("cli");
  const admin = `admin-${siteId}`;
  await store.db.doc(paths.site(siteId)).set({ name: "CLI Site", owner: admin });
  await store.db.doc(paths.user(admin)).set({ role: "admin", sites: [siteId] });
  key = (await call("createApiKey", { siteId, name: "cli", access: "write" }, await idToken(admin))).body.result.key;
});
afterAll(() => receiver.stop());

describe("cli", () => {
  it("makes a site's first API key with the Admin SDK, for a user with access only, and prints its version", async () => {
    const made = await json(["keys", "create", "--site", siteId, "--uid", `admin-${siteId}`, "--name", "bootstrap"]);
    expect(made.key).toMatch(/^owk_/);
    expect(made.apiKey).toMatchObject({ name: "bootstrap", access: "write" });
    const listed = await runCli(["--json", "--key", made.key, "webhooks", "list"], { OWLETTE_API_KEY: "" });
    expect(listed.code).toBe(0);
    const stranger = await cli(["keys", "create", "--site", siteId, "--uid", "nobody-at-all"]);
    expect([stranger.code, stranger.stderr]).toEqual([1, `error: no access to site ${siteId} (permission_denied)\n`]);
    const version = await cli(["--version"]);
    expect([version.code, version.stdout.trim()]).toEqual([0, require("../../../package.json").version]);
  });

  it("has complete help for every command", async () => {
    const top = await cli(["--help"]);
    expect(top.code).toBe(0);
    for (const c of ["webhooks", "deliveries", "keys", "events", "receive", "simulate", "queue"]) expect(top.stdout).toContain(c);
    const hooks = (await cli(["webhooks", "--help"])).stdout;
    for (const c of ["list", "create", "get", "update", "delete", "enable", "disable", "pause", "resume", "test", "rotate-secret"]) expect(hooks).toContain(c);
    expect((await cli(["deliveries", "--help"])).stdout).toMatch(/list[\s\S]*retry[\s\S]*recover/);
    expect((await cli(["queue", "--help"])).stdout).toMatch(/status[\s\S]*pause[\s\S]*resume[\s\S]*purge[\s\S]*limits/);
    expect((await cli(["webhooks", "create", "--help"])).stdout).toMatch(/--events <types>[\s\S]*--format <format>/);
  });

  it("manages a webhook end to end: create, list, get, update, switch, test, rotate, emit, deliveries, retry, delete", async () => {
    const path = `/cli/${siteId}`;
    const created = await cli(["webhooks", "create", "--name", "CLI hook", "--url", receiver.url(path), "--events", "process.crashed"]);
    expect(created.code).toBe(0);
    expect(created.stderr).toContain('creating webhook "CLI hook"');
    const secret = /signing secret \(shown once, store it now\): (whsec_\S+)/.exec(created.stdout)?.[1];
    const id = /^id\s+(\S+)/m.exec(created.stdout)?.[1];
    expect(secret).toBeDefined();
    receiver.register(path, secret as string, () => 200);

    const listed = await cli(["webhooks", "list"]);
    expect(listed.stdout.split("\n")[0]).toMatch(/^id\s+name\s+enabled\s+failCount/);
    expect(listed.stdout).toContain(id);
    expect((await json(["webhooks", "list"])).data.map((w: { id: string }) => w.id)).toEqual([id]);
    expect((await cli(["webhooks", "get", id as string])).stdout).toMatch(/latest deliveries:\n\(none\)/);

    const updated = await json(["webhooks", "update", id as string, "--name", "Renamed", "--events", "process.crashed,machine.offline"]);
    expect(updated.webhook).toMatchObject({ name: "Renamed", events: ["process.crashed", "machine.offline"] });
    expect((await cli(["webhooks", "disable", id as string])).stdout).toContain("enabled false (manual)");
    expect((await cli(["webhooks", "pause", id as string])).stdout).toContain("enabled false (paused)");
    expect((await cli(["webhooks", "resume", id as string])).stdout).toContain("enabled true");
    expect((await cli(["webhooks", "enable", id as string])).stdout).toContain("failCount 0");

    const tested = await cli(["webhooks", "test", id as string]);
    expect(tested.code).toBe(0);
    expect(tested.stdout).toMatch(/^✔ 200 in \d+ ms/);
    const rotated = await cli(["webhooks", "rotate-secret", id as string, "--overlap", "0"]);
    const newSecret = /new signing secret \(shown once\): (whsec_\S+)/.exec(rotated.stdout)?.[1];
    expect(newSecret).not.toBe(secret);
    expect(rotated.stdout).toContain("old secret stopped signing");
    receiver.register(path, newSecret as string, () => 500);

    const emitted = await cli(["events", "emit", "process.crashed", "--site", siteId]);
    expect(emitted.code).toBe(0);
    expect(emitted.stdout).toContain("process.crashed emitted");
    await waitFor("five failed attempts", () => receiver.at(path).filter((d) => d.payload?.event === "process.crashed").length === 5);
    const page = await waitFor("the failed delivery", async () => {
      const res = await json(["deliveries", "list", id as string, "--status", "failed"]);
      return res.data.length === 1 && res;
    });
    expect((await cli(["deliveries", "list", id as string])).stdout).toMatch(/process\.crashed\s+failed\s+5\s+500/);

    receiver.respondWith(path, () => 200);
    const retried = await cli(["deliveries", "retry", id as string, page.data[0].id]);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toMatch(/^✔ attempt 6: 200 in \d+ ms; delivery is succeeded/);

    // Down again for one more crash; once back, recover re-sends it, and only it.
    receiver.respondWith(path, () => 500);
    await cli(["events", "emit", "process.crashed", "--site", siteId, "--process", "cli-process-2"]);
    await waitFor("the second failed delivery", async () => (await json(["deliveries", "list", id as string, "--status", "failed"])).data.length === 1);
    receiver.respondWith(path, () => 200);
    const before = receiver.at(path).length;
    const recovered = await cli(["deliveries", "recover", id as string, "--since", "10m"]);
    expect(recovered.code).toBe(0);
    expect(recovered.stderr).toMatch(/recovery rcv_\w+: 1 to re-send since/);
    expect(recovered.stdout).toMatch(
      /^✔ rcv_\w+ done: 1 re-sent, 0 refused by the receiver, 0 delivered meanwhile, 0 offline already answered, 0 unavailable, 0 left\n$/,
    );
    expect(
      receiver
        .at(path)
        .slice(before)
        .map((d) => d.payload?.data?.processId),
    ).toEqual(["cli-process-2"]);
    expect((await cli(["deliveries", "recover", id as string, "--since", "yesterday"])).stderr).toContain("span back from now");

    expect((await cli(["webhooks", "delete", id as string])).stdout).toBe(`deleted ${id} (0 pending deliveries skipped)\n`);
    expect((await json(["webhooks", "list"])).data).toEqual([]);
  });

  it("emits machine.offline and machine.online", async () => {
    const path = `/cli-machines/${siteId}`;
    const created = await json(["webhooks", "create", "--name", "Machines", "--url", receiver.url(path), "--events", "machine.offline,machine.online"]);
    receiver.register(path, created.secret, () => 200);
    const out = await cli(["events", "emit", "machine.online", "--site", siteId, "--machine", "kiosk"]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("marking the machine stale first");
    await waitFor("offline then online", () => receiver.at(path).length === 2);
    // A machine.online is never sent before the machine.offline it answers.
    expect(receiver.at(path).map((d) => d.payload?.event)).toEqual(["machine.offline", "machine.online"]);
    const bad = await cli(["events", "emit", "disk.full", "--site", siteId]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      `error: unknown event "disk.full"; one of process.crashed, process.start_failed, machine.offline, machine.online, connection_failure\n`,
    );
  });

  it("simulates agents", async () => {
    const site = uniqueId("sim");
    const totals = await json([
      "simulate",
      "--site",
      site,
      "--machines",
      "3",
      "--seconds",
      "2",
      "--heartbeat",
      "1",
      "--crash-chance",
      "1",
      "--failure-chance",
      "0",
    ]);
    expect(totals.heartbeats).toBeGreaterThanOrEqual(3);
    expect(totals.crashes).toBe(totals.heartbeats);
    const machines = await store.db.collection(`sites/${site}/machines`).get();
    expect(machines.size).toBe(3);
    expect(machines.docs[0]?.data()).toMatchObject({ online: true, agent_version: "sim" });
  });

  it("receives: verifies every scheme, refuses bad and stale signatures, deduplicates by id", async () => {
    const secret = generateSecret();
    const child = spawn(tsx, [join(root, "scripts", "cli.ts"), "--json", "receive", "--port", "0", "--secret", secret], { cwd: root, env: process.env });
    const lines: string[] = [];
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => lines.push(...b.toString().split("\n").filter(Boolean)));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    try {
      const port = Number(await waitFor("the receiver to start", () => /receiving on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]));
      const now = Math.floor(Date.now() / 1000);
      const post = async (id: string, scheme: "owlette" | "sha256" | "standard" | "timestamped", opts: { secret?: string; at?: number } = {}) => {
        const body = JSON.stringify({ id, event: "process.crashed", data: { machineName: "PC" } });
        const headers = signatureHeaders(scheme, { body, messageId: id, timestampSeconds: opts.at ?? now, secrets: [opts.secret ?? secret] });
        const res = await fetch(`http://127.0.0.1:${port}/hook`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "webhook-id": id, ...headers },
          body,
        });
        return res.status;
      };
      expect(await post("evt_a", "owlette")).toBe(200);
      expect(await post("evt_b", "sha256")).toBe(200);
      expect(await post("evt_c", "standard")).toBe(200);
      expect(await post("evt_d", "timestamped")).toBe(200);
      expect(await post("evt_a", "owlette")).toBe(200);
      expect(await post("evt_e", "owlette", { secret: generateSecret() })).toBe(401);
      expect(await post("evt_f", "timestamped", { at: now - 3600 })).toBe(401);
      await waitFor("seven lines", () => lines.length >= 7);
      expect(lines.map((l) => JSON.parse(l)).map((v) => [v.id, v.status, v.scheme ?? v.reason])).toEqual([
        ["evt_a", "accepted", "owlette"],
        ["evt_b", "accepted", "sha256"],
        ["evt_c", "accepted", "standard"],
        ["evt_d", "accepted", "timestamped"],
        ["evt_a", "duplicate", "owlette"],
        ["evt_e", "rejected", "bad_signature"],
        ["evt_f", "rejected", "stale_timestamp"],
      ]);
    } finally {
      child.kill("SIGTERM");
    }
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
  });

  it("builds queue requests (dry run; the emulator has no Cloud Tasks admin API)", async () => {
    expect(await json(["queue", "status", "--project", "my-project", "--dry-run"])).toEqual({
      method: "getQueue",
      request: { name: "projects/my-project/locations/us-central1/queues/deliverWebhook" },
    });
    expect(await json(["queue", "limits", "--project", "my-project", "--max-concurrent", "5", "--max-per-second", "2", "--dry-run"])).toEqual({
      method: "updateQueue",
      request: {
        queue: {
          name: "projects/my-project/locations/us-central1/queues/deliverWebhook",
          rateLimits: { maxConcurrentDispatches: 5, maxDispatchesPerSecond: 2 },
        },
        updateMask: { paths: ["rate_limits.max_concurrent_dispatches", "rate_limits.max_dispatches_per_second"] },
      },
    });
    for (const action of ["pause", "resume", "purge"]) {
      expect((await json(["queue", action, "--project", "my-project", "--dry-run"])).method).toBe(`${action}Queue`);
    }
    const none = await cli(["queue", "limits", "--project", "my-project", "--dry-run"]);
    expect([none.code, none.stderr]).toEqual([1, "error: give --max-concurrent and/or --max-per-second\n"]);
  });

  it("fails with one clear line and a non-zero exit", async () => {
    const missing = await cli(["webhooks", "get", "nope"]);
    expect([missing.code, missing.stderr]).toEqual([1, "error: webhook nope not found (404 not_found)\n"]);
    const noKey = await cli(["webhooks", "list"], { OWLETTE_API_KEY: "" });
    expect([noKey.code, noKey.stderr]).toEqual([
      1,
      "error: no API key: pass --key owk_... or set OWLETTE_API_KEY (npm start makes one for its demo site, which the CLI uses by itself)\n",
    ]);
    const badKey = await cli(["webhooks", "list", "--key", "owk_nope"]);
    expect(badKey.code).toBe(1);
    const wrongKey = await cli(["--key", "owk_nope", "webhooks", "list"]);
    expect([wrongKey.code, wrongKey.stderr]).toEqual([1, "error: invalid or revoked API key (401 unauthenticated)\n"]);
    const invalid = await cli(["webhooks", "create", "--name", "x", "--url", "http://example.com", "--events", "nope"]);
    expect(invalid.code).toBe(1);
    // Progress, then the one error line naming every bad field.
    expect(invalid.stderr.trim().split("\n")).toEqual([
      'creating webhook "x"…',
      `error: url: URL must use https; events[0]: unknown event "nope"; one of ${SUBSCRIBABLE_EVENT_TYPES.join(", ")} (400 invalid_argument)`,
    ]);
    const usage = await cli(["webhooks", "create", "--name", "x"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/required option '--url <url>' not specified/);
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const unreachable = await cli(["webhooks", "list"], { FUNCTIONS_EMULATOR_ORIGIN: `http://127.0.0.1:${closed}` });
    expect([unreachable.code, unreachable.stderr]).toEqual([
      1,
      `error: cannot reach http://127.0.0.1:${closed}/${process.env.GCLOUD_PROJECT}/us-central1/api: ECONNREFUSED\n`,
    ]);
  });
});
