import type { Store } from "../../src/data/store";
import { carriedEvent, type DeliveryTask } from "../../src/delivery/task-queue";
import { deliveryIdFor } from "../../src/domain/ids";

/**
 * Fan-out tasks for one webhook, as the fan-out builds them for a new event: the event stored,
 * its body carried, and the webhook as read `ageMs` before now. For running the delivery
 * handler in-process over the emulator's Firestore.
 */
export function fanOutTasks(store: Store, siteId: string, webhookId: string): (ageMs?: number) => Promise<DeliveryTask> {
  let n = 0;
  return async (ageMs = 0) => {
    const eventId = `evt_${siteId}_${++n}`;
    const body = JSON.stringify({ id: eventId, event: "process.crashed", data: {} });
    await store.events.saveEvent(siteId, { id: eventId, type: "process.crashed", body, occurredAt: new Date() });
    const snapshot = await store.reads.loadWebhookSnapshot({ siteId, webhookId }, new Date(Date.now() - ageMs));
    return {
      siteId,
      webhookId,
      eventId,
      deliveryId: deliveryIdFor(eventId, webhookId),
      attempt: 1,
      event: carriedEvent({ type: "process.crashed", body }),
      ...(snapshot ? { webhook: snapshot } : {}),
    };
  };
}
