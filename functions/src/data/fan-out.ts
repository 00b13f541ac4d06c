import type { DocumentData } from "firebase-admin/firestore";
import type { EventType } from "../domain/event-catalog";
import { subscribes } from "../domain/host-vocabulary";
import type { WebhookDoc, WebhookSnapshot } from "./webhook-docs";

/** What the fan-out makes of a webhook doc: whether it takes an event, and the snapshot its tasks carry. */

/** Whether the doc's subscription takes `type`: the host dashboard's names count for its own docs. */
export function takes(d: DocumentData, type: EventType): boolean {
  const events = Array.isArray(d.events) ? d.events.filter((e): e is string => typeof e === "string") : [];
  return subscribes(events, type, d.hostShape === "dashboard" ? "owlette_v1" : String(d.format ?? "owlette"));
}

/** A subscribed webhook and what the fan-out read of it. */
export interface FanOutTarget {
  id: string;
  snapshot: WebhookSnapshot;
}

/**
 * What an attempt acts on. A doc the host paused (`paused: true`) or soft-deleted (`deletedAt`)
 * is off whatever `enabled` says: the host writes those fields, not `enabled`.
 */
export function snapshotOf(doc: WebhookDoc, readAtMs: number): WebhookSnapshot {
  const deleted = doc.deletedAt !== undefined && doc.deletedAt !== null;
  const paused = doc.paused === true;
  return {
    readAtMs,
    url: doc.url,
    enabled: doc.enabled && !paused && !deleted,
    disabledReason: deleted ? "deleted" : paused && doc.enabled ? "paused" : (doc.disabledReason ?? null),
    failCount: doc.failCount,
    lastStatus: doc.lastStatus ?? null,
    signatureScheme: doc.signatureScheme,
    method: doc.method,
    format: doc.format,
    secretVersion: doc.secretVersion,
    hostShape: doc.hostShape ?? null,
    slowUntilMs: doc.slowUntil ? doc.slowUntil.toMillis() : null,
  };
}
