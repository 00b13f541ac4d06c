import { randomUUID } from "node:crypto";
import type { DetectedEvent } from "../domain/detected-event";
import {
  limitsFor,
  occurrenceEventId,
  occurrenceId,
  refusal,
  SITE_OFFLINE_KEY,
  suppressionKey,
  windowOf,
  type Channel,
  type Decision,
  type SiteLimits,
} from "../domain/emission-policy";
import type { EmissionStore, StoredOccurrence } from "../data/emission-store";
import { emitEvent, type EmitDeps } from "./emit-events";

export interface IngestDeps extends EmitDeps {
  emissions: EmissionStore;
  now: () => Date;
}

/** One report from an agent (or the sweep): which channel, which report, when. */
export interface Report {
  siteId: string;
  channel: Channel;
  /** Stable across redeliveries of the same report (a trigger's event id, a log doc's path); null for alerts. */
  reportId: string | null;
  at: Date;
}

export interface IngestOutcome {
  type: DetectedEvent["type"];
  eventId: string | null;
  /** `emitted`: a new event went out; `duplicate`: another report of an occurrence already handled; `suppressed`: over a limit. */
  outcome: "emitted" | "duplicate" | "suppressed";
  /** The occurrence's decision, whichever report made it: a redelivered report is `duplicate` but keeps it. */
  decision: Decision | null;
  webhooks: number;
}

/**
 * A report whose occurrence was opened by another channel and is still undecided this long after
 * is taken over: the first report's handler died, and nothing else would finish it.
 */
const TAKEOVER_AFTER_MS = 60_000;

/**
 * The one path from any channel's report to events: match each detected event to its occurrence
 * (the same crash by log doc and by alert is one), apply the emission limits once per
 * occurrence, and emit what passes. Safe to run again for the same report.
 */
export async function ingest(report: Report, events: DetectedEvent[], deps: IngestDeps): Promise<IngestOutcome[]> {
  const outcomes: IngestOutcome[] = [];
  for (const event of events) outcomes.push(await ingestOne(report, event, deps));
  return outcomes;
}

async function ingestOne(report: Report, event: DetectedEvent, deps: IngestDeps): Promise<IngestOutcome & { decision: Decision | null }> {
  const result = (eventId: string | null, outcome: IngestOutcome["outcome"], decision: Decision | null, webhooks = 0) => ({
    type: event.type,
    eventId,
    outcome,
    decision,
    webhooks,
  });
  let follows: string | undefined;
  if (event.answers) {
    // Settle the question before its answer: emitted (or known suppressed) first, whichever trigger runs first.
    const answered = await ingestOne(report, event.answers, deps);
    if (answered.decision !== "emitted" || !answered.eventId) return result(null, "suppressed", "suppressed");
    follows = answered.eventId;
  }
  // The sweep's mark is one report whoever sees it: the mark's instant identifies it.
  const own: Report = event.type === "machine.offline" ? { ...report, channel: "sweep", reportId: `mark:${event.content}` } : report;
  const occurrence = occurrenceId(event);
  // The site's settings (its own limit, its name for the payload) are read meanwhile.
  const settingsRead = deps.store.loadSiteSettings(own.siteId);
  settingsRead.catch(() => undefined);
  const { join, state } = await deps.emissions.recordReport(own.siteId, occurrence, event, {
    channel: own.channel,
    reportId: own.reportId,
    at: own.at,
    newEventId: occurrenceEventId(occurrence, own.reportId ?? randomUUID()),
  });
  const stalled = state.decision === null && deps.now().getTime() - state.firstAtMs > TAKEOVER_AFTER_MS;
  if (join === "pair" && !stalled) return result(state.eventId, "duplicate", state.decision);

  const settings = await settingsRead;
  const decided = state.decision ? state : await decide(own, event, occurrence, state, settings, deps);
  const outcome = join === "new" ? (decided.decision === "emitted" ? "emitted" : "suppressed") : "duplicate";
  if (decided.decision !== "emitted" || decided.emitted) return result(state.eventId, outcome, decided.decision);
  const { webhooks } = await emitEvent(
    own.siteId,
    {
      eventId: state.eventId,
      detected: event,
      occurredAt: event.occurredAt ?? new Date(state.firstAtMs),
      suppressed: decided.suppressedBefore,
      siteSuppressed: decided.siteSuppressed ?? 0,
      follows,
    },
    deps,
    { site: settings.site },
  );
  await deps.emissions.markEmitted(own.siteId, occurrence, state.eventId);
  return result(state.eventId, outcome, "emitted", webhooks);
}

/**
 * The limits, once per occurrence: every limit must grant; the window is the occurrence's first
 * report's. A refusal is counted under its subject (reported by the subject's next event), or,
 * for the site-wide bound of machine.offline pages, under the site (reported by its next page).
 */
async function decide(
  report: Report,
  event: DetectedEvent,
  occurrence: string,
  state: StoredOccurrence,
  site: SiteLimits,
  deps: IngestDeps,
): Promise<StoredOccurrence> {
  const refused = await refusal(limitsFor(event, site), (limit) =>
    deps.emissions.grant(report.siteId, limit, windowOf(state.firstAtMs, limit.windowMs), state.eventId),
  );
  const key = suppressionKey(event);
  if (refused) {
    const counted = refused.key === SITE_OFFLINE_KEY;
    const countUnder = counted ? SITE_OFFLINE_KEY : key;
    if (countUnder) await deps.emissions.addSuppressed(report.siteId, countUnder, deps.now());
    deps.log.info("event.suppressed", { siteId: report.siteId, type: event.type, machineId: event.machineId, eventId: state.eventId, limit: refused.key });
    return deps.emissions.decide(report.siteId, occurrence, state.eventId, counted ? "counted" : "suppressed");
  }
  return deps.emissions.decide(report.siteId, occurrence, state.eventId, "emitted", {
    subject: key,
    site: event.type === "machine.offline" ? SITE_OFFLINE_KEY : null,
  });
}
