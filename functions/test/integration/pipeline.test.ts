import { FieldValue, Timestamp } from "firebase-admin/firestore";
import { REGION } from "../../src/config";
import { paths } from "../../src/data/paths";
import { EmissionStore } from "../../src/data/emission-store";
import type { ManagementStore } from "../../src/data/management-store";
import type { Store } from "../../src/data/store";
import { taskQueueEnqueue } from "../../src/delivery/task-queue";
import type { EventType } from "../../src/domain/event-catalog";
import { handleProcessWrite } from "../../src/triggers/on-process-written";
import { handlePresenceWrite } from "../../src/triggers/on-presence-written";
import { handleWebhookWrite } from "../../src/triggers/on-webhook-written";
import { heldPageDue } from "../../src/domain/emission-policy";
import { offlineEvent } from "../../src/domain/presence";
import { ingest } from "../../src/pipeline/ingest";
import { PresenceStore } from "../../src/data/presence-store";
import { runSweep } from "../../src/pipeline/sweep-pass";
import { Receiver } from "../../../scripts/lib/receiver";
import { hoursAgo, isSettled, silentLog, sleep, uniqueId, waitFor, startSuite } from "../support/emulator";
import { presenceOf, sweepFromScratch, sweepOne } from "../support/sweep";

jest.setTimeout(90_000);

let store: Store;
let manage: ManagementStore;
let receiver: Receiver;

beforeAll(async () => ({ store, manage, receiver } = await startSuite()));
afterAll(() => receiver.stop());

/** A site with one webhook pointing at its own path on the local receiver. */
async function siteWithWebhook(events: EventType[], responder?: Parameters<Receiver["register"]>[2]) {
  const siteId = uniqueId("site");
  const path = `/hooks/${siteId}`;
  await store.db.doc(paths.site(siteId)).set({ name: `Site ${siteId}`, owner: "owner-uid" });
  const { id: webhookId, secret } = await manage.createWebhook(siteId, {
    name: "Receiver",
    url: receiver.url(path),
    events,
    createdBy: "test",
  });
  receiver.register(path, secret, responder);
  const webhook = () => store.db.doc(paths.webhook(siteId, webhookId));
  return { siteId, path, webhookId, secret, webhook, received: () => receiver.at(path) };
}

const machine = (siteId: string, machineId: string) => store.db.doc(paths.machine(siteId, machineId));
const processDoc = (siteId: string, machineId: string, processId: string) => store.db.doc(`${paths.machine(siteId, machineId)}/processes/${processId}`);

async function crash(siteId: string, processId: string, machineId = "DESKTOP-ABC123") {
  await machine(siteId, machineId).set({ online: true, name: "Gallery PC 1", machineId, siteId, lastHeartbeat: FieldValue.serverTimestamp() }, { merge: true });
  await processDoc(siteId, machineId, processId).set({ name: "TouchDesigner", status: "running", pid: 1 });
  await processDoc(siteId, machineId, processId).set({ name: "TouchDesigner", status: "crashed", exitCode: -1073741819, pid: 1 });
}

async function deliveries(siteId: string, webhookId: string) {
  const snap = await store.db.collection(paths.deliveries(siteId, webhookId)).get();
  return snap.docs.map((d) => d.data());
}

describe("process.crashed", () => {
  it("delivers exactly one signed delivery in the Owlette format", async () => {
    const hook = await siteWithWebhook(["process.crashed"]);
    await crash(hook.siteId, "td");
    const [first] = await waitFor("the crash delivery", () => hook.received().length >= 1 && hook.received());
    await sleep(2000);
    expect(hook.received()).toHaveLength(1);
    expect(first?.verified).toBe(true);
    expect(first?.method).toBe("POST");
    expect(first?.headers["content-type"]).toBe("application/json");
    expect(first?.headers["user-agent"]).toMatch(/^Owlette-Webhooks\//);
    expect(first?.headers["webhook-id"]).toBe(first?.payload?.id);
    expect(first?.payload).toEqual({
      id: expect.stringMatching(/^evt_/),
      event: "process.crashed",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      site: { id: hook.siteId, name: `Site ${hook.siteId}` },
      data: {
        machineId: "DESKTOP-ABC123",
        machineName: "Gallery PC 1",
        processName: "TouchDesigner",
        errorMessage: "Process exited with code -1073741819",
        exitCode: -1073741819,
        processId: "td",
      },
    });
    const records = await waitFor("the delivery record", async () => {
      const all = await deliveries(hook.siteId, hook.webhookId);
      return isSettled(all[0], "succeeded") && all;
    });
    expect(records).toHaveLength(1);
    expect(records[0]?.attempts).toEqual([expect.objectContaining({ attempt: 1, status: 200, error: null, responseSnippet: "ok" })]);
    expect(records[0]?.expireAt).toBeInstanceOf(Timestamp);
    const webhook = (await hook.webhook().get()).data();
    expect(webhook).toMatchObject({ enabled: true, failCount: 0, lastStatus: 200 });
  });

  it("delivers once when the same trigger event is replayed", async () => {
    const hook = await siteWithWebhook(["process.crashed"]);
    await machine(hook.siteId, "m1").set({ online: true, name: "Lobby PC" });
    const write = {
      eventId: uniqueId("trigger"),
      occurredAt: new Date(),
      path: `${paths.machine(hook.siteId, "m1")}/processes/p1`,
      params: { siteId: hook.siteId, machineId: "m1", processId: "p1" },
      before: { name: "Resolume", status: "running" },
      after: { name: "Resolume", status: "crashed", exitCode: 1 },
    };
    const deps = { store, emissions: new EmissionStore(store.db), enqueue: taskQueueEnqueue(REGION), log: silentLog, now: () => new Date() };
    const first = await handleProcessWrite(write, deps);
    const second = await handleProcessWrite(write, deps);
    expect(first).toMatchObject([{ outcome: "emitted", webhooks: 1 }]);
    // The replay is recognised as the same report: same event, nothing sent again.
    expect(second).toEqual([{ ...first[0], outcome: "duplicate", webhooks: 0 }]);
    await waitFor("the delivery", () => hook.received().length >= 1);
    await sleep(2500);
    expect(hook.received()).toHaveLength(1);
    expect(hook.received()[0]?.payload?.id).toBe(first[0]?.eventId);
    expect(await deliveries(hook.siteId, hook.webhookId)).toHaveLength(1);
  });

  it("drops a malformed process doc without an event or an error loop", async () => {
    const hook = await siteWithWebhook(["process.crashed"]);
    await machine(hook.siteId, "m1").set({ online: true, name: "Lobby PC" });
    await processDoc(hook.siteId, "m1", "bad-type").set({ name: "TD", status: 42 });
    await processDoc(hook.siteId, "m1", "no-name").set({ status: "crashed" });
    await processDoc(hook.siteId, "m1", "huge").set({ name: "TD", status: "crashed", errorMessage: "e".repeat(100_000) });
    // A well-formed crash written afterwards proves the triggers ran, and gives them time to misbehave.
    await processDoc(hook.siteId, "m1", "good").set({ name: "TD", status: "crashed" });
    await waitFor("the good crash", () => hook.received().length >= 1);
    await sleep(2500);
    expect(hook.received().map((d) => d.payload?.data?.processId)).toEqual(["good"]);
    const events = await store.db.collection(`sites/${hook.siteId}/events`).get();
    expect(events.size).toBe(1);
  });
});

/** A second webhook of the site, subscribed to `events`, always answering 200. */
async function otherWebhook(siteId: string, events: EventType[]) {
  const path = `/hooks/${siteId}/other`;
  const { id, secret } = await manage.createWebhook(siteId, { name: "On call", url: receiver.url(path), events, createdBy: "test" });
  receiver.register(path, secret, () => 200);
  return { id, received: () => receiver.at(path) };
}

describe("webhook health", () => {
  it("disables a webhook after 10 consecutive failures and sends no 11th request; the site is told at 5, then at the switch-off", async () => {
    const hook = await siteWithWebhook(["process.crashed", "webhook.disabled", "webhook.failing"], () => 500);
    const onCall = await otherWebhook(hook.siteId, ["webhook.disabled", "webhook.failing"]);
    // Each event makes 5 attempts on the default schedule (the emulator dispatches at once).
    await crash(hook.siteId, "first");
    await waitFor("5 failed attempts", async () => isSettled((await deliveries(hook.siteId, hook.webhookId))[0], "failed"));
    expect(hook.received()).toHaveLength(5);
    expect((await hook.webhook().get()).data()).toMatchObject({ enabled: true, failCount: 5, lastStatus: 500 });
    // Halfway: the site's other webhook is told while this one still works.
    const [failing] = await waitFor("webhook.failing to the other webhook", () => onCall.received().length > 0 && onCall.received());
    expect(failing?.verified).toBe(true);
    expect(failing?.payload).toMatchObject({
      event: "webhook.failing",
      data: { webhookId: hook.webhookId, webhookName: "Receiver", failCount: 5, lastStatus: 500, disabledAfter: 10 },
    });
    expect(JSON.stringify(failing?.payload)).not.toContain(hook.path);

    await crash(hook.siteId, "second");
    const disabled = await waitFor("auto-disable", async () => {
      const data = (await hook.webhook().get()).data();
      return data?.enabled === false && data;
    });
    expect(disabled).toMatchObject({ enabled: false, failCount: 10, lastStatus: 500, disabledReason: "auto" });

    // The site's other webhook is told, once, signed, without the disabled one's URL.
    const notice = await waitFor("webhook.disabled to the other webhook", () => onCall.received().find((d) => d.payload?.event === "webhook.disabled"));
    expect(notice?.verified).toBe(true);
    expect(notice?.payload).toMatchObject({
      event: "webhook.disabled",
      site: { id: hook.siteId },
      data: { webhookId: hook.webhookId, webhookName: "Receiver", reason: "auto", failCount: 10, lastStatus: 500 },
    });
    expect(JSON.stringify(notice?.payload)).not.toContain(hook.path);

    await crash(hook.siteId, "third");
    await sleep(4000);
    expect(hook.received()).toHaveLength(10);
    expect(hook.received().every((d) => d.verified)).toBe(true);
    expect(hook.received().some((d) => d.payload?.event === "webhook.disabled" || d.payload?.event === "webhook.failing")).toBe(false);
    expect(onCall.received().map((d) => d.payload?.event)).toEqual(["webhook.failing", "webhook.disabled"]);
    const records = await deliveries(hook.siteId, hook.webhookId);
    expect(records.map((r) => r.status).sort()).toEqual(["failed", "failed"]);
  });

  it("a switch-off announced once, however late its trigger is redelivered", async () => {
    const siteId = uniqueId("site");
    await store.db.doc(paths.site(siteId)).set({ name: `Site ${siteId}`, owner: "owner-uid" });
    const onCall = await otherWebhook(siteId, ["webhook.disabled"]);
    const on = { name: "Relay", url: "https://relay.example/hook", enabled: true, failCount: 9, lastStatus: "timeout" };
    const write = {
      eventId: uniqueId("trigger-event"),
      occurredAt: new Date(),
      path: paths.webhook(siteId, "relay"),
      params: { siteId, webhookId: "relay" },
      before: on,
      after: { ...on, enabled: false, disabledReason: "auto", failCount: 10 },
    };
    const deps = { db: store.db, log: silentLog, now: () => new Date(), emit: { store, enqueue: taskQueueEnqueue(REGION), log: silentLog } };
    await handleWebhookWrite(write, deps);
    await waitFor("the announcement", () => onCall.received().length === 1);
    expect(onCall.received()[0]?.payload?.data).toEqual({ webhookId: "relay", webhookName: "Relay", reason: "auto", failCount: 10, lastStatus: "timeout" });
    // Redelivered after the first one was delivered: the event doc is there, the attempt finds its record.
    await handleWebhookWrite(write, deps);
    await sleep(3000);
    expect(onCall.received()).toHaveLength(1);
  });

  it("a webhook switched off by people is not announced", async () => {
    const hook = await siteWithWebhook(["process.crashed"]);
    const onCall = await otherWebhook(hook.siteId, ["webhook.disabled"]);
    await manage.setEnabled(hook.siteId, hook.webhookId, false, "manual");
    await manage.setEnabled(hook.siteId, hook.webhookId, true, "manual");
    await manage.setEnabled(hook.siteId, hook.webhookId, false, "paused");
    await sleep(3000);
    expect(onCall.received()).toEqual([]);
  });

  it("resets failCount on a 2xx after failed attempts, in one delivery record", async () => {
    const hook = await siteWithWebhook(["process.crashed"], (_d, n) => (n <= 2 ? 503 : 200));
    await crash(hook.siteId, "flaky");
    const [record] = await waitFor("the retried delivery", async () => {
      const all = await deliveries(hook.siteId, hook.webhookId);
      return isSettled(all[0], "succeeded") && all;
    });
    expect(record?.attempts.map((a: { status: number }) => a.status)).toEqual([503, 503, 200]);
    expect(new Set(hook.received().map((d) => d.payload?.id)).size).toBe(1);
    expect(new Set(hook.received().map((d) => d.headers["x-owlette-delivery"])).size).toBe(1);
    expect((await hook.webhook().get()).data()).toMatchObject({ enabled: true, failCount: 0, lastStatus: 200 });
  });
});

describe("machine events", () => {
  it("delivers machine.offline from the sweep and machine.online when the agent returns, leaving the machine doc as the agent wrote it", async () => {
    const hook = await siteWithWebhook(["machine.offline", "machine.online", "connection_failure"]);
    const ref = machine(hook.siteId, "kiosk");
    const written = { online: true, machineId: "kiosk", siteId: hook.siteId, name: "Kiosk", lastHeartbeat: hoursAgo(2) };
    await ref.set(written);
    const swept = await sweepFromScratch(store, { staleAfterMs: 30 * 60_000 });
    expect(swept.marked).toBeGreaterThanOrEqual(1);
    // The host's offline cron, its dashboard and the agent read this doc: the sweep never writes it.
    expect((await ref.get()).data()).toEqual(written);
    expect(await presenceOf(store, hook.siteId, "kiosk")).toMatchObject({
      lastHeartbeat: written.lastHeartbeat,
      staleSince: expect.any(Timestamp),
      name: "Kiosk",
    });
    const [offline] = await waitFor("machine.offline", () => hook.received().length >= 1 && hook.received());
    expect(offline?.payload).toMatchObject({ event: "machine.offline", data: { machineId: "kiosk", machineName: "Kiosk", reason: "heartbeat_stale" } });
    expect(offline?.verified).toBe(true);
    expect((await ref.get()).data()).toEqual(written);

    await ref.set({ online: true, lastHeartbeat: FieldValue.serverTimestamp() }, { merge: true });
    await waitFor("machine.online", () => hook.received().length >= 2);
    expect(hook.received()[1]?.payload).toMatchObject({ event: "machine.online", data: { machineId: "kiosk" } });
    await waitFor("the stale mark to be cleared", async () => (await presenceOf(store, hook.siteId, "kiosk")) === undefined);

    // A clean shutdown by the agent is not an outage.
    await ref.set({ online: false }, { merge: true });
    await sleep(3000);
    expect(hook.received()).toHaveLength(2);
  });

  it("delivers connection_failure with the agent's error code and message", async () => {
    const hook = await siteWithWebhook(["connection_failure"]);
    const ref = machine(hook.siteId, "m2");
    await ref.set({ online: true, name: "Stage PC", lastHeartbeat: FieldValue.serverTimestamp(), health: { status: "ok" } });
    await ref.set(
      {
        health: {
          status: "connection_failure",
          error_code: "UNAVAILABLE",
          error_message: "Firestore unreachable",
          last_error_at: FieldValue.serverTimestamp(),
        },
      },
      { merge: true },
    );
    const [delivery] = await waitFor("connection_failure", () => hook.received().length >= 1 && hook.received());
    expect(delivery?.verified).toBe(true);
    expect(delivery?.payload).toMatchObject({
      event: "connection_failure",
      data: { machineId: "m2", machineName: "Stage PC", errorCode: "UNAVAILABLE", errorMessage: "Firestore unreachable" },
    });
  });

  it("never marks a machine offline when its heartbeat lands between the sweep's query and its transaction", async () => {
    const hook = await siteWithWebhook(["machine.offline", "machine.online"]);
    const ref = machine(hook.siteId, "racer");
    await ref.set({ online: true, name: "Racer", lastHeartbeat: hoursAgo(1) });
    const cutoff = new Date(Date.now() - 10 * 60_000);
    const candidates = await new PresenceStore(store.db).findSilentMachines(hook.siteId, null, cutoff, 1000);
    expect(candidates.map((d) => d.ref.path)).toContain(ref.path);
    await ref.set({ online: true, lastHeartbeat: FieldValue.serverTimestamp() }, { merge: true });
    expect(await sweepOne(store, ref, 10 * 60_000)).toBe("none");
    expect(await presenceOf(store, hook.siteId, "racer")).toBeUndefined();
    await sleep(2000);
    expect(hook.received()).toHaveLength(0);
  });

  it("pages past machines in an announced reboot, and looks at them again when the announcement runs out", async () => {
    const hook = await siteWithWebhook(["machine.offline"]);
    // The oldest heartbeats of the whole suite, so these come first in the sweep's order.
    const old = (minutes: number) => Timestamp.fromMillis(Date.parse("2000-01-01T00:00:00Z") + minutes * 60_000);
    const inAMinute = Math.floor(Date.now() / 1000) + 60;
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        machine(hook.siteId, `rebooting-${i}`).set({ online: true, lastHeartbeat: old(i), rebooting: true, rebootScheduledAt: inAMinute }),
      ),
    );
    await machine(hook.siteId, "dead").set({ online: true, name: "Dead", lastHeartbeat: old(10) });
    const swept = await sweepFromScratch(store, { staleAfterMs: 30 * 60_000, pageSize: 2 });
    expect(swept.marked).toBeGreaterThanOrEqual(1);
    expect(swept.deferred).toBeGreaterThanOrEqual(5);
    expect(await presenceOf(store, hook.siteId, "dead")).toMatchObject({ staleSince: expect.any(Timestamp) });
    // Deferred, not marked: looked at again once the reboot's window (its instant + 15 min) has run out.
    const deferred = await presenceOf(store, hook.siteId, "rebooting-0");
    expect(deferred?.staleSince).toBeUndefined();
    expect((deferred?.dueAt as Timestamp).toMillis()).toBe(inAMinute * 1000 + 15 * 60_000 + 1000);
    expect((await machine(hook.siteId, "rebooting-0").get()).get("online")).toBe(true);
    await waitFor("machine.offline", () => hook.received().some((d) => d.payload?.data?.machineId === "dead"));

    // rebooting-0 came back; rebooting-1 is still silent when its window runs out.
    await machine(hook.siteId, "rebooting-0").set({ rebooting: false, lastHeartbeat: FieldValue.serverTimestamp() }, { merge: true });
    const afterWindow = new Date(inAMinute * 1000 + 15 * 60_000 + 2000);
    const later = await runSweep(new PresenceStore(store.db), { now: afterWindow, staleAfterMs: 30 * 60_000 });
    expect(later.remarked).toBeGreaterThanOrEqual(1);
    expect(await presenceOf(store, hook.siteId, "rebooting-0")).toBeUndefined();
    expect(await presenceOf(store, hook.siteId, "rebooting-1")).toMatchObject({ staleSince: expect.any(Timestamp) });
    await waitFor("machine.offline of the machine that never came back", () => hook.received().some((d) => d.payload?.data?.machineId === "rebooting-1"));
    expect(hook.received().some((d) => d.payload?.data?.machineId === "rebooting-0")).toBe(false);
  });

  it("an agent cannot stop offline detection by padding its machine doc: the sweep's state is not there", async () => {
    // An agent's own machine doc padded to just under the 1 MiB limit, with the oldest heartbeat
    // of the suite, so it comes first in the sweep's order. Its mark goes to a small presence doc.
    const paddedSite = uniqueId("padded");
    const padded = machine(paddedSite, "hog");
    let size = 1_048_576 - 120;
    for (; ; size -= 8) {
      try {
        await padded.set({ online: true, lastHeartbeat: Timestamp.fromMillis(Date.parse("1999-01-01T00:00:00Z")), capabilities: { pad: "x".repeat(size) } });
        break;
      } catch (error) {
        if (size < 1_048_000) throw error;
      }
    }
    const hook = await siteWithWebhook(["machine.offline"]);
    const victims = Array.from({ length: 25 }, (_, i) => machine(hook.siteId, `victim-${i}`));
    await Promise.all(victims.map((ref, i) => ref.set({ online: true, lastHeartbeat: Timestamp.fromMillis(Date.parse("1999-01-02T00:00:00Z") + i * 1000) })));
    const swept = await sweepFromScratch(store, { staleAfterMs: 30 * 60_000, pageSize: 10 });
    expect(swept.failed).toBe(0);
    expect(await presenceOf(store, paddedSite, "hog")).toMatchObject({ staleSince: expect.any(Timestamp) });
    const marks = await Promise.all(victims.map(async (ref) => (await presenceOf(store, hook.siteId, ref.id))?.staleSince));
    expect(marks.every((m) => m instanceof Timestamp)).toBe(true);
    await waitFor("25 machine.offline", () => new Set(hook.received().map((d) => d.payload?.data?.machineId)).size === 25, 60_000);
  });

  it("pairs every machine.offline with its machine.online when heartbeats and sweeps run concurrently", async () => {
    const hook = await siteWithWebhook(["machine.offline", "machine.online"]);
    const refs = Array.from({ length: 12 }, (_, i) => machine(hook.siteId, `m${i}`));
    await Promise.all(refs.map((ref) => ref.set({ online: true, lastHeartbeat: hoursAgo(1) })));
    await Promise.all(
      refs.flatMap((ref) => [sweepOne(store, ref, 10 * 60_000), ref.set({ online: true, lastHeartbeat: FieldValue.serverTimestamp() }, { merge: true })]),
    );
    // The sweep never writes the machine doc: whatever the interleaving, online stays the agent's.
    for (const ref of refs) expect((await ref.get()).get("online")).toBe(true);
    await waitFor("stale marks of machines that lost the race to be cleared", async () => {
      const left = await Promise.all(refs.map((r) => presenceOf(store, hook.siteId, r.id)));
      return left.every((p) => p === undefined);
    });
    // Every machine.offline that was delivered is paired with its machine.online.
    await sleep(3000);
    const byType = (t: string) =>
      hook
        .received()
        .filter((d) => d.payload?.event === t)
        .map((d) => d.payload?.data?.machineId)
        .sort();
    expect(byType("machine.online")).toEqual(byType("machine.offline"));
  });

  it("a page held back by the emission limit is held even when the mark's trigger is redelivered", async () => {
    // The presence trigger's handler, run in-process: its hold write fails the first time, so
    // Firestore redelivers the same write, which the ingest then sees as a duplicate report.
    const siteId = uniqueId("held");
    await store.db.doc(paths.site(siteId)).set({ name: "Held", owner: "o" });
    const holds: { staleSinceMs: number; until: Date }[] = [];
    let failNext = true;
    const presence = {
      holdPage: async (_s: string, _m: string, staleSince: { toMillis(): number }, until: Date) => {
        if (failNext) {
          failNext = false;
          throw new Error("the hold's transaction failed");
        }
        holds.push({ staleSinceMs: staleSince.toMillis(), until });
      },
    } as unknown as PresenceStore;
    const deps = { store, emissions: new EmissionStore(store.db), enqueue: async () => "enqueued" as const, log: silentLog, now: () => new Date(), presence };
    const markWrite = (staleSinceMs: number) => ({
      eventId: uniqueId("presence-trigger"),
      occurredAt: new Date(),
      path: paths.presence(siteId, "flappy"),
      params: { siteId, machineId: "flappy" },
      before: null,
      after: { lastHeartbeat: Timestamp.fromMillis(staleSinceMs - 300_000), staleSince: Timestamp.fromMillis(staleSinceMs), name: null },
    });
    // The machine's first outage this hour is paged; its second is held back.
    expect(await handlePresenceWrite(markWrite(Date.now() - 60_000), deps)).toMatchObject([{ outcome: "emitted", decision: "emitted" }]);
    const second = markWrite(Date.now());
    await expect(handlePresenceWrite(second, deps)).rejects.toThrow("the hold's transaction failed");
    expect(await handlePresenceWrite(second, deps)).toMatchObject([{ outcome: "duplicate", decision: "suppressed" }]);
    expect(holds).toEqual([{ staleSinceMs: second.after.staleSince.toMillis(), until: heldPageDue(second.occurredAt) }]);
  });

  it("a marked machine whose service restarts gets its machine.online: the clean stop's fresh heartbeat does not hide the return", async () => {
    const hook = await siteWithWebhook(["machine.offline", "machine.online"]);
    const ref = machine(hook.siteId, "restarted");
    await ref.set({ online: true, lastHeartbeat: hoursAgo(1) });
    expect(await sweepOne(store, ref)).toBe("mark");
    await waitFor("machine.offline", () => hook.received().length === 1);
    // The service stops cleanly (its heartbeat thread had hung), then starts again seconds later.
    await ref.set({ online: false, lastHeartbeat: FieldValue.serverTimestamp() }, { merge: true });
    await sleep(1500);
    await ref.set({ online: true, lastHeartbeat: FieldValue.serverTimestamp() }, { merge: true });
    await waitFor("machine.online", () => hook.received().some((d) => d.payload?.event === "machine.online"));
    await waitFor("the mark to be cleared", async () => (await presenceOf(store, hook.siteId, "restarted")) === undefined);
  });

  it("a machine an earlier version marked on its own doc gets its machine.online when it is back, paired with that version's machine.offline", async () => {
    const hook = await siteWithWebhook(["machine.offline", "machine.online"]);
    const ref = machine(hook.siteId, "legacy");
    const lastHeartbeat = hoursAgo(1);
    const offlineSince = Timestamp.fromMillis(lastHeartbeat.toMillis() + 215_000);
    // What the earlier sweep left: its mark on the machine doc, and its machine.offline sent.
    await ref.set({ online: false, lastHeartbeat, machineId: "legacy", name: "Legacy", offlineReason: "heartbeat_stale", offlineSince });
    const deps = { store, emissions: new EmissionStore(store.db), enqueue: taskQueueEnqueue(REGION), log: silentLog, now: () => new Date() };
    await ingest(
      { siteId: hook.siteId, channel: "sweep", reportId: "earlier-version", at: new Date() },
      [offlineEvent({ staleSince: offlineSince, lastHeartbeat, name: "Legacy" }, "legacy")],
      deps,
    );
    await waitFor("that version's machine.offline", () => hook.received().length === 1);

    // The agent is back (its merge knows nothing of the mark).
    await ref.set({ online: true, lastHeartbeat: FieldValue.serverTimestamp() }, { merge: true });
    await waitFor("machine.online", () => hook.received().some((d) => d.payload?.event === "machine.online"));
    await waitFor("the old fields removed", async () => (await ref.get()).get("offlineReason") === undefined);
    expect((await ref.get()).data()).toMatchObject({ online: true, name: "Legacy" });
    expect((await ref.get()).get("offlineSince")).toBeUndefined();
    await sleep(2500);
    expect(hook.received().map((d) => d.payload?.event)).toEqual(["machine.offline", "machine.online"]);
  });

  it("a deleted machine leaves no presence doc behind", async () => {
    const hook = await siteWithWebhook(["machine.offline"]);
    const ref = machine(hook.siteId, "retired");
    await ref.set({ online: true, lastHeartbeat: hoursAgo(1) });
    expect(await sweepOne(store, ref)).toBe("mark");
    await waitFor("machine.offline", () => hook.received().length === 1);
    await ref.delete();
    await waitFor("the presence doc to go", async () => (await presenceOf(store, hook.siteId, "retired")) === undefined);
    // Back and marked anew, then a late redelivery of the delete's trigger: the new mark stays.
    await ref.set({ online: true, lastHeartbeat: hoursAgo(1) });
    expect(await sweepOne(store, ref)).toBe("mark");
    await new PresenceStore(store.db).forget(hook.siteId, "retired");
    expect(await presenceOf(store, hook.siteId, "retired")).toMatchObject({ staleSince: expect.any(Timestamp) });
  });
});
