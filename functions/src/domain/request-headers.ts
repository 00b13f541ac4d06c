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
  // Built in place (no spread copies): same keys, same order as the documented header list.
  const headers: Record<string, string> = {};
  if (input.custom) for (const name of Object.keys(input.custom)) headers[name] = input.custom[name] as string;
  headers["Content-Type"] = "application/json";
  headers["User-Agent"] = USER_AGENT;
  headers["X-Owlette-Event"] = input.eventType;
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
  return headers;
}
