import { isSlow } from "../domain/delivery-lanes";
import { FAILING_STREAK } from "../domain/webhook-health";
import { eventIdFor } from "../domain/ids";
import { serializePayload, type EventPayload, type SiteRef } from "../domain/payload";
import { disableNoticePayload, failingNoticePayload, type DisableNotice, type FailingNotice } from "../domain/webhook-notices";
import { emitOnce, type EmitDeps } from "./emit-events";

/**
 * `webhook.disabled` to the site's other webhooks subscribed to it, once per switch-off: its
 * event id follows from the write that switched the webhook off (the trigger's id, the same on
 * every redelivery), its event doc is created once, and its tasks' names refuse a second
 * enqueue. The disabled webhook itself is never a target: it is off. No
 * emission limit applies: a webhook is switched off once until someone switches it on.
 */
export async function announceDisable(siteId: string, notice: DisableNotice, report: { id: string; at: Date }, deps: EmitDeps): Promise<number> {
  return announce(siteId, "webhook.disabled", notice.webhookId, (id, site) => disableNoticePayload({ id, site, notice, at: report.at }), report, deps);
}

/**
 * `webhook.failing` to the site's other webhooks subscribed to it, once per streak, as
 * `webhook.disabled` is sent. The failing webhook is not told: its receiver is the one failing.
 */
export async function announceFailing(siteId: string, notice: FailingNotice, report: { id: string; at: Date }, deps: EmitDeps): Promise<number> {
  return announce(siteId, "webhook.failing", notice.webhookId, (id, site) => failingNoticePayload({ id, site, notice, at: report.at }), report, deps);
}

async function announce(
  siteId: string,
  type: "webhook.disabled" | "webhook.failing",
  about: string,
  payloadOf: (id: string, site: SiteRef) => EventPayload,
  report: { id: string; at: Date },
  deps: EmitDeps,
): Promise<number> {
  const [all, settings] = await Promise.all([deps.store.events.fanOutTargets(siteId, type, deps.log), deps.store.sites.recentSiteSettings(siteId)]);
  // Not to a webhook failing itself: a notice it fails too would take it to its switch-off sooner.
  const targets = all.filter((t) => t.id !== about && t.snapshot.failCount < FAILING_STREAK);
  if (targets.length === 0) return 0;
  const id = eventIdFor(report.id, type);
  const event = {
    id,
    type,
    body: serializePayload(payloadOf(id, settings.site)),
    occurredAt: report.at,
    webhookIds: targets.map((t) => t.id),
    slowTo: targets.filter((t) => isSlow(t.snapshot.slowUntilMs, report.at.getTime())).map((t) => t.id),
  };
  // Created once: a trigger redelivered later (its enqueue failed) enqueues the stored event's
  // webhooks again without a read of them, so each attempt looks for its record before sending.
  await emitOnce(siteId, event, targets, deps);
  return targets.length;
}
