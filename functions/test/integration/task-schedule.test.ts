import { getFunctions } from "firebase-admin/functions";
import { REGION } from "../../src/config";
import { taskQueueEnqueue, DELIVERY_FUNCTION, type DeliveryTask } from "../../src/delivery/task-queue";
import type { ManagementStore } from "../../src/data/management-store";
import type { Store } from "../../src/data/store";
import { retryScheduleOf } from "../../../scripts/lib/project-settings";
import { Receiver, type Responder } from "../../../scripts/lib/receiver";
import { seedPendingDelivery, sleep, uniqueId, waitFor, startSuite } from "../support/emulator";
import { hookOnReceiver } from "../support/hooks";

// The suite keeps task schedules (scripts/lib/tasks-front.mjs): the Cloud Tasks emulator alone
// dispatches every task at once. The test project's schedule is a documented setting.
const schedule = retryScheduleOf(process.env.GCLOUD_PROJECT ?? "demo-owlette-test");

jest.setTimeout(60_000);

let store: Store;
let manage: ManagementStore;
let receiver: Receiver;

beforeAll(async () => ({ store, manage, receiver } = await startSuite()));
afterAll(() => receiver.stop());

const setup = (responder: Responder) => hookOnReceiver({ store, manage, receiver }, responder, { label: "Schedule" });

describe("task schedules on the suite", () => {
  it("the test project's schedule has distinct, non-zero retry delays (so the cases below can fail)", () => {
    expect(schedule[0]).toBe(0);
    expect(schedule.slice(1, 3).every((s) => s >= 1)).toBe(true);
  });

  it("sends each retry no earlier than its scheduled time, and at about that time", async () => {
    const hook = await setup((_d, n) => (n <= 2 ? 503 : 200));
    await hook.crash("p1");
    const record = await waitFor("the delivery to succeed at attempt 3", async () => {
      const [r] = await hook.records();
      return r?.status === "succeeded" && r;
    });
    const at = hook.received().map((d) => d.receivedAt);
    expect(at).toHaveLength(3);
    // The next attempt is enqueued after the previous one is recorded, so its send comes later
    // still than the delay after the previous send. Jitter: up to 10 %, rounded to whole seconds.
    const attempts = record.attempts as { at: FirebaseFirestore.Timestamp }[];
    for (const n of [1, 2]) {
      const delayMs = (schedule[n] as number) * 1000;
      const gap = (at[n] as number) - (at[n - 1] as number);
      expect(gap).toBeGreaterThanOrEqual(Math.round(delayMs * 0.9));
      // Not held back either: the emulator picks a due task up within about a second.
      expect(gap).toBeLessThan(Math.round(delayMs * 1.1) + 3000);
      expect(attempts[n]!.at.toMillis() - attempts[n - 1]!.at.toMillis()).toBeGreaterThanOrEqual(Math.round(delayMs * 0.9));
    }
  });

  it("holds a task enqueued for later, refuses its id again while held, and drops it when deleted first", async () => {
    const hook = await setup(() => 200);
    const kept = {
      siteId: hook.siteId,
      webhookId: hook.webhookId,
      eventId: `evt_${uniqueId("e").replace(/-/g, "")}`,
      deliveryId: `dlv_${uniqueId("d").replace(/-/g, "")}`,
    };
    const deleted = { ...kept, eventId: `evt_${uniqueId("e").replace(/-/g, "")}`, deliveryId: `dlv_${uniqueId("d").replace(/-/g, "")}` };
    await seedPendingDelivery(store, kept);
    await seedPendingDelivery(store, deleted);
    const enqueue = taskQueueEnqueue(REGION);
    const enqueuedAt = Date.now();
    expect(await enqueue({ ...kept, attempt: 2 }, 3)).toBe("enqueued");
    expect(await enqueue({ ...kept, attempt: 2 }, 3)).toBe("duplicate");
    expect(await enqueue({ ...kept, attempt: 2 }, 0)).toBe("duplicate");

    const queue = getFunctions().taskQueue<DeliveryTask>(`locations/${REGION}/functions/${DELIVERY_FUNCTION}`);
    const deletedId = `${deleted.deliveryId}-2`;
    await queue.enqueue({ ...deleted, attempt: 2 }, { id: deletedId, scheduleDelaySeconds: 2 });
    await queue.delete(deletedId);

    await sleep(1500);
    expect(hook.received()).toHaveLength(0);
    await waitFor("the held attempt at its time", () => hook.received().length === 1);
    expect((hook.received()[0]?.receivedAt as number) - enqueuedAt).toBeGreaterThanOrEqual(3000);
    expect(hook.received()[0]?.payload?.id).toBe(kept.eventId);
    await sleep(2000);
    expect(hook.received()).toHaveLength(1);
    // Once the emulator has it, the id stays taken, as in Cloud Tasks.
    expect(await enqueue({ ...kept, attempt: 2 }, 0)).toBe("duplicate");
  });
});
