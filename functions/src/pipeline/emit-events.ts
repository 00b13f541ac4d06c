import type { DetectedEvent } from "../domain/detected-event";
import { deliveryIdFor, eventIdFor } from "../domain/ids";
import { buildPayload, serializePayload, type SiteRef } from "../domain/payload";
import type { Store } from "../data/store";
import type { Enqueue } from "../delivery/task-queue";
import type { Log } from "../log";

export interface EmitDeps {
  store: Store;
  enqueue: Enqueue;
  log: Log;
}

/**
 * Stores each detected event once and enqueues one delivery task per subscribed, enabled
 * webhook. Every id is derived from the trigger's event id, so a replayed trigger rewrites the
 * same event doc and its enqueues are refused as duplicates: nothing is delivered twice.
 */
export async function emitEvents(
  input: { triggerEventId: string; occurredAt: Date; siteId: string; detected: DetectedEvent[] },
  deps: EmitDeps,
): Promise<{ eventId: string; webhooks: number }[]> {
  const emitted: { eventId: string; webhooks: number }[] = [];
  let site: SiteRef | undefined;
  for (const detected of input.detected) {
    const webhookIds = await deps.store.subscribedWebhookIds(input.siteId, detected.type);
    const eventId = eventIdFor(input.triggerEventId, detected.type);
    if (webhookIds.length === 0) {
      emitted.push({ eventId, webhooks: 0 });
      continue;
    }
    site ??= await deps.store.loadSite(input.siteId);
    const machineName =
      detected.machineName ?? (await deps.store.loadMachineName(input.siteId, detected.machineId));
    const payload = buildPayload({
      id: eventId,
      detected: { ...detected, machineName },
      occurredAt: input.occurredAt,
      site,
    });
    await deps.store.saveEvent(input.siteId, {
      id: eventId,
      type: detected.type,
      body: serializePayload(payload),
      occurredAt: input.occurredAt,
    });
    await Promise.all(
      webhookIds.map((webhookId) =>
        deps.enqueue(
          { siteId: input.siteId, webhookId, eventId, deliveryId: deliveryIdFor(eventId, webhookId), attempt: 1 },
          0,
        ),
      ),
    );
    deps.log.info("event.emitted", { eventId, type: detected.type, siteId: input.siteId, webhooks: webhookIds.length });
    emitted.push({ eventId, webhooks: webhookIds.length });
  }
  return emitted;
}
