import { readFileSync } from "node:fs";
import { join } from "node:path";
import { assertFails, assertSucceeds, initializeTestEnvironment, type RulesTestEnvironment } from "@firebase/rules-unit-testing";
import { doc, getDoc, setDoc, Timestamp } from "firebase/firestore";
import { FirestoreRestError, OwletteAgent, SERVER_TIMESTAMP, unsignedAgentToken } from "../../../scripts/lib/owlette-agent";

// The deployed Owlette agent's own requests (Firestore REST, see scripts/lib/owlette-agent.ts)
// against the rules, with the claims Owlette mints: every write it makes is allowed on its own
// docs and refused on another machine's or site's, for the sweep's fields, and when oversized.

const PROJECT = "demo-owlette-agent-rules";
const SITE = "site-a";
const OTHER_SITE = "site-b";
const M1 = "GALLERY-PC1";
const M2 = "GALLERY-PC2";

let env: RulesTestEnvironment;

beforeAll(async () => {
  const host = process.env.FIRESTORE_EMULATOR_HOST ?? "";
  const [h, port] = host.split(":");
  if (!h || !port) throw new Error("FIRESTORE_EMULATOR_HOST is not set: run through `npm run test:emulator`");
  env = await initializeTestEnvironment({
    projectId: PROJECT,
    firestore: { host: h, port: Number(port), rules: readFileSync(join(__dirname, "..", "..", "..", "firestore.rules"), "utf8") },
  });
});
afterAll(() => env.cleanup());
beforeEach(() => env.clearFirestore());

/** An agent signed in as `tokenFor` (site, machine) that writes to `writesAs`'s docs. */
function agent(tokenFor: [string, string] = [SITE, M1], writesAs: [string, string] = tokenFor): OwletteAgent {
  const token = unsignedAgentToken(PROJECT, ...tokenFor);
  return new OwletteAgent({
    projectId: PROJECT,
    siteId: writesAs[0],
    machineId: writesAs[1],
    firestoreHost: process.env.FIRESTORE_EMULATOR_HOST as string,
    token: async () => token,
  });
}

async function allowed(write: Promise<unknown>) {
  await expect(write).resolves.not.toThrow();
}

async function denied(write: Promise<unknown>) {
  const err = await write.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FirestoreRestError);
  expect((err as FirestoreRestError).status).toBe(403);
}

const td = { configId: "cfg-td", name: "TouchDesigner", status: "RUNNING" as const, pid: 4242 };
const inMinute = () => Math.floor(Date.now() / 1000) + 60;

/** Every write a deployed agent makes, by name. */
const WRITES: [string, (a: OwletteAgent) => Promise<unknown>][] = [
  ["presence (online)", (a) => a.presence(true)],
  [
    "heartbeat with the full metrics map",
    (a) => a.heartbeat({ processes: [td, { ...td, configId: "cfg-2", name: "Resolume", status: "STOPPED", pid: null }] }),
  ],
  ["heartbeat that deletes an empty device map", (a) => a.heartbeat({ processes: [], gpu: false })],
  ["health ok", (a) => a.health("ok", "ok", "Connected to owlette cloud")],
  ["health connection_failure", (a) => a.health("connection_failure", "connection_failure", "Waiting 23s before retry")],
  ["clean stop (online false)", (a) => a.presence(false)],
  ["reboot announced", (a) => a.announceReboot(inMinute())],
  ["shutdown announced", (a) => a.announceShutdown(inMinute())],
  ["announcements cleared after boot", (a) => a.clearAnnouncements()],
  ["rebootPending set", (a) => a.setRebootPending("TouchDesigner", 5)],
  ["rebootPending cleared", (a) => a.setDocument(a.machinePath, { rebootPending: { active: false, processName: null, reason: null, timestamp: null } }, true)],
  ["hardware/profile", (a) => a.uploadHardwareProfile()],
  [
    "hardware/display",
    (a) =>
      a.setDocument(`${a.machinePath}/hardware/display`, {
        schemaVersion: 1,
        signatureHash: "ab".repeat(32),
        capturedAt: 1_760_000_000,
        monitors: [{ id: "DISPLAY1", edidHash: "x", width: 1920, height: 1080 }],
        mosaicActive: false,
        enumerationFailed: false,
      }),
  ],
  [
    "hardware/displayModes",
    (a) =>
      a.setDocument(`${a.machinePath}/hardware/displayModes`, {
        schemaVersion: 1,
        signatureHash: "cd".repeat(32),
        capturedAt: 1_760_000_000,
        byEdidHash: { x: [] },
      }),
  ],
  [
    "a process_crash log doc",
    (a) =>
      a.logEvent("process_crash", "error", {
        processName: "TouchDesigner",
        details: "Process stopped unexpectedly (PID 4242 no longer running)",
        screenshotUrl: "https://storage.example/s.png",
      }),
  ],
  ["a routine log doc", (a) => a.logEvent("agent_started", "info", { details: "owlette agent v2.12.4 started" })],
];

describe("every deployed agent write", () => {
  it.each(WRITES)("%s: allowed on its own machine", async (_name, write) => {
    const own = agent();
    await own.presence(true);
    await allowed(write(own));
  });

  it.each(WRITES)("%s: refused on another machine of its site", async (_name, write) => {
    await agent([SITE, M2]).presence(true);
    await denied(write(agent([SITE, M1], [SITE, M2])));
  });

  it.each(WRITES)("%s: refused on another site", async (_name, write) => {
    await agent([OTHER_SITE, M1]).presence(true);
    await denied(write(agent([SITE, M1], [OTHER_SITE, M1])));
  });

  it("the heartbeat leaves what the deployed agent leaves: a literal `metrics.timestamp` and no cpu/disk/gpu", async () => {
    const own = agent();
    await own.presence(true);
    await own.heartbeat({ processes: [td], gpu: false });
    await env.withSecurityRulesDisabled(async (ctx) => {
      const data = (await getDoc(doc(ctx.firestore(), own.machinePath))).data() ?? {};
      expect(data["metrics.timestamp"]).toBeInstanceOf(Timestamp);
      expect(data.metrics.timestamp).toBeUndefined();
      expect(data.metrics.gpus).toBeUndefined();
      expect(data.metrics.processes["cfg-td"]).toMatchObject({ name: "TouchDesigner", status: "RUNNING", pid: 4242 });
      expect(data.capabilities).toEqual({ displayRemoteApply: 1 });
    });
  });
});

describe("what stays refused", () => {
  beforeEach(() => agent().presence(true));

  it("the sweep's stale mark, and fields no agent writes", async () => {
    const own = agent();
    const presence = `sites/${SITE}/presence/${M1}`;
    await denied(own.setDocument(presence, { lastHeartbeat: SERVER_TIMESTAMP }, true));
    await denied(own.setDocument(own.machinePath, { offlineReason: "heartbeat_stale" }, true));
    await denied(own.setDocument(own.machinePath, { offlineSince: SERVER_TIMESTAMP }, true));
    await env.withSecurityRulesDisabled((ctx) => setDoc(doc(ctx.firestore(), presence), { lastHeartbeat: Timestamp.now(), staleSince: Timestamp.now() }));
    // Marked by the sweep, the agent's own heartbeat still goes through.
    await allowed(own.heartbeat({ processes: [td] }));
  });

  it("the sweep presence mode's flag: the agent can neither set nor clear it, and beats, starts and stops beside it", async () => {
    const own = agent();
    await denied(own.setDocument(own.machinePath, { sweepAwaitingReturn: true }, true));
    await env.withSecurityRulesDisabled((ctx) => setDoc(doc(ctx.firestore(), own.machinePath), { sweepAwaitingReturn: true }, { merge: true }));
    await denied(own.setDocument(own.machinePath, { sweepAwaitingReturn: false }, true));
    await allowed(own.heartbeat({ processes: [td] }));
    await allowed(own.presence(true));
    await allowed(own.presence(false));
    await env.withSecurityRulesDisabled(async (ctx) => {
      expect((await getDoc(doc(ctx.firestore(), own.machinePath))).get("sweepAwaitingReturn")).toBe(true);
    });
  });

  it("health keeps the server's fields beside the agent's", async () => {
    const own = agent();
    await env.withSecurityRulesDisabled((ctx) =>
      setDoc(
        doc(ctx.firestore(), own.machinePath),
        { health: { status: "ok", staleSince: Timestamp.now(), lastCronAlertAt: Timestamp.now() } },
        { merge: true },
      ),
    );
    await allowed(own.health("ok", "ok", "Connected to owlette cloud"));
    await denied(own.setDocument(own.machinePath, { health: { staleSince: null } }, true));
  });

  it("a forged heartbeat or metrics time (the client's clock)", async () => {
    const own = agent();
    await denied(own.setDocument(own.machinePath, { lastHeartbeat: new Date(Date.now() + 3_600_000) }, true));
    // The literal top-level field the heartbeat leaves, set by hand.
    await denied(own.setDocument(own.machinePath, { "metrics.timestamp": new Date() }, true));
  });

  it("fields and values outside what the agent writes", async () => {
    const own = agent();
    await denied(own.setDocument(own.machinePath, { isAdmin: true }, true));
    await denied(own.setDocument(own.machinePath, { online: "yes" }, true));
    await denied(own.setDocument(own.machinePath, { rebootScheduledAt: "soon" }, true));
    await denied(own.setDocument(own.machinePath, { rebootPending: { active: true, command: "format c:" } }, true));
    await denied(own.updateDocument(own.machinePath, { "metrics.shell": "calc.exe" }));
    await denied(own.updateDocument(own.machinePath, { "metrics.cpus": "hot" }));
    await denied(own.setDocument(`${own.machinePath}/hardware/secrets`, { schemaVersion: 1 }));
    await denied(own.setDocument(`${own.machinePath}/hardware/profile`, { schemaVersion: 1, payload: "x" }));
  });

  it("oversized values", async () => {
    const own = agent();
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`cfg-${i}`, { name: `p${i}`, status: "RUNNING" }]));
    await denied(own.health("connection_failure", "E", "x".repeat(16_385)));
    await denied(own.setDocument(own.machinePath, { agent_version: "x".repeat(65) }, true));
    await denied(own.setDocument(own.machinePath, { machine_timezone: "x".repeat(129) }, true));
    await denied(own.updateDocument(own.machinePath, { "metrics.processes": many(101) }));
    await allowed(own.updateDocument(own.machinePath, { "metrics.processes": many(100) }));
    await denied(own.setDocument(own.machinePath, { rebootPending: { active: true, processName: "p", reason: "r".repeat(1025), timestamp: 1 } }, true));
    await denied(own.setDocument(`${own.machinePath}/hardware/display`, { schemaVersion: 1, monitors: Array.from({ length: 33 }, () => ({})) }));
    await denied(own.logEvent("process_crash", "error", { processName: "TD", details: "x".repeat(16_385) }));
    await denied(own.logEvent("process_crash", "error", { processName: "x".repeat(257) }));
    await denied(own.logEvent("x".repeat(65), "error"));
    await denied(own.logEvent("process_crash", "error", { screenshotUrl: `https://s.example/${"x".repeat(2048)}` }));
  });

  it("log docs: only created, only for its own machine, with the server's time", async () => {
    const own = agent();
    const id = await own.logEvent("process_crash", "error", { processName: "TD", details: "d" });
    const path = `sites/${SITE}/logs/${id}`;
    // The agent's set on an existing id is an update: refused.
    await denied(own.setDocument(path, { timestamp: SERVER_TIMESTAMP, action: "process_crash", level: "error", machineId: M1 }));
    await denied(own.setDocument(`sites/${SITE}/logs/forged-machine`, { timestamp: SERVER_TIMESTAMP, action: "process_crash", level: "error", machineId: M2 }));
    await denied(own.setDocument(`sites/${SITE}/logs/forged-time`, { timestamp: new Date(), action: "process_crash", level: "error", machineId: M1 }));
    await denied(own.setDocument(`sites/${SITE}/logs/no-level`, { timestamp: SERVER_TIMESTAMP, action: "process_crash", machineId: M1 }));
    const extra = Object.fromEntries(Array.from({ length: 13 }, (_, i) => [`extra${i}`, i]));
    await denied(own.setDocument(`sites/${SITE}/logs/too-many`, { timestamp: SERVER_TIMESTAMP, action: "a", level: "info", machineId: M1, ...extra }));
  });

  it("dashboard users read logs and hardware of their site; agents and strangers do not read logs", async () => {
    const own = agent();
    const id = await own.logEvent("agent_started", "info");
    await own.uploadHardwareProfile();
    await env.withSecurityRulesDisabled(async (ctx) => {
      await setDoc(doc(ctx.firestore(), "users/member"), { role: "member", sites: [SITE] });
      await setDoc(doc(ctx.firestore(), "users/stranger"), { role: "admin", sites: [OTHER_SITE] });
      await setDoc(doc(ctx.firestore(), `sites/${SITE}`), { name: "A", owner: "owner" });
    });
    const member = env.authenticatedContext("member").firestore();
    const stranger = env.authenticatedContext("stranger").firestore();
    const agentDb = env.authenticatedContext("agent", { role: "agent", site_id: SITE, machine_id: M1 }).firestore();
    await assertSucceeds(getDoc(doc(member, `sites/${SITE}/logs/${id}`)));
    await assertSucceeds(getDoc(doc(member, `${own.machinePath}/hardware/profile`)));
    await assertSucceeds(getDoc(doc(agentDb, `${own.machinePath}/hardware/profile`)));
    await assertFails(getDoc(doc(stranger, `sites/${SITE}/logs/${id}`)));
    await assertFails(getDoc(doc(stranger, `${own.machinePath}/hardware/profile`)));
    await assertFails(getDoc(doc(agentDb, `sites/${SITE}/logs/${id}`)));
  });
});
