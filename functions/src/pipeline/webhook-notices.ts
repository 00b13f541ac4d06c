import { isSlow } from "../domain/delivery-lanes";
import { eventIdFor } from "../domain/ids";
import { serializePayload } from "../domain/payload";
import { disableNoticePayload, type DisableNotice } from "../domain/webhook-notices";
import { enqueueDeliveries, type EmitDeps } from "./emit-events";

/**
 * `webhook.disabled` to the site's other webhooks subscribed to it, once per switch-off: its
 * event id follows from the write that switched the webhook off (the trigger's id, the same on
 * every redelivery), its event doc is created once, and its tasks' names refuse a second
 * enqueue. The disabled webhook itself is never a target: it is off. No
 * emission limit applies: a webhook is switched off once until someone switches it on.
 */
export async function announceDisable(siteId: string, notice: DisableNotice, report: { id: string; at: Date }, deps: EmitDeps): Promise<number> {
  const [all, settings] = await Promise.all([
    deps.store.events.fanOutTargets(siteId, "webhook.disabled", deps.log),
    deps.store.sites.recentSiteSettings(siteId),
  ]);
  const targets = all.filter((t) => t.id !== notice.webhookId);
  if (targets.length === 0) return 0;
  const id = eventIdFor(report.id, "webhook.disabled");
  const payload = disableNoticePayload({ id, site: settings.site, notice, at: report.at });
  const event = {
    id,
    type: "webhook.disabled" as const,
    body: serializePayload(payload),
    occurredAt: report.at,
    webhookIds: targets.map((t) => t.id),
    slowTo: targets.filter((t) => isSlow(t.snapshot.slowUntilMs, report.at.getTime())).map((t) => t.id),
  };
  // Created once: a trigger redelivered later (its enqueue failed) enqueues the stored event's
  // webhooks again without a read of them, so each attempt looks for its record before sending.
  const created = await deps.store.events.createEvent(siteId, event);
  if (created) await enqueueDeliveries(siteId, event, targets, deps);
  else await enqueueDeliveries(siteId, { ...event, ...(await storedTargets(siteId, id, deps)) }, null, deps);
  return targets.length;
}

async function storedTargets(siteId: string, eventId: string, deps: EmitDeps) {
  const stored = await deps.store.events.loadEvent({ siteId, eventId });
  return { webhookIds: stored?.webhookIds ?? [], slowTo: stored?.slowTo ?? [] };
}
