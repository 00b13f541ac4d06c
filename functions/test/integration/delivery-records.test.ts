import { Timestamp } from "firebase-admin/firestore";
import { paths } from "../../src/data/paths";
import type { Store } from "../../src/data/store";
import { transitionAllowed } from "../../src/domain/delivery-states";
import type { DeliveryStatus } from "../../src/domain/webhook-vocabulary";
import type { Receiver } from "../../../scripts/lib/receiver";
import { startSuite, uniqueId } from "../support/emulator";

// The delivery record's writes keep to domain/delivery-states.ts: a skip lands on no record or a
// pending one, never on one another dispatch of the same task finished meanwhile (Cloud Tasks
// dispatches at least once, and the first dispatch skips without reading).

let store: Store;
let receiver: Receiver;
beforeAll(async () => ({ store, receiver } = await startSuite()));
afterAll(() => receiver.stop());

function ids() {
  const siteId = uniqueId("records");
  return { siteId, webhookId: "wh", deliveryId: uniqueId("dlv"), eventId: "evt_1", eventType: "process.crashed" };
}

async function recordAt(at: ReturnType<typeof ids>, status: DeliveryStatus) {
  const createdAt = Timestamp.fromMillis(Date.now() - 60_000);
  await store.db.doc(paths.delivery(at.siteId, at.webhookId, at.deliveryId)).set({ id: at.deliveryId, status, createdAt, attempts: [] });
  return createdAt;
}

const statusOf = async (at: ReturnType<typeof ids>) => (await store.db.doc(paths.delivery(at.siteId, at.webhookId, at.deliveryId)).get()).data();

describe("a skip", () => {
  it.each(["succeeded", "failed"] as const)("leaves a %s record as it is, even from a dispatch that thought it was first", async (status) => {
    const at = ids();
    const createdAt = await recordAt(at, status);
    for (const firstRecord of [true, false]) await store.deliveries.recordSkipped(at, "webhook_disabled", new Date(), firstRecord);
    expect(await statusOf(at)).toMatchObject({ status, createdAt });
    expect(transitionAllowed("recordSkipped", status, "skipped")).toBe(false);
  });

  it("skips a pending record, its history kept where it started", async () => {
    const at = ids();
    const createdAt = await recordAt(at, "pending");
    await store.deliveries.recordSkipped(at, "webhook_deleted", new Date(), false);
    expect(await statusOf(at)).toMatchObject({ status: "skipped", skippedReason: "webhook_deleted", createdAt, nextAttempt: null });
  });

  it("creates the record of a delivery skipped before any attempt, with its history's start and expiry", async () => {
    const at = ids();
    const now = new Date();
    await store.deliveries.recordSkipped(at, "event_expired", now, true);
    expect(await statusOf(at)).toMatchObject({
      status: "skipped",
      skippedReason: "event_expired",
      createdAt: Timestamp.fromDate(now),
      expireAt: expect.any(Timestamp),
    });
  });
});
