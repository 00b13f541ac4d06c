import type { DetectedEvent } from "../domain/detected-event";
import { buildPayload, serializePayload, type SiteRef } from "../domain/payload";
import type { Store } from "../data/store";
import type { StoredEvent } from "../data/event-doc";
import type { FanOutTarget } from "../data/fan-out";
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
  /** The webhooks that one was fanned out to, when known. */
  followsTo?: string[] | undefined;
}

/** Who gets an event and how its payload names things: the subscribed webhooks, the site, the machine. */
export interface Audience {
  targets: FanOutTarget[];
  /** Subscribed webhooks that are off: the event is stored as missed by them (recover re-sends it). */
  missed: string[];
  site: SiteRef;
  machineName: string | undefined;
}

/**
 * One query for the subscribers; the site and the machine name as this instance read them
 * lately (a warm instance reads neither). The name is the machine doc's, never one an agent's
 * report gives itself (DetectedEvent.machineName is set only from the machine doc).
 */
export async function audienceOf(siteId: string, detected: DetectedEvent, deps: EmitDeps, known: { site?: SiteRef } = {}): Promise<Audience> {
  const [{ targets, missed }, site, machineName] = await Promise.all([
    deps.store.events.fanOut(siteId, detected.type, deps.log),
    known.site ?? deps.store.sites.recentSiteSettings(siteId).then((s) => s.site),
    detected.machineName ?? deps.store.sites.recentMachineName(siteId, detected.machineId),
  ]);
  return { targets, missed, site, machineName };
}

/** The event as stored and sent: its payload serialised once, shared by every webhook and retry. */
export function eventFor(emission: Emission, audience: Audience, nowMs = Date.now()): StoredEvent {
  const { eventId, detected } = emission;
  const payload = buildPayload({
    id: eventId,
    detected: {
      ...detected,
      machineName: audience.machineName,
      fields: {
        ...detected.fields,
        ...(emission.suppressed > 0 ? { suppressed: emission.suppressed } : {}),
        ...(emission.siteSuppressed ? { siteSuppressed: emission.siteSuppressed } : {}),
      },
    },
    occurredAt: emission.occurredAt,
    site: audience.site,
  });
  return {
    id: eventId,
    type: detected.type,
    body: serializePayload(payload),
    occurredAt: emission.occurredAt,
    webhookIds: audience.targets.map((t) => t.id),
    missedBy: audience.missed,
    follows: emission.follows,
    followsTo: emission.followsTo,
    // A webhook marked slow gets its first attempt in the slow lane directly.
    slowTo: audience.targets.filter((t) => isSlow(t.snapshot.slowUntilMs, nowMs)).map((t) => t.id),
  };
}

/**
 * One delivery task per target, in the lane the event chose for it (`slowTo`). Each carries the
 * event and what was just read of its webhook: its first attempt reads neither again. Task names
 * derive from the event id: enqueuing the same event again in the same lane is refused as a
 * duplicate. Targets unknown (an emission enqueued again): no webhook read is carried, so the
 * attempt looks for its record before sending and a delivery made stands.
 */
export async function enqueueDeliveries(
  siteId: string,
  event: Pick<StoredEvent, "id" | "type" | "body" | "follows" | "followsTo" | "webhookIds" | "slowTo">,
  targets: FanOutTarget[] | null,
  deps: EmitDeps,
): Promise<void> {
  const carried = carriedEvent(event);
  const slow = new Set(event.slowTo ?? []);
  const list = targets ?? (event.webhookIds ?? []).map((id) => ({ id, snapshot: undefined }));
  await Promise.all(
    list.map(({ id: webhookId, snapshot }) =>
      deps.enqueue(attemptTaskFor({ siteId, webhookId, eventId: event.id }, 1, carried, snapshot), 0, slow.has(webhookId) ? "slow" : "fast"),
    ),
  );
  deps.log.info("event.emitted", { eventId: event.id, type: event.type, siteId, webhooks: list.length });
}

/**
 * An event stored once under its id and its deliveries enqueued: stored already (a retried
 * report, a sweep's look again), the webhooks it was stored with are enqueued again without a
 * read of them, and the queue refuses by name the tasks that went out.
 */
export async function emitOnce(siteId: string, event: StoredEvent, targets: FanOutTarget[], deps: EmitDeps): Promise<void> {
  if (await deps.store.events.createEvent(siteId, event)) {
    await enqueueDeliveries(siteId, event, targets, deps);
    return;
  }
  const stored = await deps.store.events.loadEvent({ siteId, eventId: event.id });
  await enqueueDeliveries(siteId, { ...event, webhookIds: stored?.webhookIds ?? [], slowTo: stored?.slowTo ?? [] }, null, deps);
}
