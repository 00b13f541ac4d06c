import { readFileSync } from "node:fs";
import { join } from "node:path";
import { assertFails, assertSucceeds, initializeTestEnvironment, type RulesTestEnvironment } from "@firebase/rules-unit-testing";
import { collection, deleteDoc, doc, getDoc, getDocs, serverTimestamp, setDoc, Timestamp, updateDoc, type Firestore } from "firebase/firestore";
import { compose } from "../../../scripts/host/compose";

// Host mode: the host-like ruleset (fixtures/host, written from the host's documented path
// shapes) composed with the pipeline's by `npm run host:compose`, loaded in the emulator beside
// the host's ruleset alone. Every host operation must come out the same under both; the
// pipeline's paths get the pipeline's guarantees.
const root = join(__dirname, "..", "..", "..");
const fixtures = join(__dirname, "..", "fixtures", "host");
const read = (p: string) => ({ text: readFileSync(p, "utf8"), file: p });
const SITE = "site-a";
const OTHER = "site-b";
const M = "m1";

const composed = compose({
  hostRules: read(join(fixtures, "firestore.rules")),
  hostIndexes: read(join(fixtures, "firestore.indexes.json")),
  pipelineRules: read(join(root, "firestore.host.rules")),
  pipelineIndexes: read(join(root, "firestore.indexes.json")),
  functionsSource: "../functions",
});

let hostOnly: RulesTestEnvironment;
let hosted: RulesTestEnvironment;

type Actor = "unauthenticated" | "member" | "admin" | "stranger" | "soft-deleted" | "superadmin" | "agent" | "other agent" | "agent of another site";
const ACTORS: Actor[] = ["unauthenticated", "member", "admin", "stranger", "soft-deleted", "superadmin", "agent", "other agent", "agent of another site"];

function db(env: RulesTestEnvironment, actor: Actor): Firestore {
  const claims: Partial<Record<Actor, Record<string, string>>> = {
    agent: { role: "agent", site_id: SITE, machine_id: M },
    "other agent": { role: "agent", site_id: SITE, machine_id: "m2" },
    "agent of another site": { role: "agent", site_id: OTHER, machine_id: M },
  };
  if (actor === "unauthenticated") return env.unauthenticatedContext().firestore() as unknown as Firestore;
  return env.authenticatedContext(actor.replace(/ /g, "-"), claims[actor]).firestore() as unknown as Firestore;
}

async function seed(env: RulesTestEnvironment) {
  await env.clearFirestore();
  await env.withSecurityRulesDisabled(async (ctx) => {
    const admin = ctx.firestore();
    const put = (path: string, data: Record<string, unknown>) => setDoc(doc(admin, path), data);
    await Promise.all([
      put("users/member", { role: "member", sites: [SITE] }),
      put("users/admin", { role: "admin", sites: [SITE] }),
      put("users/stranger", { role: "admin", sites: [OTHER] }),
      put("users/soft-deleted", { role: "admin", sites: [SITE], deletedAt: Timestamp.now() }),
      put("users/superadmin", { role: "superadmin", sites: [] }),
      put(`sites/${SITE}`, { name: "A", owner: "admin" }),
      put(`sites/${SITE}/machines/${M}`, { online: true, lastHeartbeat: Timestamp.now(), machineId: M }),
      put(`sites/${SITE}/machines/${M}/commands/c1`, { type: "restart", status: "pending" }),
      put(`config/${SITE}/machines/${M}`, { processes: [] }),
      put(`sites/${SITE}/webhooks/w1`, { url: "https://example.com/h", events: ["process.crashed"], enabled: true, failCount: 0 }),
      put(`sites/${SITE}/webhooks/w1/private/signing`, { current: "whsec_x" }),
      put(`sites/${SITE}/webhooks/w1/deliveries/d1`, { status: "succeeded" }),
      put(`sites/${SITE}/events/e1`, { type: "process.crashed" }),
      put(`sites/${SITE}/webhooks/w1/recoveries/r1`, { status: "running", items: ["e1"], step: 0 }),
      put(`sites/${SITE}/flaps/f1`, { kind: "machine", machineId: M, subject: "presence", checkAt: Timestamp.now() }),
      put(`sites/${SITE}/emissionLimits/ledger`, { window: 1, flapping: { k: { sinceMs: 1, machine: "m" } } }),
      put("apiKeys/k1", { siteId: SITE, hash: "h" }),
      put(`sites/${SITE}/presence/${M}`, { lastHeartbeat: Timestamp.now(), staleSince: Timestamp.now() }),
      put(`sites/${SITE}/hostReports/r1`, { event: "process.crashed", siteName: "A", data: { machine: { id: M } } }),
      put("hostRequests/q1", { kind: "test", url: "https://example.com/h", siteId: SITE, webhookId: "w1" }),
      put("pipelineState/sweep", { floor: Timestamp.now() }),
      put("installer_metadata/latest", { version: "2.12.12" }),
    ]);
  });
}

beforeAll(async () => {
  const [host, port] = (process.env.FIRESTORE_EMULATOR_HOST ?? "").split(":");
  if (!host || !port) throw new Error("FIRESTORE_EMULATOR_HOST is not set: run through `npm run test:emulator`");
  const firestore = (rules: string) => ({ host, port: Number(port), rules });
  hostOnly = await initializeTestEnvironment({ projectId: "demo-owlette-host-only", firestore: firestore(read(join(fixtures, "firestore.rules")).text) });
  // Loading the composed ruleset is itself a check: the emulator refuses one that does not compile.
  hosted = await initializeTestEnvironment({ projectId: "demo-owlette-hosted", firestore: firestore(composed.files["firestore.rules"]) });
});

afterAll(async () => {
  await hostOnly?.cleanup();
  await hosted?.cleanup();
});

// Seeded once: every operation below is denied or idempotent, so outcomes never depend on order.
beforeAll(async () => {
  await seed(hostOnly);
  await seed(hosted);
});

const machine = `sites/${SITE}/machines/${M}`;

/** The host's own operations, with who the host's rules allow. */
const HOST_OPS: [string, Actor[], (d: Firestore) => Promise<unknown>][] = [
  [
    "heartbeat with any field of its machine doc",
    ["agent"],
    (d) => setDoc(doc(d, machine), { lastHeartbeat: serverTimestamp(), "cortexStatus.state": "idle" }, { merge: true }),
  ],
  ["read its config doc", ["member", "admin", "superadmin", "agent"], (d) => getDoc(doc(d, `config/${SITE}/machines/${M}`))],
  ["write its config doc", ["member", "admin", "superadmin", "agent"], (d) => setDoc(doc(d, `config/${SITE}/machines/${M}`), { processes: [{ name: "TD" }] })],
  ["complete a command", ["member", "admin", "superadmin", "agent"], (d) => updateDoc(doc(d, `${machine}/commands/c1`), { status: "completed" })],
  ["write installed software", ["agent"], (d) => setDoc(doc(d, `${machine}/installed_software/s1`), { name: "TouchDesigner" })],
  ["write a metrics bucket", ["agent"], (d) => setDoc(doc(d, `${machine}/metrics_history/b1`), { samples: [] })],
  ["write cortex state", ["agent"], (d) => setDoc(doc(d, `${machine}/cortex/state`), { ok: true })],
  [
    "create a log doc",
    ["agent", "other agent"],
    (d) =>
      setDoc(doc(d, `sites/${SITE}/logs/l-${Math.random().toString(36).slice(2)}`), { action: "process_crash", machineId: M, timestamp: serverTimestamp() }),
  ],
  ["update the member's preferences", ["member"], (d) => updateDoc(doc(d, "users/member"), { preferences: { theme: "dark" } })],
  ["change the member's role", [], (d) => updateDoc(doc(d, "users/member"), { role: "superadmin" })],
  ["read the member's user doc", ["member"], (d) => getDoc(doc(d, "users/member"))],
  ["read the public installer metadata", ACTORS, (d) => getDoc(doc(d, "installer_metadata/latest"))],
  ["read the site", ["member", "admin", "superadmin"], (d) => getDoc(doc(d, `sites/${SITE}`))],
  ["write site settings", ["member", "admin", "superadmin"], (d) => setDoc(doc(d, `sites/${SITE}/settings/alerts`), { rules: [] })],
];

describe.each(HOST_OPS)("host path: %s", (_name, allowed, op) => {
  it.each(ACTORS)("%s: the same outcome as under the host's rules alone", async (actor) => {
    const outcome = async (env: RulesTestEnvironment) =>
      op(db(env, actor)).then(
        () => "allowed",
        () => "denied",
      );
    const [alone, composedOutcome] = [await outcome(hostOnly), await outcome(hosted)];
    expect(composedOutcome).toBe(alone);
    expect(composedOutcome).toBe(allowed.includes(actor) ? "allowed" : "denied");
  });
});

describe("pipeline paths in host mode", () => {
  it.each<Actor>(["member", "admin", "superadmin"])("%s reads webhook docs and their deliveries", async (actor) => {
    await assertSucceeds(getDoc(doc(db(hosted, actor), `sites/${SITE}/webhooks/w1`)));
    await assertSucceeds(getDocs(collection(db(hosted, actor), `sites/${SITE}/webhooks/w1/deliveries`)));
  });
  it("delivery history is the pipeline's addition: the host's rules alone do not open it", async () => {
    await assertFails(getDoc(doc(db(hostOnly, "member"), `sites/${SITE}/webhooks/w1/deliveries/d1`)));
  });
  it.each<Actor>(["unauthenticated", "stranger", "soft-deleted", "agent", "agent of another site"])("%s reads no delivery history", async (actor) => {
    await assertFails(getDoc(doc(db(hosted, actor), `sites/${SITE}/webhooks/w1/deliveries/d1`)));
    await assertFails(getDocs(collection(db(hosted, actor), `sites/${SITE}/webhooks/w1/deliveries`)));
  });
  it.each(ACTORS)("%s cannot write deliveries, read or write secrets, events, API key records or the sweep's state", async (actor) => {
    const d = db(hosted, actor);
    await assertFails(updateDoc(doc(d, `sites/${SITE}/webhooks/w1/deliveries/d1`), { status: "failed" }));
    await assertFails(getDoc(doc(d, `sites/${SITE}/webhooks/w1/private/signing`)));
    await assertFails(setDoc(doc(d, `sites/${SITE}/webhooks/w1/private/signing`), { current: "whsec_mine" }));
    await assertFails(getDoc(doc(d, `sites/${SITE}/events/e1`)));
    await assertFails(getDoc(doc(d, `sites/${SITE}/webhooks/w1/recoveries/r1`)));
    await assertFails(setDoc(doc(d, `sites/${SITE}/webhooks/w1/recoveries/r2`), { status: "running", items: [], step: 0 }));
    await assertFails(getDoc(doc(d, `sites/${SITE}/flaps/f1`)));
    await assertFails(deleteDoc(doc(d, `sites/${SITE}/flaps/f1`)));
    await assertFails(getDoc(doc(d, `sites/${SITE}/emissionLimits/ledger`)));
    await assertFails(updateDoc(doc(d, `sites/${SITE}/emissionLimits/ledger`), { flapping: {} }));
    await assertFails(getDoc(doc(d, "apiKeys/k1")));
    await assertFails(deleteDoc(doc(d, `sites/${SITE}/webhooks/w1`)));
    await assertFails(getDoc(doc(d, `sites/${SITE}/presence/${M}`)));
    await assertFails(deleteDoc(doc(d, `sites/${SITE}/presence/${M}`)));
    await assertFails(setDoc(doc(d, "pipelineState/sweep"), { floor: Timestamp.now() }));
    // What the host's server hands over with the Admin SDK (integrations/owlette-host): nobody else.
    await assertFails(getDoc(doc(d, `sites/${SITE}/hostReports/r1`)));
    await assertFails(setDoc(doc(d, `sites/${SITE}/hostReports/r2`), { event: "process.crashed", siteName: "A", data: { machine: { id: M } } }));
    await assertFails(getDoc(doc(d, "hostRequests/q1")));
    await assertFails(setDoc(doc(d, "hostRequests/q2"), { kind: "test", url: "https://example.com/h" }));
  });
  it("a member cannot change a webhook's health fields (the host allows only trusted service tokens)", async () => {
    await assertFails(updateDoc(doc(db(hosted, "admin"), `sites/${SITE}/webhooks/w1`), { failCount: 0, enabled: true }));
  });
  it("the seeded docs exist, so the denials above are not for missing docs", async () => {
    await hosted.withSecurityRulesDisabled(async (ctx) => {
      for (const p of [
        `sites/${SITE}/webhooks/w1/private/signing`,
        `sites/${SITE}/events/e1`,
        `sites/${SITE}/webhooks/w1/recoveries/r1`,
        "apiKeys/k1",
        `sites/${SITE}/webhooks/w1/deliveries/d1`,
        `sites/${SITE}/presence/${M}`,
        "pipelineState/sweep",
        `sites/${SITE}/hostReports/r1`,
        "hostRequests/q1",
      ]) {
        expect((await getDoc(doc(ctx.firestore(), p))).exists()).toBe(true);
      }
    });
  });
});
