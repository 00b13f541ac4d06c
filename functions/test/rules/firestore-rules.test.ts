import { readFileSync } from "node:fs";
import { join } from "node:path";
import { assertFails, assertSucceeds, initializeTestEnvironment, type RulesTestEnvironment } from "@firebase/rules-unit-testing";
import { collection, deleteDoc, doc, getDoc, getDocs, serverTimestamp, setDoc, Timestamp, updateDoc, type Firestore } from "firebase/firestore";

// Its own project id: rules and data here never meet the integration suite's.
const PROJECT = "demo-owlette-rules";
const SITE = "site-a";
const OTHER_SITE = "site-b";
const MACHINE = "m1";

let env: RulesTestEnvironment;

type Actor =
  | "unauthenticated"
  | "stranger"
  | "member"
  | "admin"
  | "owner"
  | "superadmin"
  | "soft-deleted-admin"
  | "agent of this machine"
  | "agent of another machine"
  | "agent of another site";

function db(actor: Actor): Firestore {
  switch (actor) {
    case "unauthenticated":
      return env.unauthenticatedContext().firestore() as unknown as Firestore;
    case "agent of this machine":
      return env.authenticatedContext("agent-1", { role: "agent", site_id: SITE, machine_id: MACHINE }).firestore() as unknown as Firestore;
    case "agent of another machine":
      return env.authenticatedContext("agent-2", { role: "agent", site_id: SITE, machine_id: "m2" }).firestore() as unknown as Firestore;
    case "agent of another site":
      return env.authenticatedContext("agent-3", { role: "agent", site_id: OTHER_SITE, machine_id: MACHINE }).firestore() as unknown as Firestore;
    default:
      return env.authenticatedContext(actor).firestore() as unknown as Firestore;
  }
}

const machinePath = (site = SITE, machine = MACHINE) => `sites/${site}/machines/${machine}`;
const processPath = (site = SITE, machine = MACHINE) => `${machinePath(site, machine)}/processes/p1`;
const webhookPath = (site = SITE) => `sites/${site}/webhooks/w1`;

beforeAll(async () => {
  const [host, port] = (process.env.FIRESTORE_EMULATOR_HOST ?? "").split(":");
  if (!host || !port) throw new Error("FIRESTORE_EMULATOR_HOST is not set: run through `npm run test:emulator`");
  env = await initializeTestEnvironment({
    projectId: PROJECT,
    firestore: { host, port: Number(port), rules: readFileSync(join(__dirname, "..", "..", "..", "firestore.rules"), "utf8") },
  });
});

afterAll(() => env.cleanup());

/**
 * Every test starts from the same data, seeded again unless the test before it left it as seeded:
 * a request of the matrix below that was denied changes nothing (and most of the matrix is
 * denials); any other test may have written.
 */
let untouched = false;

beforeEach(async () => {
  const seeded = untouched;
  untouched = false;
  if (seeded) return;
  await env.clearFirestore();
  await env.withSecurityRulesDisabled(async (ctx) => {
    const admin = ctx.firestore();
    const put = (path: string, data: Record<string, unknown>) => setDoc(doc(admin, path), data);
    await Promise.all([
      put("users/member", { role: "member", sites: [SITE] }),
      put("users/admin", { role: "admin", sites: [SITE] }),
      put("users/owner", { role: "admin", sites: [] }),
      put("users/superadmin", { role: "superadmin", sites: [] }),
      put("users/stranger", { role: "admin", sites: [OTHER_SITE] }),
      // An admin of site A whom an admin soft-deleted: refused everywhere, as in the host's rules.
      put("users/soft-deleted-admin", { role: "admin", sites: [SITE], deletedAt: Timestamp.now() }),
      put(`sites/${SITE}`, { name: "Site A", owner: "owner" }),
      put(`sites/${OTHER_SITE}`, { name: "Site B", owner: "stranger" }),
      put(machinePath(), { online: true, lastHeartbeat: Timestamp.now(), machineId: MACHINE, siteId: SITE }),
      put(machinePath(OTHER_SITE), { online: true, lastHeartbeat: Timestamp.now(), machineId: MACHINE, siteId: OTHER_SITE }),
      put(processPath(), { name: "TouchDesigner", status: "running" }),
      put(`${machinePath()}/hardware/profile`, { schemaVersion: 1, signatureHash: "h", capturedAt: 1, cpus: [] }),
      put(`sites/${SITE}/logs/l1`, { timestamp: Timestamp.now(), action: "agent_started", level: "info", machineId: MACHINE }),
      put(webhookPath(), { name: "Ops", url: "https://example.com/h", events: ["process.crashed"], enabled: true, failCount: 0, lastStatus: 200 }),
      put(`${webhookPath()}/private/signing`, { current: "whsec_secret", previous: [] }),
      put(`${webhookPath()}/deliveries/d1`, { status: "succeeded", attempts: [] }),
      put(`sites/${SITE}/events/e1`, { type: "process.crashed", body: "{}" }),
      put(`${webhookPath()}/recoveries/r1`, { status: "running", items: ["e1"], cursor: 0, step: 0 }),
      put(`sites/${SITE}/flaps/f1`, { kind: "machine", machineId: MACHINE, subject: "presence", announced: true, checkAt: Timestamp.now() }),
      put(`sites/${SITE}/emissionLimits/ledger`, { window: 1, counts: "{}", flapping: { k: { sinceMs: 1, machine: "m" } } }),
      put("apiKeys/k1", { siteId: SITE, uid: "admin", hash: "abc", access: "write" }),
      put(`sites/${SITE}/presence/${MACHINE}`, { lastHeartbeat: Timestamp.now(), staleSince: Timestamp.now(), name: null }),
      put("pipelineState/sweep", { floor: Timestamp.now() }),
      put(`sites/${SITE}/laneShares/slow`, { tatMs: Date.now() }),
      put(`sites/${SITE}/hostReports/r1`, { event: "process.crashed", siteName: "Site A", data: { machine: { id: MACHINE } } }),
      put("hostRequests/q1", { kind: "test", url: "https://example.com/h", siteId: SITE, webhookId: "w1" }),
    ]);
  });
});

const heartbeat = () => ({ online: true, lastHeartbeat: serverTimestamp(), machineId: MACHINE, siteId: SITE });
const crash = () => ({ name: "TouchDesigner", status: "crashed", pid: 4242, exitCode: -1073741819, errorMessage: "exited", updatedAt: serverTimestamp() });

const ALL: Actor[] = [
  "unauthenticated",
  "stranger",
  "member",
  "admin",
  "owner",
  "superadmin",
  "soft-deleted-admin",
  "agent of this machine",
  "agent of another machine",
  "agent of another site",
];
const DASHBOARD: Actor[] = ["member", "admin", "owner", "superadmin"];

/**
 * Every rule against every kind of caller: the listed actors are allowed, all the others are
 * refused, so each rule has its allow and its deny cases side by side.
 */
const RULES: [string, Actor[], (d: Firestore) => Promise<unknown>][] = [
  ["read the site", DASHBOARD, (d) => getDoc(doc(d, `sites/${SITE}`))],
  ["write the site", [], (d) => updateDoc(doc(d, `sites/${SITE}`), { plan: "enterprise" })],
  // The "stranger" (to site A) is an admin of site B.
  ["read another site", ["superadmin", "stranger"], (d) => getDoc(doc(d, `sites/${OTHER_SITE}`))],
  ["read the member's profile", ["member", "superadmin"], (d) => getDoc(doc(d, "users/member"))],
  ["write the member's profile", [], (d) => updateDoc(doc(d, "users/member"), { role: "superadmin" })],
  ["read the machine", [...DASHBOARD, "agent of this machine"], (d) => getDoc(doc(d, machinePath()))],
  ["heartbeat the machine", ["agent of this machine"], (d) => setDoc(doc(d, machinePath()), heartbeat(), { merge: true })],
  ["delete the machine", [], (d) => deleteDoc(doc(d, machinePath()))],
  ["read its hardware profile", [...DASHBOARD, "agent of this machine"], (d) => getDoc(doc(d, `${machinePath()}/hardware/profile`))],
  [
    "replace its hardware profile",
    ["agent of this machine"],
    (d) => setDoc(doc(d, `${machinePath()}/hardware/profile`), { schemaVersion: 1, signatureHash: "h2", capturedAt: 2, cpus: [] }),
  ],
  ["delete its hardware profile", [], (d) => deleteDoc(doc(d, `${machinePath()}/hardware/profile`))],
  ["read the site's logs", DASHBOARD, (d) => getDocs(collection(d, `sites/${SITE}/logs`))],
  [
    "create a log doc of this machine",
    ["agent of this machine"],
    (d) =>
      setDoc(doc(d, `sites/${SITE}/logs/l2`), {
        timestamp: serverTimestamp(),
        action: "process_crash",
        level: "error",
        machineId: MACHINE,
        processName: "TD",
        details: "d",
      }),
  ],
  ["change a log doc", [], (d) => updateDoc(doc(d, `sites/${SITE}/logs/l1`), { level: "error" })],
  ["delete a log doc", [], (d) => deleteDoc(doc(d, `sites/${SITE}/logs/l1`))],
  ["read its processes", [...DASHBOARD, "agent of this machine"], (d) => getDocs(collection(d, `${machinePath()}/processes`))],
  ["report a crashed process", ["agent of this machine"], (d) => setDoc(doc(d, processPath()), crash())],
  ["delete a process", ["agent of this machine"], (d) => deleteDoc(doc(d, processPath()))],
  ["read the webhooks", DASHBOARD, (d) => getDocs(collection(d, `sites/${SITE}/webhooks`))],
  ["reset a webhook's failCount", [], (d) => updateDoc(doc(d, webhookPath()), { failCount: 0 })],
  ["read deliveries", DASHBOARD, (d) => getDoc(doc(d, `${webhookPath()}/deliveries/d1`))],
  ["write a delivery", [], (d) => updateDoc(doc(d, `${webhookPath()}/deliveries/d1`), { status: "failed" })],
  ["read the signing secret", [], (d) => getDoc(doc(d, `${webhookPath()}/private/signing`))],
  ["read API key hashes", [], (d) => getDoc(doc(d, "apiKeys/k1"))],
  ["read stored events", [], (d) => getDoc(doc(d, `sites/${SITE}/events/e1`))],
  // A recover's plan and progress: the management API shows it; no client reads or writes it.
  ["read a recovery", [], (d) => getDoc(doc(d, `${webhookPath()}/recoveries/r1`))],
  ["start a recovery by writing one", [], (d) => setDoc(doc(d, `${webhookPath()}/recoveries/r2`), { status: "running", items: ["e1"], step: 0 })],
  // An episode of flapping and the ledger's flag that holds its events back: only the pipeline's.
  ["read an episode of flapping", [], (d) => getDoc(doc(d, `sites/${SITE}/flaps/f1`))],
  ["end an episode of flapping early", [], (d) => deleteDoc(doc(d, `sites/${SITE}/flaps/f1`))],
  [
    "start an episode of flapping",
    [],
    (d) => setDoc(doc(d, `sites/${SITE}/flaps/f2`), { kind: "process", machineId: MACHINE, subject: "TD", checkAt: serverTimestamp() }),
  ],
  ["read the emission ledger", [], (d) => getDoc(doc(d, `sites/${SITE}/emissionLimits/ledger`))],
  ["lift the ledger's hold on a flapping subject", [], (d) => updateDoc(doc(d, `sites/${SITE}/emissionLimits/ledger`), { flapping: {} })],
  // The sweep's record of a silent machine and its floor: only the pipeline reads or writes them.
  ["read the sweep's stale mark", [], (d) => getDoc(doc(d, `sites/${SITE}/presence/${MACHINE}`))],
  ["clear the sweep's stale mark", [], (d) => deleteDoc(doc(d, `sites/${SITE}/presence/${MACHINE}`))],
  ["forge a stale mark", [], (d) => setDoc(doc(d, `sites/${SITE}/presence/${MACHINE}`), { lastHeartbeat: serverTimestamp(), staleSince: serverTimestamp() })],
  ["move the sweep floor", [], (d) => setDoc(doc(d, "pipelineState/sweep"), { floor: serverTimestamp() })],
  ["read the site's slow-lane pacing", [], (d) => getDoc(doc(d, `sites/${SITE}/laneShares/slow`))],
  ["reset the site's slow-lane pacing", [], (d) => setDoc(doc(d, `sites/${SITE}/laneShares/slow`), { tatMs: 0 })],
  // The host's server hands events and test requests over with the Admin SDK: no client, agents included.
  ["read an event the host handed over", [], (d) => getDoc(doc(d, `sites/${SITE}/hostReports/r1`))],
  [
    "hand over a forged host event",
    [],
    (d) =>
      setDoc(doc(d, `sites/${SITE}/hostReports/r2`), {
        event: "process.crashed",
        siteName: "Site A",
        data: { machine: { id: MACHINE }, process: { name: "x" } },
      }),
  ],
  ["read a host test request", [], (d) => getDoc(doc(d, "hostRequests/q1"))],
  ["ask for a test through the host's path", [], (d) => setDoc(doc(d, "hostRequests/q2"), { kind: "test", url: "https://example.com/h" })],
];

describe.each(RULES)("%s", (_rule, allowed, op) => {
  it.each(ALL)("%s", async (actor) => {
    if (allowed.includes(actor)) await assertSucceeds(op(db(actor)));
    else {
      await assertFails(op(db(actor)));
      // Denied: nothing written (had it not been denied, the test failed above and the next one seeds again).
      untouched = true;
    }
  });
});

describe("sites", () => {
  it("superadmin reads every site; a member only their own", async () => {
    await assertSucceeds(getDoc(doc(db("superadmin"), `sites/${OTHER_SITE}`)));
    await assertFails(getDoc(doc(db("member"), `sites/${OTHER_SITE}`)));
  });
});

describe("users", () => {
  it("a user cannot change their own role or sites", async () => {
    await assertFails(updateDoc(doc(db("member"), "users/member"), { role: "superadmin" }));
    await assertFails(updateDoc(doc(db("member"), "users/member"), { sites: [SITE, OTHER_SITE] }));
  });
});

describe("machines", () => {
  it.each<Actor>(["member", "admin", "superadmin", "agent of this machine"])("%s can read the machine", async (actor) => {
    await assertSucceeds(getDoc(doc(db(actor), machinePath())));
  });
  it.each<Actor>(["unauthenticated", "stranger", "agent of another machine", "agent of another site"])("%s cannot read the machine", async (actor) => {
    await assertFails(getDoc(doc(db(actor), machinePath())));
  });

  it("the agent of this machine can heartbeat (merge write with the server's clock)", async () => {
    await assertSucceeds(setDoc(doc(db("agent of this machine"), machinePath()), heartbeat(), { merge: true }));
  });
  it("the agent can create its machine doc and report a connection failure", async () => {
    await env.withSecurityRulesDisabled((ctx) => deleteDoc(doc(ctx.firestore(), machinePath())));
    await assertSucceeds(setDoc(doc(db("agent of this machine"), machinePath()), { ...heartbeat(), name: "Gallery PC", agent_version: "2.1.0" }));
    await assertSucceeds(
      setDoc(
        doc(db("agent of this machine"), machinePath()),
        { health: { status: "connection_failure", error_code: "E42", error_message: "timeout", last_checked_at: serverTimestamp() } },
        { merge: true },
      ),
    );
  });
  it.each<Actor>(["agent of another machine", "agent of another site", "admin", "superadmin", "member", "stranger", "unauthenticated"])(
    "%s cannot write the machine",
    async (actor) => {
      await assertFails(setDoc(doc(db(actor), machinePath()), heartbeat(), { merge: true }));
    },
  );
  it("the agent can neither forge nor clear its own stale mark, and fields no agent writes stay refused", async () => {
    const agent = db("agent of this machine");
    const presence = doc(agent, `sites/${SITE}/presence/${MACHINE}`);
    await assertFails(getDoc(presence));
    await assertFails(deleteDoc(presence));
    await assertFails(setDoc(presence, { lastHeartbeat: serverTimestamp() }, { merge: true }));
    // The old in-doc mark's fields mean nothing now, and are not in the agent's list either.
    await assertFails(setDoc(doc(agent, machinePath()), { offlineReason: "heartbeat_stale" }, { merge: true }));
    await assertFails(setDoc(doc(agent, machinePath()), { offlineSince: serverTimestamp() }, { merge: true }));
    // ...while its own heartbeat, with a mark standing, still goes through.
    await assertSucceeds(setDoc(doc(agent, machinePath()), heartbeat(), { merge: true }));
  });
  it("the agent's fields are type-checked", async () => {
    const ref = doc(db("agent of this machine"), machinePath());
    await assertFails(setDoc(ref, { online: "yes" }, { merge: true }));
    await assertFails(setDoc(ref, { lastHeartbeat: Timestamp.fromMillis(Date.now() + 3_600_000) }, { merge: true }));
    await assertFails(setDoc(ref, { machineId: "m2" }, { merge: true }));
    await assertFails(setDoc(ref, { siteId: OTHER_SITE }, { merge: true }));
    await assertFails(setDoc(ref, { name: "x".repeat(300) }, { merge: true }));
    await assertFails(setDoc(ref, { health: { status: "ok", shell: "rm -rf" } }, { merge: true }));
    await assertFails(setDoc(ref, { health: "ok" }, { merge: true }));
    await assertFails(setDoc(ref, { isAdmin: true }, { merge: true }));
  });
  it("nobody deletes a machine doc from a client", async () => {
    await assertFails(deleteDoc(doc(db("agent of this machine"), machinePath())));
    await assertFails(deleteDoc(doc(db("superadmin"), machinePath())));
  });
});

describe("processes", () => {
  it.each<Actor>(["member", "superadmin", "agent of this machine"])("%s can read processes", async (actor) => {
    await assertSucceeds(getDoc(doc(db(actor), processPath())));
    await assertSucceeds(getDocs(collection(db(actor), `${machinePath()}/processes`)));
  });
  it.each<Actor>(["stranger", "unauthenticated", "agent of another machine", "agent of another site"])("%s cannot read processes", async (actor) => {
    await assertFails(getDoc(doc(db(actor), processPath())));
  });
  it("the agent of this machine writes and deletes its processes", async () => {
    const agent = db("agent of this machine");
    await assertSucceeds(setDoc(doc(agent, processPath()), crash()));
    await assertSucceeds(setDoc(doc(agent, `${machinePath()}/processes/p2`), { name: "Resolume", status: "running", pid: null }));
    await assertSucceeds(deleteDoc(doc(agent, `${machinePath()}/processes/p2`)));
  });
  it.each<Actor>(["agent of another machine", "agent of another site", "admin", "superadmin", "member"])(
    "%s cannot write or delete the processes",
    async (actor) => {
      await assertFails(setDoc(doc(db(actor), processPath()), crash()));
      await assertFails(deleteDoc(doc(db(actor), processPath())));
    },
  );
  it("process fields are type-checked", async () => {
    const ref = doc(db("agent of this machine"), processPath());
    await assertFails(setDoc(ref, { ...crash(), pid: "4242" }));
    await assertFails(setDoc(ref, { ...crash(), exitCode: 1.5 }));
    await assertFails(setDoc(ref, { ...crash(), status: "x".repeat(65) }));
    await assertFails(setDoc(ref, { ...crash(), updatedAt: "yesterday" }));
    await assertFails(setDoc(ref, { ...crash(), command: "calc.exe" }));
  });
});

describe("webhooks and deliveries", () => {
  it.each<Actor>(["member", "admin", "owner", "superadmin"])("%s can read webhook docs and deliveries", async (actor) => {
    await assertSucceeds(getDoc(doc(db(actor), webhookPath())));
    await assertSucceeds(getDocs(collection(db(actor), `sites/${SITE}/webhooks`)));
    await assertSucceeds(getDoc(doc(db(actor), `${webhookPath()}/deliveries/d1`)));
  });
  it.each<Actor>(["unauthenticated", "stranger", "agent of this machine", "agent of another site"])(
    "%s cannot read webhook docs or deliveries",
    async (actor) => {
      await assertFails(getDoc(doc(db(actor), webhookPath())));
      await assertFails(getDocs(collection(db(actor), `sites/${SITE}/webhooks`)));
      await assertFails(getDoc(doc(db(actor), `${webhookPath()}/deliveries/d1`)));
    },
  );
  it.each<Actor>(["member", "admin", "owner", "superadmin", "agent of this machine"])(
    "%s cannot write webhooks, their health fields or deliveries",
    async (actor) => {
      const d = db(actor);
      await assertFails(updateDoc(doc(d, webhookPath()), { failCount: 0 }));
      await assertFails(updateDoc(doc(d, webhookPath()), { lastStatus: 200, enabled: true }));
      await assertFails(setDoc(doc(d, `sites/${SITE}/webhooks/w2`), { name: "x", url: "https://example.com", events: [], enabled: true }));
      await assertFails(deleteDoc(doc(d, webhookPath())));
      await assertFails(setDoc(doc(d, `${webhookPath()}/deliveries/d2`), { status: "succeeded" }));
      await assertFails(updateDoc(doc(d, `${webhookPath()}/deliveries/d1`), { status: "failed" }));
    },
  );
});

describe("server-only documents", () => {
  it.each<Actor>(["superadmin", "admin", "owner", "member", "agent of this machine"])("%s cannot read or write signing secrets", async (actor) => {
    const ref = doc(db(actor), `${webhookPath()}/private/signing`);
    await assertFails(getDoc(ref));
    await assertFails(setDoc(ref, { current: "whsec_mine" }));
  });
  it.each<Actor>(["superadmin", "admin", "member"])("%s cannot read or write API key hashes", async (actor) => {
    await assertFails(getDoc(doc(db(actor), "apiKeys/k1")));
    await assertFails(getDocs(collection(db(actor), "apiKeys")));
    await assertFails(setDoc(doc(db(actor), "apiKeys/k2"), { siteId: SITE, uid: actor, hash: "h", access: "write" }));
  });
  it.each<Actor>(["superadmin", "member", "agent of this machine"])("%s cannot read or write stored events", async (actor) => {
    await assertFails(getDoc(doc(db(actor), `sites/${SITE}/events/e1`)));
    await assertFails(setDoc(doc(db(actor), `sites/${SITE}/events/e2`), { type: "process.crashed", body: "{}" }));
  });
  it("the seeded data the denials are about exists (the denials are not for missing docs)", async () => {
    await env.withSecurityRulesDisabled(async (ctx) => {
      const admin = ctx.firestore();
      expect((await getDoc(doc(admin, `${webhookPath()}/private/signing`))).exists()).toBe(true);
      expect((await getDoc(doc(admin, "apiKeys/k1"))).exists()).toBe(true);
      expect((await getDoc(doc(admin, `sites/${SITE}/events/e1`))).exists()).toBe(true);
      expect((await getDoc(doc(admin, `sites/${SITE}/presence/${MACHINE}`))).exists()).toBe(true);
      expect((await getDoc(doc(admin, `sites/${SITE}/hostReports/r1`))).exists()).toBe(true);
      expect((await getDoc(doc(admin, "hostRequests/q1"))).exists()).toBe(true);
      expect((await getDoc(doc(admin, "pipelineState/sweep"))).exists()).toBe(true);
      expect((await getDoc(doc(admin, `sites/${SITE}/laneShares/slow`))).exists()).toBe(true);
    });
  });
});
