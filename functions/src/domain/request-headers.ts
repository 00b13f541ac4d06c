import { owletteSignature, SIGNATURE_HEADER } from "./signing";

export const USER_AGENT = "Owlette-Webhooks/1.0";

/**
 * Headers of one attempt. `webhook-id` (the event id) and `X-Owlette-Delivery` stay the same on
 * every retry so receivers can deduplicate; the signature is computed over the exact body sent.
 */
export function deliveryHeaders(input: {
  secret: string;
  body: string;
  eventId: string;
  eventType: string;
  deliveryId: string;
  attempt: number;
}): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "User-Agent": USER_AGENT,
    [SIGNATURE_HEADER]: owletteSignature(input.secret, input.body),
    "X-Owlette-Event": input.eventType,
    "X-Owlette-Delivery": input.deliveryId,
    "X-Owlette-Attempt": String(input.attempt),
    "webhook-id": input.eventId,
  };
}
