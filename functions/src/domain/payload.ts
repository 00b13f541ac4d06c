import type { EventType } from "./event-catalog";
import type { DetectedEvent } from "./detected-event";

export interface SiteRef {
  id: string;
  name: string;
}

/** The site as payloads name it: its display name, or its id when it has none. */
export function siteRefOf(siteId: string, site: { name?: unknown } | undefined): SiteRef {
  const name = site?.name;
  return { id: siteId, name: typeof name === "string" && name ? name : siteId };
}

/** The Owlette wire format, with `id` added so receivers can deduplicate. */
export interface EventPayload {
  id: string;
  event: EventType;
  timestamp: string;
  site: SiteRef;
  data: Record<string, unknown>;
}

let lastSecond = NaN;
let lastFormatted = "";

/**
 * Owlette timestamps are RFC 3339 in UTC, to the second: "2026-03-22T10:30:00Z". Formatted once
 * per second: a burst's events mostly share it.
 */
export function formatTimestamp(at: Date): string {
  const second = Math.floor(at.getTime() / 1000);
  if (second !== lastSecond) {
    const iso = at.toISOString();
    // "YYYY-MM-DDTHH:MM:SS.mmmZ" (years 0-9999): drop the milliseconds.
    lastFormatted = iso.length === 24 ? `${iso.slice(0, 19)}Z` : iso.replace(/\.\d{3}Z$/, "Z");
    lastSecond = second;
  }
  return lastFormatted;
}

/** What the payload shows of a detected event (not how it was matched and limited). */
export type PayloadSource = Pick<DetectedEvent, "type" | "machineId" | "machineName" | "fields">;

/** Every event's envelope, its keys in this order (the body's bytes are signed as serialised). */
export function envelope(id: string, event: EventType, at: Date, site: SiteRef, data: Record<string, unknown>): EventPayload {
  return { id, event, timestamp: formatTimestamp(at), site: { id: site.id, name: site.name }, data };
}

export function buildPayload(input: { id: string; detected: PayloadSource; occurredAt: Date; site: SiteRef }): EventPayload {
  const { detected } = input;
  return envelope(input.id, detected.type, input.occurredAt, input.site, {
    machineId: detected.machineId,
    machineName: detected.machineName ?? detected.machineId,
    ...detected.fields,
  });
}

/**
 * The body is serialised once, when the event is stored, and sent byte for byte on every
 * attempt to every webhook: signatures stay reproducible and retries cost no re-encoding.
 */
export function serializePayload(payload: EventPayload): string {
  return JSON.stringify(payload);
}

/** The synthetic event of the test action and the probe: same envelope, same signing. */
export function buildTestPayload(input: { id: string; site: SiteRef; webhookId: string | null; at: Date }): EventPayload {
  return envelope(input.id, "webhook.test", input.at, input.site, {
    webhookId: input.webhookId,
    message: "This is a test event from Owlette. Your endpoint is reachable and can verify the signature.",
  });
}
