import type { DetectedEvent } from "../domain/detected-event";
import { buildPayload, serializePayload, type SiteRef } from "../domain/payload";
import type { Store } from "../data/store";
import { attemptTaskFor, carriedEvent, type Enqueue } from "../delivery/task-queue";
import { isSlow } from "../domain/delivery-lanes";
import type { Log } from "../log";

export interface EmitDeps {
  store: Store;
  enqueue: Enqueue;
  log: Log;
}

export interface Emission {
  eventId: string;
  detected: DetectedEvent;
  occurredAt: Date;
  /** Suppressed events of the same machine and subject since the last one that went out. */
  suppressed: number;
  /** machine.offline: pages of the site's other machines counted over its bound since its last page. */
  siteSuppressed?: number;
  /** The event this one answers (machine.online: its machine.offline); its deliveries wait for that one's. */
  follows?: string | undefined;
}

/**
 * Stores the event once and enqueues one delivery task per subscribed, enabled webhook. The
 * event id is fixed by the occurrence it stands for, and every id downstream derives from it, so
 * emitting the same event again rewrites the same doc and its enqueues are refused as duplicates.
 */
export async function emitEvent(
  siteId: string,
  emission: Emission,
  deps: EmitDeps,
  known: { site?: SiteRef } = {},
): Promise<{ eventId: string; webhooks: number }> {
  const { eventId, detected } = emission;
  const [targets, site, machineName] = await Promise.all([
    deps.store.fanOutTargets(siteId, detected.type, deps.log),
    known.site ?? deps.store.loadSite(siteId),
    // The name the pipeline trusts: the machine doc's (the payload falls back to the machine id),
    // never one an agent's report gives itself (DetectedEvent.machineName).
    detected.machineName ?? deps.store.loadMachineName(siteId, detected.machineId),
  ]);
  if (targets.length === 0) return { eventId, webhooks: 0 };
  const webhookIds = targets.map((t) => t.id);
  const payload = buildPayload({
    id: eventId,
    detected: {
      ...detected,
      machineName,
      fields: {
        ...detected.fields,
        ...(emission.suppressed > 0 ? { suppressed: emission.suppressed } : {}),
        ...(emission.siteSuppressed ? { siteSuppressed: emission.siteSuppressed } : {}),
      },
    },
    occurredAt: emission.occurredAt,
    site,
  });
  const body = serializePayload(payload);
  await deps.store.saveEvent(siteId, {
    id: eventId,
    type: detected.type,
    body,
    occurredAt: emission.occurredAt,
    webhookIds,
    follows: emission.follows,
  });
  // Each task carries the event and what was just read of its webhook: its first attempt reads
  // neither again. A webhook marked slow gets its delivery in the slow lane directly.
  const event = carriedEvent({ type: detected.type, body, follows: emission.follows });
  const nowMs = Date.now();
  await Promise.all(
    targets.map(({ id: webhookId, snapshot }) =>
      deps.enqueue(attemptTaskFor({ siteId, webhookId, eventId }, 1, event, snapshot), 0, isSlow(snapshot.slowUntilMs, nowMs) ? "slow" : "fast"),
    ),
  );
  deps.log.info("event.emitted", { eventId, type: detected.type, siteId, webhooks: webhookIds.length });
  return { eventId, webhooks: webhookIds.length };
}
