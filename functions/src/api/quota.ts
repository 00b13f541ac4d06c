/** Webhooks a site may have, by plan. A site without a plan gets the default. */
export const PLAN_WEBHOOK_QUOTAS: Readonly<Record<string, number>> = {
  free: 10,
  pro: 50,
  enterprise: 250,
};
export const DEFAULT_WEBHOOK_QUOTA = 10;

/**
 * `sites/{siteId}.webhookQuota` (a number, for a negotiated cap) wins over `plan`. The quota
 * only gates creation: when a plan shrinks, webhooks over the cap stay and keep delivering.
 */
export function webhookQuota(site: { plan?: unknown; webhookQuota?: unknown } | null): number {
  const explicit = site?.webhookQuota;
  if (typeof explicit === "number" && Number.isInteger(explicit) && explicit >= 0) return explicit;
  const plan = site?.plan;
  if (typeof plan === "string" && Object.hasOwn(PLAN_WEBHOOK_QUOTAS, plan)) return PLAN_WEBHOOK_QUOTAS[plan] as number;
  return DEFAULT_WEBHOOK_QUOTA;
}
