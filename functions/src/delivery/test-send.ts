import { randomBytes } from "node:crypto";
import { failureDetail, lastStatusOf, type AttemptResult } from "../domain/attempt-result";
import { buildTestPayload, serializePayload, type SiteRef } from "../domain/payload";
import type { ManagementStore } from "../data/management-store";
import type { DeliverDeps } from "./deliver";
import { missingRoutingKey, sendToWebhook } from "./send-signed";

export type TestDeps = Pick<DeliverDeps, "store" | "send" | "resolve" | "config" | "now" | "log"> & { manage: ManagementStore };

export type TestOutcome = { kind: "sent"; eventId: string; result: AttemptResult } | { kind: "not_found" } | { kind: "routing_key_missing" };

/**
 * The test action: a `webhook.test` event sent to a saved webhook exactly as its deliveries are
 * (URL, format, scheme, secrets, headers), its answer recorded as the webhook's `lastStatus`.
 * The caller has checked who may ask (the management API) or knows (the host's test button,
 * through a server-only doc).
 */
export async function sendTestEvent(ids: { siteId: string; webhookId: string }, site: SiteRef, deps: TestDeps): Promise<TestOutcome> {
  const ctx = await deps.store.reads.loadDeliveryContext({ ...ids, eventId: "-", deliveryId: "-" });
  if (!ctx.webhook || !ctx.secret) return { kind: "not_found" };
  if (missingRoutingKey(ctx.webhook, ctx.secret)) return { kind: "routing_key_missing" };
  const at = deps.now();
  const id = `evt_test_${randomBytes(12).toString("hex")}`;
  const body = serializePayload(buildTestPayload({ id, site, webhookId: ids.webhookId, at }));
  const result = await sendToWebhook(
    { webhook: ctx.webhook, secret: ctx.secret },
    { body, eventId: id, eventType: "webhook.test", deliveryId: id.replace(/^evt_/, "dlv_"), attempt: 1 },
    at,
    deps,
  );
  await deps.manage.recordTestResult(ids.siteId, ids.webhookId, lastStatusOf(result), deps.now());
  // The reason behind an outcome word goes to the server's log only.
  deps.log.info("webhook.tested", { ...ids, lastStatus: lastStatusOf(result), ...failureDetail(result) });
  return { kind: "sent", eventId: id, result };
}
