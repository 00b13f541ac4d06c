import { FieldValue, Timestamp } from "firebase-admin/firestore";
import { paths } from "../../src/data/paths";
import { RecoveryStore } from "../../src/data/recovery-store";
import type { Store } from "../../src/data/store";
import { sendHttp } from "../../src/delivery/http-sender";
import { systemResolver } from "../../src/delivery/resolve-destination";
import { answerEventId } from "../../src/domain/emission-policy";
import { deliveryIdFor } from "../../src/domain/ids";
import { RECOVERY } from "../../src/domain/recovery";
import { runRecoveryStep, startRecovery, type RecoverDeps, type RecoveryTask } from "../../src/pipeline/recover";
import type { Receiver } from "../../../scripts/lib/receiver";
import { rest } from "../support/api-client";
import { isSettled, silentLog, sleep, startSuite, uniqueId, waitFor } from "../support/emulator";
import { newSite as newSiteOf, type Site } from "../support/sites";

// Recover since (issue 24, item 4): a receiver down long enough for its webhook to be switched
// off; once it is fixed, one call re-sends what failed and what was missed meanwhile, in order,
// at a bounded pace, each under its own event id; nothing delivered is sent again.

jest.setTimeout(120_000);

/** The test project's delivery settings, for the recovery run in-process. */
const TEST_CONFIG = {
  deliveryTimeoutMs: 1500,
  fastLaneDeadlineMs: 700,
  staleAfterSeconds: 210,
  sweepPassesPerMinute: 6,
  presenceMode: "trigger" as const,
  retrySchedule: [0, 1, 2, 2, 2],
  slowLaneSiteShare: 5,
  allowLocalHttp: true,
};

let store: Store;
let receiver: Receiver;

beforeAll(async () => ({ store, receiver } = await startSuite()));
afterAll(() => receiver.stop());

/** A site whose one webhook's receiver answers 500 while `down`, else 200. */
async function siteWithFlakyHook(): Promise<{ site: Site; id: string; path: string; state: { down: boolean } }> {
  const site = await newSiteOf(store);
  const path = `/recover/${uniqueId("hook")}`;
  const state = { down: false };
  const res = await rest("POST", "/v1/webhooks", { key: site.adminKey, body: { name: "Ops", url: receiver.url(path), events: ["process.crashed"] } });
  if (res.status !== 201) throw new Error(`webhook not created: ${res.status}`);
  receiver.register(path, res.body.secret, () => (state.down ? 500 : 200));
  return { site, id: res.body.webhook.id, path, state };
}

async function crash(siteId: string, processId: string) {
  const machine = store.db.doc(paths.machine(siteId, "m1"));
  await machine.set({ online: true, name: "Lobby PC", machineId: "m1", siteId, lastHeartbeat: FieldValue.serverTimestamp() }, { merge: true });
  const ref = store.db.doc(`${paths.machine(siteId, "m1")}/processes/${processId}`);
  await ref.set({ name: "TouchDesigner", status: "running" });
  await ref.set({ name: "TouchDesigner", status: "crashed", exitCode: 1, updatedAt: FieldValue.serverTimestamp() });
}

const records = async (siteId: string, webhookId: string) => (await store.db.collection(paths.deliveries(siteId, webhookId)).get()).docs.map((d) => d.data());

async function recovered(site: Site, webhookId: string, recoveryId: string) {
  return waitFor(
    "the recovery to finish",
    async () => {
      const res = await rest("GET", `/v1/webhooks/${webhookId}/recoveries/${recoveryId}`, { key: site.memberKey });
      return res.body.recovery?.status !== "running" && res.body.recovery;
    },
    60_000,
  );
}

const processOf = (d: { payload: { data?: Record<string, unknown> } | null }) => d.payload?.data?.processId;

/** An event the webhook missed while off, `s` seconds into a window that began ten minutes ago. */
function missedEvent(siteId: string, webhookId: string, eventId: string, type: string, s: number) {
  const occurredAt = Timestamp.fromMillis(Date.now() - 600_000 + s * 1000);
  return store.db
    .doc(paths.event(siteId, eventId))
    .set({ id: eventId, type, body: JSON.stringify({ id: eventId, event: type }), occurredAt, missedBy: [webhookId] });
}

/** A recovery run in this process against the suite, over `store`: the test dispatches its steps (`steps`) as Cloud Tasks would. */
function inProcessRecovery(over: { store?: Store } = {}) {
  const steps: RecoveryTask[] = [];
  const deps: RecoverDeps = {
    store: over.store ?? store,
    send: sendHttp,
    resolve: systemResolver,
    now: () => new Date(),
    log: silentLog,
    config: { ...TEST_CONFIG },
    recoveries: new RecoveryStore(store.db),
    enqueueRecovery: async (task) => {
      steps.push(task);
      return "enqueued";
    },
  };
  return { deps, steps };
}

describe("recover since", () => {
  it("re-sends what failed and what was missed while off, in order, once each, stopping at a failure until the receiver is fixed", async () => {
    const { site, id, path, state } = await siteWithFlakyHook();
    await crash(site.siteId, "before");
    await waitFor("the healthy delivery", () => receiver.at(path).length === 1);
    const since = new Date().toISOString();

    // Down: two events fail five times each, and the webhook switches itself off.
    state.down = true;
    await crash(site.siteId, "a");
    await waitFor("a's five failures", async () => (await records(site.siteId, id)).some((r) => isSettled(r, "failed")));
    await crash(site.siteId, "b");
    await waitFor("the auto-disable", async () => (await store.db.doc(paths.webhook(site.siteId, id)).get()).get("enabled") === false);
    // Off: two more are missed (no delivery), each stored as missed by the webhook.
    await crash(site.siteId, "c");
    // A second apart, so that their order is their times' (a recovery breaks ties by event id).
    await sleep(1100);
    await crash(site.siteId, "d");
    const missed = await waitFor("the missed events stored", async () => {
      const events = await store.db.collection(paths.events(site.siteId)).where("missedBy", "array-contains", id).get();
      return events.size === 2 && events;
    });
    expect(receiver.at(path)).toHaveLength(11);
    const failedIds = [
      ...new Set(
        receiver
          .at(path)
          .slice(1)
          .map((d) => d.payload?.id),
      ),
    ];
    expect(failedIds).toHaveLength(2);

    // A switched-off webhook is not recovered into; bad windows are refused by field.
    const off = await rest("POST", `/v1/webhooks/${id}/recover`, { key: site.adminKey, body: { since } });
    expect(off).toMatchObject({ status: 409, body: { error: { code: "conflict" } } });
    expect(await rest("POST", `/v1/webhooks/${id}/enable`, { key: site.adminKey })).toMatchObject({ status: 200 });
    const future = await rest("POST", `/v1/webhooks/${id}/recover`, { key: site.adminKey, body: { since: new Date(Date.now() + 60_000).toISOString() } });
    expect(future).toMatchObject({ status: 400, body: { error: { code: "invalid_argument", details: [{ path: "since", reason: "must be in the past" }] } } });
    const member = await rest("POST", `/v1/webhooks/${id}/recover`, { key: site.memberKey, body: { since } });
    expect(member.status).toBe(403);

    // Still down: the first re-send fails, and the recovery stops there; nothing newer overtakes it.
    const first = await rest("POST", `/v1/webhooks/${id}/recover`, { key: site.adminKey, body: { since } });
    expect(first).toMatchObject({ status: 202, body: { recovery: { status: "running", total: 4, since } } });
    const stopped = await recovered(site, id, first.body.recovery.id);
    expect(stopped).toMatchObject({ status: "stopped", reason: "send_failed", sent: 0, remaining: 4, stoppedAt: failedIds[0] });
    expect(receiver.at(path)).toHaveLength(12);

    // Fixed: all four, oldest first, under their own event ids, no two closer than the pace.
    state.down = false;
    const before = receiver.at(path).length;
    const second = await rest("POST", `/v1/webhooks/${id}/recover`, { key: site.adminKey, body: { since } });
    expect(second).toMatchObject({ status: 202, body: { recovery: { total: 4 } } });
    expect(await recovered(site, id, second.body.recovery.id)).toMatchObject({ status: "done", sent: 4, remaining: 0, alreadyDelivered: 0 });
    const resent = receiver.at(path).slice(before);
    expect(resent.map(processOf)).toEqual(["a", "b", "c", "d"]);
    expect(resent.every((d) => d.verified)).toBe(true);
    expect(resent.slice(0, 2).map((d) => d.payload?.id)).toEqual(failedIds);
    expect(new Set(resent.slice(2).map((d) => d.payload?.id))).toEqual(new Set(missed.docs.map((e) => e.id)));
    const gaps = resent.slice(1).map((d, i) => d.receivedAt - resent[i]!.receivedAt);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000 / RECOVERY.perSecond - 30);
    // Every delivery of the window is now succeeded; the missed ones have a record of their own.
    const after = await records(site.siteId, id);
    expect(after.map((r) => r.status).sort()).toEqual(["succeeded", "succeeded", "succeeded", "succeeded", "succeeded"]);

    // Nothing left: a second recover of the same window plans nothing and sends nothing.
    const again = await rest("POST", `/v1/webhooks/${id}/recover`, { key: site.adminKey, body: { since } });
    expect(again).toMatchObject({ status: 202, body: { recovery: { status: "done", total: 0 } } });
    await sleep(1500);
    expect(receiver.at(path)).toHaveLength(before + 4);
  });

  it("one recovery at a time per webhook, and one that stopped moving gives way; it is read through its own webhook, by the site's members", async () => {
    const { site, id } = await siteWithFlakyHook();
    const since = new Date(Date.now() - 60_000).toISOString();
    const stuck = store.db.doc(paths.recovery(site.siteId, id, "rcv_stuck"));
    const running = { id: "rcv_stuck", siteId: site.siteId, webhookId: id, status: "running", items: ["evt_x"], questions: [], cursor: 0, total: 1, step: 0 };
    await stuck.set({ ...running, since: Timestamp.now(), until: Timestamp.now(), createdAt: Timestamp.now(), updatedAt: Timestamp.now() });
    const busy = await rest("POST", `/v1/webhooks/${id}/recover`, { key: site.adminKey, body: { since } });
    expect(busy).toMatchObject({ status: 409, body: { error: { code: "conflict", message: expect.stringContaining("rcv_stuck") } } });

    // Not moved for longer than a step's every dispatch can take: shown stopped, and a new one may start.
    await stuck.update({ updatedAt: Timestamp.fromMillis(Date.now() - RECOVERY.abandonedAfterMs - 60_000) });
    const shown = await rest("GET", `/v1/webhooks/${id}/recoveries/rcv_stuck`, { key: site.memberKey });
    expect(shown).toMatchObject({ status: 200, body: { recovery: { status: "stopped", reason: "abandoned", remaining: 1 } } });
    const next = await rest("POST", `/v1/webhooks/${id}/recover`, { key: site.adminKey, body: { since } });
    expect(next).toMatchObject({ status: 202, body: { recovery: { status: "done", total: 0 } } });
    expect((await stuck.get()).data()).toMatchObject({ status: "stopped", reason: "abandoned" });

    // Read through another webhook of the site, or from another site: not found.
    const other = await rest("POST", "/v1/webhooks", {
      key: site.adminKey,
      body: { name: "Other", url: receiver.url("/recover/other"), events: ["process.crashed"] },
    });
    expect((await rest("GET", `/v1/webhooks/${other.body.webhook.id}/recoveries/${next.body.recovery.id}`, { key: site.memberKey })).status).toBe(404);
    const stranger = await newSiteOf(store);
    expect((await rest("GET", `/v1/webhooks/${id}/recoveries/${next.body.recovery.id}`, { key: stranger.adminKey })).status).toBe(404);
    expect((await rest("GET", `/v1/webhooks/${id}/recoveries/rcv_nope`, { key: site.memberKey })).status).toBe(404);
  });

  it("a step dispatched twice at once sends each event once; an offline already answered is not re-sent; a refused event does not stop the rest", async () => {
    const { site, id, path } = await siteWithFlakyHook();
    const seed = (eventId: string, type: string, s: number) => missedEvent(site.siteId, id, eventId, type, s);
    const question = uniqueId("evt_offline");
    await Promise.all([
      seed(question, "machine.offline", 1),
      seed("evt_refused", "process.crashed", 2),
      seed("evt_ok1", "process.crashed", 3),
      seed("evt_ok2", "process.crashed", 4),
    ]);
    // The offline's answer reached the webhook already (delivered live once it was on again).
    await store.db.doc(paths.delivery(site.siteId, id, deliveryIdFor(answerEventId(question), id))).set({ status: "succeeded", attempts: [] });
    receiver.respondWith(path, (d) => (d.payload?.id === "evt_refused" ? 422 : 200));

    const { deps, steps } = inProcessRecovery();
    const started = await startRecovery({ siteId: site.siteId, webhookId: id }, { sinceMs: Date.now() - 3_600_000, untilMs: Date.now() }, "test", deps);
    expect(started).toMatchObject({ kind: "started", recovery: { total: 4 } });
    // Cloud Tasks dispatches the first step again while it runs: that dispatch is refused (and tried again later).
    const first = runRecoveryStep(steps[0]!, deps);
    await waitFor("the first re-send", () => receiver.at(path).length === 1);
    await expect(runRecoveryStep(steps[0]!, deps)).rejects.toThrow(/is being run by another dispatch/);
    await first;
    // Tried again after the first finished: it finds its step past and enqueues the next again (a duplicate).
    await runRecoveryStep(steps[0]!, deps);
    for (let i = 1; i < steps.length && i < 10; i++) await runRecoveryStep(steps[i]!, deps);
    const done = (await deps.recoveries.load({ siteId: site.siteId, webhookId: id, recoveryId: started.kind === "started" ? started.recovery.id : "" }))!;
    expect(done).toMatchObject({ status: "done", total: 4, answered: 1, rejected: 1, sent: 2 });
    expect(receiver.at(path).map((d) => d.payload?.id)).toEqual(["evt_refused", "evt_ok1", "evt_ok2"]);
  });

  it("a step that fails part way lets go of its step: its next dispatch goes on from there, sending nothing twice", async () => {
    const { site, id, path } = await siteWithFlakyHook();
    const at = (s: number) => Timestamp.fromMillis(Date.now() - 600_000 + s * 1000);
    for (const [n, eventId] of ["evt_r1", "evt_r2", "evt_r3"].entries()) await missedEvent(site.siteId, id, eventId, "process.crashed", n);
    // The second was also skipped while the webhook was off (a retry that came due): one event, one re-send.
    const skipped = store.db.doc(paths.delivery(site.siteId, id, deliveryIdFor("evt_r2", id)));
    await skipped.set({
      eventId: "evt_r2",
      eventType: "process.crashed",
      status: "skipped",
      skippedReason: "webhook_disabled",
      attempts: [],
      createdAt: at(1),
      updatedAt: at(1),
    });
    // Firestore unavailable a moment: the second re-send's read throws.
    let reads = 0;
    const flaky = Object.assign(Object.create(Object.getPrototypeOf(store)) as Store, store, {
      reads: Object.assign(Object.create(Object.getPrototypeOf(store.reads)) as Store["reads"], store.reads, {
        loadDeliveryContext: (ids: Parameters<Store["reads"]["loadDeliveryContext"]>[0]) => {
          if (++reads === 2) return Promise.reject(new Error("14 UNAVAILABLE: try again"));
          return store.reads.loadDeliveryContext(ids);
        },
      }),
    });
    const { deps, steps } = inProcessRecovery({ store: flaky });
    const started = await startRecovery({ siteId: site.siteId, webhookId: id }, { sinceMs: Date.now() - 3_600_000, untilMs: Date.now() }, "test", deps);
    const recoveryId = started.kind === "started" ? started.recovery.id : "";
    await expect(runRecoveryStep(steps[0]!, deps)).rejects.toThrow(/UNAVAILABLE/);
    expect(await deps.recoveries.load({ siteId: site.siteId, webhookId: id, recoveryId })).toMatchObject({ status: "running", step: 0, cursor: 1, sent: 1 });
    // Cloud Tasks dispatches it again: not refused as held, and on from the second event.
    await runRecoveryStep(steps[0]!, deps);
    expect(await deps.recoveries.load({ siteId: site.siteId, webhookId: id, recoveryId })).toMatchObject({ status: "done", sent: 3 });
    expect(receiver.at(path).map((d) => d.payload?.id)).toEqual(["evt_r1", "evt_r2", "evt_r3"]);
    // Delivered now, it is no longer skipped, and says so.
    const after = (await skipped.get()).data();
    expect(after).toMatchObject({ status: "succeeded" });
    expect(after?.skippedReason).toBeUndefined();
  });
});
