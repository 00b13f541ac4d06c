import { Timestamp } from "firebase-admin/firestore";
import type { EventType } from "../domain/event-catalog";
import { expiryFrom } from "./paths";

/** An event as the pipeline stores it (`sites/{siteId}/events/{id}`). */
export interface StoredEvent {
  id: string;
  type: EventType;
  body: string;
  occurredAt: Date;
  webhookIds?: string[];
  follows?: string | undefined;
  /** The webhooks the event it follows was fanned out to. */
  followsTo?: string[] | undefined;
  /** Subscribed webhooks that were off: recover (pipeline/recover.ts) finds the event by them. */
  missedBy?: string[] | undefined;
  /** Webhooks whose first attempt goes in the slow lane. */
  slowTo?: string[] | undefined;
}

/** The event doc's fields: written by the fan-out, or by the emission's own transaction (data/emission-store.ts). */
export function eventDocData(event: StoredEvent) {
  return {
    id: event.id,
    type: event.type,
    body: event.body,
    occurredAt: Timestamp.fromDate(event.occurredAt),
    expireAt: Timestamp.fromDate(expiryFrom(event.occurredAt)),
    // Whom it was fanned out to, and the event it answers: an answer waits for its question.
    ...(event.webhookIds ? { webhookIds: event.webhookIds } : {}),
    ...(event.follows ? { follows: event.follows } : {}),
    ...(event.follows && event.followsTo ? { followsTo: event.followsTo } : {}),
    ...(event.slowTo && event.slowTo.length > 0 ? { slowTo: event.slowTo } : {}),
    ...(event.missedBy && event.missedBy.length > 0 ? { missedBy: event.missedBy } : {}),
  };
}
