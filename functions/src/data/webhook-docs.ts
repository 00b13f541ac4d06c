import { z } from "zod";

const timestamp = z.custom<{ toMillis(): number }>(
  (v) => typeof v === "object" && v !== null && typeof (v as { toMillis?: unknown }).toMillis === "function",
);

/** The server-written webhook doc, parsed defensively: a hand-edited doc must not crash delivery. */
export const webhookDocSchema = z.object({
  name: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  enabled: z.boolean(),
  failCount: z.number().int().nonnegative().default(0),
  lastStatus: z.union([z.number(), z.string()]).nullish(),
  lastDeliveryAt: timestamp.nullish(),
  disabledReason: z.string().nullish(),
});
export type WebhookDoc = z.infer<typeof webhookDocSchema>;

export const secretDocSchema = z.object({
  current: z.string().min(1),
});
export type SecretDoc = z.infer<typeof secretDocSchema>;

export const DELIVERY_STATUSES = ["pending", "succeeded", "failed", "skipped"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const attemptRecordSchema = z.object({
  attempt: z.number().int().positive(),
  status: z.number().nullable(),
  error: z.string().nullable(),
});

export const deliveryDocSchema = z.object({
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.array(attemptRecordSchema.passthrough()).default([]),
  nextAttempt: z.number().int().positive().nullish(),
  nextAttemptAt: timestamp.nullish(),
});
export type DeliveryDoc = z.infer<typeof deliveryDocSchema>;

export const eventDocSchema = z.object({
  type: z.string(),
  body: z.string(),
});
export type EventDoc = z.infer<typeof eventDocSchema>;
