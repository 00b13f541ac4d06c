import { createHash } from "node:crypto";
import type { EventType } from "./event-catalog";

function digest(input: string): string {
  return createHash("sha256").update(input).digest("hex").slice(0, 32);
}

/**
 * Triggers are at-least-once: a replayed trigger carries the same event id, so every id
 * downstream is a pure function of it. One trigger can emit several types (a machine doc that
 * goes stale and reports a connection failure in one write), hence the type in the input.
 */
export function eventIdFor(triggerEventId: string, type: EventType): string {
  return `evt_${digest(`${triggerEventId}|${type}`)}`;
}

/** One delivery per (event, webhook); stable across every retry of that delivery. */
export function deliveryIdFor(eventId: string, webhookId: string): string {
  return `dlv_${digest(`${eventId}|${webhookId}`)}`;
}

/**
 * Cloud Tasks refuses a second task with the same name, so the attempt number makes each
 * attempt's task unique while a replayed enqueue of the same attempt is a no-op. The hashed
 * prefix spreads names across the queue's key space, as Cloud Tasks recommends. An attempt held
 * back to keep paired events in order is re-enqueued as `-h<n>` (see delivery/event-order.ts).
 */
export function taskIdFor(deliveryId: string, attempt: number, hold = 0): string {
  return hold > 0 ? `${deliveryId}-${attempt}-h${hold}` : `${deliveryId}-${attempt}`;
}
