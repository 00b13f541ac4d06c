import { z } from "zod";
import { timestampSchema } from "../domain/agent-docs";
import { FORMATS } from "../domain/destination-formats";
import { DELIVERY_STATUSES, HTTP_METHODS, SIGNATURE_SCHEMES } from "../domain/webhook-vocabulary";

export { DELIVERY_STATUSES, HTTP_METHODS, type DeliveryStatus, type HttpMethod } from "../domain/webhook-vocabulary";

/** The server-written webhook doc, parsed defensively: a hand-edited doc must not crash delivery. */
export const webhookDocSchema = z.object({
  name: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  enabled: z.boolean(),
  // Never below 0 as read: a failure taken back twice (a redispatched task settling it again) must
  // not make the doc unreadable, which would drop the webhook from every fan-out.
  failCount: z
    .number()
    .int()
    .transform((n) => Math.max(0, n))
    .default(0),
  lastStatus: z.union([z.number(), z.string()]).nullish(),
  lastDeliveryAt: timestampSchema.nullish(),
  disabledReason: z.string().nullish(),
  signatureScheme: z.enum(SIGNATURE_SCHEMES).default("owlette"),
  method: z.enum(HTTP_METHODS).default("POST"),
  format: z.enum(FORMATS).default("owlette"),
  /** Raised with every change of the secret doc: an instance's cached copy is used only at this version. */
  secretVersion: z.number().int().nonnegative().default(0),
  /** Keys of the failed attempts counted in `failCount` (see domain/webhook-health.ts). */
  failStreak: z.array(z.string()).default([]),
  /** Deliveries go to the slow lane until then (see domain/delivery-lanes.ts). */
  slowUntil: timestampSchema.nullish(),
  /** Written by the Owlette host on its docs (domain/host-adoption.ts): either stops deliveries whatever `enabled` says. */
  paused: z.boolean().nullish(),
  deletedAt: z.unknown().optional(),
  /** Which of the host's shapes an adopted doc has; absent on the pipeline's own docs. */
  hostShape: z.enum(["dashboard", "api"]).nullish(),
});
export type WebhookDoc = z.infer<typeof webhookDocSchema>;

/** The server-only doc beside each webhook: signing secrets and custom header values. */
export const secretDocSchema = z.object({
  current: z.string().min(1),
  previous: z.array(z.object({ secret: z.string().min(1), expiresAt: timestampSchema })).default([]),
  headers: z.record(z.string(), z.string()).default({}),
  /** PagerDuty integration key of a `pagerduty` webhook: a credential, so it lives here. */
  routingKey: z.string().optional(),
  /** The real URL of a Slack or Discord webhook (its token is in the path); the webhook doc shows it redacted. */
  url: z.string().optional(),
});
export type SecretDoc = z.infer<typeof secretDocSchema>;

export const attemptRecordSchema = z.object({
  attempt: z.number().int().positive(),
  status: z.number().nullable(),
  error: z.string().nullable(),
  /** Sent by the retry action, outside the schedule. */
  manual: z.boolean().optional(),
});

export const deliveryDocSchema = z.object({
  eventId: z.string().optional(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.array(attemptRecordSchema.passthrough()).default([]),
  nextAttempt: z.number().int().positive().nullish(),
  nextAttemptAt: timestampSchema.nullish(),
  /**
   * Attempts recorded but not yet applied to the webhook's health, by attempt number (`m` for a
   * manual retry); see DeliveryRecords.recordAttempt (data/delivery-records.ts).
   */
  healthPending: z
    .record(
      z.string(),
      z.object({
        attempt: z.number().int().positive(),
        ok: z.boolean(),
        gone: z.boolean(),
        lastStatus: z.union([z.number(), z.string()]),
        at: timestampSchema,
      }),
    )
    .nullish(),
});
export type DeliveryDoc = z.infer<typeof deliveryDocSchema>;

export function hasPendingHealth(delivery: DeliveryDoc | null): delivery is DeliveryDoc {
  return !!delivery?.healthPending && Object.keys(delivery.healthPending).length > 0;
}

export const eventDocSchema = z.object({
  type: z.string(),
  body: z.string(),
  /** Webhooks it was fanned out to. */
  webhookIds: z.array(z.string()).optional(),
  /** The event this one answers: its delivery to a webhook waits for that one's (machine.online after machine.offline). */
  follows: z.string().optional(),
  /** The webhooks the event it follows was fanned out to (an answer's attempt to another webhook need not wait). */
  followsTo: z.array(z.string()).optional(),
  /** Webhooks whose first attempt was enqueued in the slow lane: an emission enqueued again uses the same lanes. */
  slowTo: z.array(z.string()).optional(),
});
export type EventDoc = z.infer<typeof eventDocSchema>;

/**
 * What the fan-out read of the webhook, carried in its first attempt's task: an attempt
 * dispatched within `SNAPSHOT_MAX_AGE_MS` of `readAtMs` trusts it instead of reading the webhook
 * doc again (see delivery/deliver.ts for the staleness bound).
 */
export const webhookSnapshotSchema = z.object({
  readAtMs: z.number().int().nonnegative(),
  url: z.string().max(4096),
  enabled: z.boolean(),
  disabledReason: z.string().max(64).nullable(),
  failCount: z.number().int().nonnegative(),
  lastStatus: z.union([z.number(), z.string().max(64)]).nullable(),
  signatureScheme: z.enum(SIGNATURE_SCHEMES),
  method: z.enum(HTTP_METHODS),
  format: z.enum(FORMATS),
  secretVersion: z.number().int().nonnegative(),
  slowUntilMs: z.number().int().nullable(),
  /** An adopted host doc: its health is written in the host's names too. */
  hostShape: z.enum(["dashboard", "api"]).nullish(),
});
export type WebhookSnapshot = z.infer<typeof webhookSnapshotSchema>;
