import type { DocumentReference } from "firebase-admin/firestore";
import type { DetectedEvent } from "../domain/detected-event";
import { FLAPPING_KEY, type LedgerAnswer } from "../domain/emission-ledger";
import { EMISSION_LIMITS, suppressionKey } from "../domain/emission-policy";
import {
  FLAPPING,
  flapDocId,
  flapKeyOf,
  flapKindOf,
  flappingEventId,
  flappingType,
  isFlapping,
  processGivenUp,
  stabilityStep,
  stableEventId,
  stableType,
  worthCounting,
} from "../domain/flapping";
import type { FlapDoc } from "../data/flap-store";
import { paths } from "../data/paths";
import type { PresenceStore } from "../data/presence-store";
import { audienceOf, emitOnce, eventFor, type EmitDeps, type Emission } from "./emit-events";

export interface FlapDeps extends EmitDeps {
  now: () => Date;
}

const minutes = (ms: number) => Math.round(ms / 60_000);
const errorText = (err: unknown) => String((err as Error)?.message ?? err).slice(0, 200);

/**
 * After an outage or a crash is decided: when a limit refused it, its subject's recent outages
 * or crashes are counted (one aggregation read), and at the threshold an episode of flapping
 * starts (its events held back from now on) and is told once. Never fails its report: a count or a start that fails is
 * logged, and the subject's next occurrence looks again; an episode started whose event did not
 * go out is sent by the sweep (settleFlaps).
 */
export async function watchFlapping(siteId: string, event: DetectedEvent, answer: LedgerAnswer, deps: FlapDeps): Promise<void> {
  const kind = flapKindOf(event.type);
  const subjectKey = suppressionKey(event);
  if (!kind || !subjectKey) return;
  const trace = {
    heldForFlapping: answer.refused?.key === FLAPPING_KEY,
    refused: answer.refused !== null,
  };
  if (!worthCounting(trace)) return;
  try {
    const nowMs = deps.now().getTime();
    const flaps = await deps.store.flaps.countSince(siteId, event.machineId, flapKeyOf(kind, event.subject), nowMs - FLAPPING[kind].windowMs);
    if (!isFlapping(kind, flaps)) return;
    const docId = flapDocId(kind, event.machineId, event.subject);
    const eventId = flappingEventId(docId, nowMs);
    const str = (v: unknown) => (typeof v === "string" ? v : null);
    const episode = {
      docId,
      kind,
      machineId: event.machineId,
      subject: event.subject,
      subjectKey,
      processName: kind === "process" ? str(event.fields.processName) : null,
      processId: kind === "process" ? str(event.fields.processId) : null,
      sinceMs: nowMs,
      flaps,
      eventId,
      nowMs,
    };
    const settings = kind === "machine" ? await deps.store.sites.recentSiteSettings(siteId) : null;
    const siteOfflineLimit = settings ? (settings.offlinePerHour ?? EMISSION_LIMITS.offlinePerSite) : undefined;
    const started = await deps.store.flaps.start(siteId, { ...episode, ...(siteOfflineLimit !== undefined ? { siteOfflineLimit } : {}) });
    if (started !== "started") {
      if (started === "capped") deps.log.warn("flapping.capped", { siteId, machineId: event.machineId, kind });
      if (started === "silent") deps.log.info("flapping.counted", { siteId, machineId: event.machineId, kind, flaps });
      return;
    }
    deps.log.info("flapping.started", { siteId, machineId: event.machineId, kind, flaps, eventId });
    await announceFlapping(siteId, episode, deps);
    // Just created, and looked at by the sweep only a minute from now: no condition needed.
    await deps.store.flaps.announced(deps.store.db.doc(paths.flap(siteId, docId)), null, nowMs);
  } catch (err) {
    deps.log.warn("flapping.check_failed", { siteId, machineId: event.machineId, kind, error: errorText(err) });
  }
}

type EpisodeFacts = Pick<FlapDoc, "kind" | "machineId" | "subject" | "processName" | "processId" | "flaps" | "eventId"> & { sinceMs: number };

const factsOf = (doc: FlapDoc): EpisodeFacts => ({ ...doc, sinceMs: doc.since.toMillis() });

function subjectFields(ep: EpisodeFacts): Record<string, unknown> {
  return ep.kind === "process" ? { processName: ep.processName ?? ep.subject, ...(ep.processId ? { processId: ep.processId } : {}) } : {};
}

/** The episode's flapping event, once: its id is the episode's, its event doc created once, its tasks named. */
async function announceFlapping(siteId: string, ep: EpisodeFacts, deps: FlapDeps): Promise<void> {
  const since = new Date(ep.sinceMs);
  const detected: DetectedEvent = {
    type: flappingType(ep.kind),
    machineId: ep.machineId,
    fields: {
      ...subjectFields(ep),
      flaps: ep.flaps,
      windowMinutes: minutes(FLAPPING[ep.kind].windowMs),
      flappingSince: since.toISOString(),
      stableAfterMinutes: minutes(FLAPPING.stableAfterMs),
    },
    subject: ep.subject,
    content: ep.eventId,
  };
  await announceOnce(siteId, { eventId: ep.eventId, detected, occurredAt: since, suppressed: 0 }, deps);
}

/** Its stable event, after the flapping event (its deliveries wait for that one's), saying how many events were held back. */
async function announceStable(siteId: string, ep: EpisodeFacts, suppressed: number, at: Date, deps: FlapDeps): Promise<void> {
  const flapping = await deps.store.events.loadEvent({ siteId, eventId: ep.eventId });
  const detected: DetectedEvent = {
    type: stableType(ep.kind),
    machineId: ep.machineId,
    fields: { ...subjectFields(ep), flappingSince: new Date(ep.sinceMs).toISOString(), stableAfterMinutes: minutes(FLAPPING.stableAfterMs) },
    subject: ep.subject,
    content: ep.eventId,
  };
  const emission: Emission = {
    eventId: stableEventId(ep.eventId),
    detected,
    occurredAt: at,
    suppressed,
    ...(flapping ? { follows: ep.eventId, followsTo: flapping.webhookIds ?? [] } : {}),
  };
  await announceOnce(siteId, emission, deps);
}

/** An event of an episode to its subscribers, once (emitOnce). Nobody subscribed: nothing is stored. */
async function announceOnce(siteId: string, emission: Emission, deps: FlapDeps): Promise<void> {
  const audience = await audienceOf(siteId, emission.detected, deps);
  if (audience.targets.length === 0 && audience.missed.length === 0) return;
  await emitOnce(siteId, eventFor(emission, audience, deps.now().getTime()), audience.targets, deps);
}

export interface FlapsResult {
  checked: number;
  stable: number;
  failed: number;
}

const PAGE = 100;

type SettleDeps = FlapDeps & { presence: PresenceStore };

/**
 * The sweep's look at episodes whose check is due: a flapping event not confirmed sent is sent;
 * an episode quiet long enough (domain/flapping.ts stabilityStep) ends, in the ledger first, then
 * its stable event goes out, then its doc goes; any other is looked at again later. Each episode
 * on its own: one that fails is logged, and the next pass tries again.
 */
export async function settleFlaps(deps: SettleDeps, now: Date): Promise<FlapsResult> {
  const due = await deps.store.flaps.due(now, PAGE);
  const results = await Promise.allSettled(due.map((ref) => settleEpisode(ref, deps, now)));
  const failed = results.filter((r) => r.status === "rejected");
  failed.forEach((r) => deps.log.warn("flapping.settle_failed", { error: errorText((r as PromiseRejectedResult).reason) }));
  const result = { checked: due.length, stable: results.filter((r) => r.status === "fulfilled" && r.value).length, failed: failed.length };
  if (result.checked > 0) deps.log.info("flapping.settled", { ...result });
  return result;
}

/** One due episode, as a pass looks at it; true when it ended. */
export async function settleEpisode(ref: DocumentReference, deps: SettleDeps, now: Date): Promise<boolean> {
  const siteId = ref.parent.parent!.id;
  const loaded = await deps.store.flaps.load(ref);
  if (loaded === null) return false;
  if (loaded === "unreadable") {
    deps.log.warn("flapping.unreadable", { doc: ref.path });
    await deps.store.flaps.drop(siteId, ref);
    return false;
  }
  const { doc, version } = loaded;
  const ep = factsOf(doc);
  const nowMs = now.getTime();
  try {
    if (!doc.announced) {
      await announceFlapping(siteId, ep, deps);
      await deps.store.flaps.announced(ref, version, nowMs);
      return false;
    }
    let closing = doc.closing ?? null;
    if (!closing) {
      const quietSinceMs = nowMs - FLAPPING.stableAfterMs;
      const [recent, down] = await Promise.all([
        deps.store.flaps.countSince(siteId, ep.machineId, flapKeyOf(ep.kind, ep.subject), quietSinceMs),
        isDown(siteId, ep, deps),
      ]);
      const step = stabilityStep({ nowMs, recent, down, lastUnquietMs: doc.lastUnquietAt?.toMillis() ?? null });
      if (step.kind === "wait") {
        await deps.store.flaps.reschedule(ref, version, step.checkAtMs, step.unquietAtMs);
        return false;
      }
      // Counted again inside the transaction that ends it: an outage or crash that came meanwhile keeps it open.
      closing = await deps.store.flaps.close(siteId, ref, ep.eventId, quietSinceMs);
      if (!closing) return false;
    }
    // A silent episode (over its site's bound of outage pages) ends as it began: untold.
    if (!doc.silent) await announceStable(siteId, ep, closing.suppressed, now, deps);
    await deps.store.flaps.remove(ref, ep.eventId);
    deps.log.info("flapping.stable", { siteId, machineId: ep.machineId, kind: ep.kind, suppressed: closing.suppressed });
    return true;
  } catch (err) {
    // Looked at again in a while rather than at the head of every pass.
    await deps.store.flaps.backOff(ref, ep.eventId, nowMs + FLAPPING.recheckMs).catch(() => undefined);
    throw err;
  }
}

/** A machine marked offline now; a process its agent gave up relaunching (it stays down: no crash says so). */
async function isDown(siteId: string, ep: EpisodeFacts, deps: SettleDeps): Promise<boolean> {
  if (ep.kind === "machine") return (await deps.presence.loadMark(siteId, ep.machineId)) !== null;
  return processGivenUp(await deps.store.flaps.rebootPending(siteId, ep.machineId), ep.processName);
}
