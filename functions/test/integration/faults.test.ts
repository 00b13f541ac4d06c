import { Timestamp } from "firebase-admin/firestore";
import { paths } from "../../src/data/paths";
import type { ManagementStore } from "../../src/data/management-store";
import type { Store } from "../../src/data/store";
import { REGION } from "../../src/config";
import { taskQueueEnqueue } from "../../src/delivery/task-queue";
import { AUTO_DISABLE_AFTER, failureKey } from "../../src/domain/webhook-health";
import { Receiver, type Responder } from "../../../scripts/lib/receiver";
import { seedPendingDelivery, sleep, startSuite, waitFor } from "../support/emulator";
import { hookOnReceiver } from "../support/hooks";

// Receivers misbehaving in every way the fault suite names. Others live beside the features
// they test: 500/retries and a replayed trigger (pipeline), 410, redirect to loopback, hang
// (delivery engine), a webhook deleted with deliveries pending (management API), heartbeats
// racing the sweep (pipeline). The delivery deadline here is 1.5 s (.env.demo-owlette-test).

jest.setTimeout(90_000);

let store: Store;
let manage: ManagementStore;
let receiver: Receiver;

beforeAll(async () => ({ store, manage, receiver } = await startSuite()));
afterAll(() => receiver.stop());

const hookWith = (responder: Responder) => hookOnReceiver({ store, manage, receiver }, responder, { label: "Faults" });

type AttemptRow = { status: number | null; error: string | null; durationMs: number | null; responseSnippet: string | null };

describe("fault suite", () => {
  it("retries after the receiver resets the connection", async () => {
    const hook = await hookWith((_d, n) => (n === 1 ? "reset" : 200));
    await hook.crash("p1");
    const [record] = await hook.settled("the delivery after a reset");
    expect(record?.status).toBe("succeeded");
    // A reset is recorded as the probe would say it: unreachable, without detail or time.
    expect((record?.attempts as AttemptRow[]).map((a) => a.status ?? a.error)).toEqual(["unreachable", 200]);
    expect(record?.attempts[0]).toMatchObject({ status: null, error: "unreachable", durationMs: null, responseSnippet: null });
  });

  it("reads 1 KiB of a huge response body and hangs up", async () => {
    const hook = await hookWith(() => ({ status: 200, stream: { bytes: 256 * 1024 * 1024, chunk: 64 * 1024, everyMs: 0 } }));
    await hook.crash("p1");
    const [record] = await hook.settled("the delivery to a huge body");
    const [attempt] = record?.attempts as AttemptRow[];
    expect(record?.status).toBe("succeeded");
    expect(attempt?.responseSnippet).toHaveLength(1024);
    await waitFor("the receiver to see the hang-up", () => hook.received()[0]?.streamed !== undefined);
    // The sender dropped the connection long before 256 MiB (socket buffers let some through).
    expect(hook.received()[0]?.streamed).toBeLessThan(32 * 1024 * 1024);
  });

  it("cuts off a receiver that answers byte by byte at the fast lane's deadline, keeping its status, and marks it slow", async () => {
    const hook = await hookWith(() => ({ status: 200, stream: { bytes: 100, chunk: 1, everyMs: 200 } }));
    await hook.crash("p1");
    const [record] = await hook.settled("the dripping delivery");
    const [attempt] = record?.attempts as AttemptRow[];
    expect(attempt?.status).toBe(200);
    // A status in hand is an answer: recorded, not moved; its next deliveries go to the slow lane.
    expect(attempt?.durationMs).toBeGreaterThanOrEqual(650);
    expect(attempt?.durationMs).toBeLessThan(5000);
    expect(hook.received()).toHaveLength(1);
    expect(((await hook.webhook())?.slowUntil as FirebaseFirestore.Timestamp).toMillis()).toBeGreaterThan(Date.now());
    expect((attempt?.responseSnippet ?? "").length).toBeLessThan(20);
    await waitFor("the receiver to see the hang-up", () => hook.received()[0]?.streamed !== undefined);
    expect(hook.received()[0]?.streamed).toBeLessThan(100);
  });

  it("honours 429 with Retry-After: the next attempt is scheduled no earlier than asked", async () => {
    let pendingRecord: FirebaseFirestore.DocumentData | undefined;
    // Attempt 2 hangs until the deadline so the pending state between attempts can be read.
    // (Request 2 is attempt 2 cut at the fast lane's deadline, request 3 the same attempt in the slow lane.)
    // Retry-After 4 s is longer than the test project's 1 s before attempt 2.
    const hook = await hookWith((_d, n) => (n === 1 ? { status: 429, headers: { "Retry-After": "4" } } : n <= 3 ? "hang" : 200));
    receiver.onDelivery((d) => {
      if (d.path !== hook.path || hook.received().length !== 2) return;
      void hook.records().then(([r]) => (pendingRecord = r));
    });
    await hook.crash("p1");
    const [record] = await hook.settled("the delivery after a 429");
    expect(pendingRecord).toMatchObject({ status: "pending", nextAttempt: 2 });
    const firstAt = (pendingRecord?.attempts[0].at as FirebaseFirestore.Timestamp).toMillis();
    const dueAt = (pendingRecord?.nextAttemptAt as FirebaseFirestore.Timestamp).toMillis();
    expect(dueAt - firstAt).toBeGreaterThanOrEqual(4_000);
    // And the suite keeps that time: the second request came no earlier.
    const [first, second] = hook.received();
    expect((second?.receivedAt as number) - (first?.receivedAt as number)).toBeGreaterThanOrEqual(4_000);
    expect((record?.attempts as AttemptRow[]).map((a) => a.status ?? a.error)).toEqual([429, "unreachable", 200]);
  });

  it("a burst of concurrent failures on one webhook counts exactly to 10 and disables it once", async () => {
    const hook = await hookWith(() => 500);
    const crashes = 12;
    let disabledSnapshots = 0;
    let wasEnabled = true;
    const stop = store.db.doc(paths.webhook(hook.siteId, hook.webhookId)).onSnapshot((snap) => {
      const enabled = snap.get("enabled");
      if (wasEnabled && enabled === false) disabledSnapshots++;
      wasEnabled = enabled !== false;
    });
    const burst = async () => {
      await Promise.all(Array.from({ length: crashes }, (_, i) => hook.crash(`p${i}`)));
      // Every crash handled first: one whose fan-out runs after the auto-disable makes no delivery.
      await waitFor("every crash to be handled", async () => {
        // An event out is its event doc, written with its decision.
        return (await store.db.collection(`sites/${hook.siteId}/events`).get()).size === crashes;
      });
      const deliveries = (await store.db.collection(`sites/${hook.siteId}/events`).where("webhookIds", "array-contains", hook.webhookId).get()).size;
      // Enough deliveries (5 attempts each) to reach the disable threshold.
      expect(deliveries * 5).toBeGreaterThanOrEqual(AUTO_DISABLE_AFTER);
      // Each outcome is applied in the commit that records it: no retry wave to wait for.
      await hook.settled("every delivery to settle", deliveries, 60_000);
      const received = hook.received().length;
      await sleep(2000);

      expect(await hook.webhook()).toMatchObject({ enabled: false, disabledReason: "auto", failCount: AUTO_DISABLE_AFTER });
      expect(disabledSnapshots).toBe(1);
      // Nothing after the disable but attempts already in flight (at most one per delivery).
      expect(hook.received().length).toBe(received);
      expect(received).toBeGreaterThanOrEqual(AUTO_DISABLE_AFTER);
      expect(received).toBeLessThanOrEqual(AUTO_DISABLE_AFTER + deliveries);
      const records = await hook.records();
      const attempts = records.reduce((n, r) => n + ((r.attempts as unknown[] | undefined)?.length ?? 0), 0);
      expect(attempts).toBe(received);
      expect(records.every((r) => r.status === "failed" || r.status === "skipped")).toBe(true);
    };
    try {
      await burst();
    } finally {
      stop();
    }
  }, 180_000);

  it("a handler that died between recording an attempt and updating the webhook is finished once on retry, without sending again", async () => {
    const hook = await hookWith(() => 500);
    const eventId = "evt_half_recorded";
    const deliveryId = `dlv_half_${hook.siteId}`;
    const now = Timestamp.now();
    // Attempt 1 recorded, its outcome never applied to the webhook.
    await seedPendingDelivery(
      store,
      { siteId: hook.siteId, webhookId: hook.webhookId, eventId, deliveryId },
      {
        nextAttemptAt: now,
        healthPending: { "1": { attempt: 1, ok: false, gone: false, lastStatus: 500, at: now } },
      },
    );
    // Cloud Tasks redelivers attempt 1 after the handler failed.
    await taskQueueEnqueue(REGION)({ siteId: hook.siteId, webhookId: hook.webhookId, eventId, deliveryId, attempt: 1 }, 0);
    // Settling includes every parked outcome reaching the webhook: one left behind times out here.
    const [record] = await hook.settled("the rest of the schedule");
    expect((record?.attempts as AttemptRow[]).map((a) => a.status)).toEqual([500, 500, 500, 500, 500]);
    // Attempt 1 counted once (not twice, not lost) and never sent again: 4 requests for 2..5.
    expect(hook.received()).toHaveLength(4);
    expect(await hook.webhook()).toMatchObject({ failCount: 5, lastStatus: 500, enabled: true });
  });

  it("a handler that died after recording the 10th failure but before acting on it: its redispatch switches the webhook off, sending nothing", async () => {
    const hook = await hookWith(() => 500);
    const eventId = "evt_tenth";
    const deliveryId = `dlv_tenth_${hook.siteId}`;
    const at = Timestamp.now();
    // The 10th failure's commit landed (record + failCount + its key), then the handler died.
    const key = failureKey(at.toMillis(), deliveryId, 1);
    const earlier = Array.from({ length: 9 }, (_, i) => failureKey(at.toMillis() - 60_000 + i, `dlv_${i}`, 1));
    await store.db.doc(paths.webhook(hook.siteId, hook.webhookId)).update({ failCount: 10, failStreak: [...earlier, key], lastStatus: 500 });
    await seedPendingDelivery(
      store,
      { siteId: hook.siteId, webhookId: hook.webhookId, eventId, deliveryId },
      {
        attempts: [{ attempt: 1, at, status: 500, error: null, durationMs: 3, responseSnippet: "not ok" }],
        nextAttemptAt: at,
      },
    );
    await taskQueueEnqueue(REGION)({ siteId: hook.siteId, webhookId: hook.webhookId, eventId, deliveryId, attempt: 1 }, 0);
    const webhook = await waitFor("the webhook to be switched off", async () => {
      const w = await hook.webhook();
      return w?.enabled === false && w;
    });
    expect(webhook).toMatchObject({ enabled: false, disabledReason: "auto", failCount: 10 });
    const [record] = await hook.settled("the delivery to stop");
    expect(record).toMatchObject({ status: "failed", nextAttempt: null });
    expect(hook.received()).toHaveLength(0);
  });

  it("at the limit, failures from before a success that did not reset the doc do not count", async () => {
    const hook = await hookWith(() => 200);
    const t0 = Date.now() - 120_000;
    // Five failures, then a success dispatched on an older read of the doc (it left the count
    // alone), then five more failures: the tenth key arrives.
    const before = Array.from({ length: 5 }, (_, i) => failureKey(t0 + i * 1000, `dlv_b${i}`, 1));
    const after = Array.from({ length: 5 }, (_, i) => failureKey(t0 + 60_000 + i * 1000, `dlv_a${i}`, 1));
    await store.db.doc(paths.webhook(hook.siteId, hook.webhookId)).update({ failCount: 10, failStreak: [...before, ...after], lastStatus: 500 });
    await store.db
      .doc(paths.delivery(hook.siteId, hook.webhookId, "dlv_ok"))
      .set({ id: "dlv_ok", status: "succeeded", attempts: [], updatedAt: Timestamp.fromMillis(t0 + 30_000) });
    const settled = await store.health.settleFailure(hook, after[4] as string);
    expect(settled).toMatchObject({ disabled: false, failCount: 5 });
    expect(await hook.webhook()).toMatchObject({ enabled: true, failCount: 5, failStreak: after });
  });
});
