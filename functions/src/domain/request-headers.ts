import { signatureHeaders, type SignatureScheme } from "./signature-schemes";

export const USER_AGENT = "Owlette-Webhooks/1.0";

/**
 * Headers of one attempt. `webhook-id` (the event id) and `X-Owlette-Delivery` stay the same on
 * every retry so receivers can deduplicate; signatures are computed over the exact body sent,
 * with a fresh timestamp per attempt. Custom headers go first so nothing the pipeline sets can
 * be replaced by them (they are also validated against a deny list when saved).
 */
export function deliveryHeaders(input: {
  scheme: SignatureScheme;
  secrets: readonly string[];
  body: string;
  eventId: string;
  eventType: string;
  deliveryId: string;
  attempt: number;
  timestampSeconds: number;
  custom?: Record<string, string>;
}): Record<string, string> {
  return {
    ...input.custom,
    "Content-Type": "application/json",
    "User-Agent": USER_AGENT,
    "X-Owlette-Event": input.eventType,
    "X-Owlette-Delivery": input.deliveryId,
    "X-Owlette-Attempt": String(input.attempt),
    "webhook-id": input.eventId,
    ...signatureHeaders(input.scheme, {
      body: input.body,
      messageId: input.eventId,
      timestampSeconds: input.timestampSeconds,
      secrets: input.secrets,
    }),
  };
}
