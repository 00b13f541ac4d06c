import { isEventType } from "./event-catalog";
import { hostEventName } from "./host-vocabulary";
import { signatureHeaders, type SignatureScheme } from "./signature-schemes";

export const USER_AGENT = "Owlette-Webhooks/1.0";

/**
 * `X-Owlette-Event` as the webhook's receiver knows it: for `owlette_v1`, the name the host's
 * dashboard sender used (`process.restarted`, connection failures as `machine.offline`, `test`
 * from its test button), since those receivers switch on it; the pipeline's name otherwise.
 */
function eventHeader(scheme: SignatureScheme, eventType: string): string {
  if (scheme !== "owlette_v1") return eventType;
  if (eventType === "webhook.test") return "test";
  return isEventType(eventType) ? hostEventName(eventType) : eventType;
}

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
  // Built in place (no spread copies): same keys, same order as the documented header list.
  const headers: Record<string, string> = {};
  if (input.custom) for (const name of Object.keys(input.custom)) headers[name] = input.custom[name] as string;
  headers["Content-Type"] = "application/json";
  headers["User-Agent"] = USER_AGENT;
  headers["X-Owlette-Event"] = eventHeader(input.scheme, input.eventType);
  headers["X-Owlette-Delivery"] = input.deliveryId;
  headers["X-Owlette-Attempt"] = String(input.attempt);
  headers["webhook-id"] = input.eventId;
  const signature = signatureHeaders(input.scheme, {
    body: input.body,
    messageId: input.eventId,
    timestampSeconds: input.timestampSeconds,
    secrets: input.secrets,
  });
  for (const name of Object.keys(signature)) headers[name] = signature[name] as string;
  if (input.scheme === "roost") {
    // The host's public API names the event and the delivery (stable across retries) under its own prefix too.
    headers["Roost-Event"] = input.eventType;
    headers["Roost-Delivery"] = input.deliveryId;
  }
  return headers;
}
