import { randomUUID } from "node:crypto";
import type { DetectedEvent } from "../domain/detected-event";
import {
  answerEventId,
  EMISSION_LIMITS,
  limitsFor,
  occurrenceEventId,
  occurrenceId,
  SITE_OFFLINE_KEY,
  suppressionKey,
  windowOf,
  type Channel,
  type Decision,
} from "../domain/emission-policy";
import type { DecideMode, EmissionStore, StoredOccurrence } from "../data/emission-store";
import type { StoredEvent } from "../data/event-doc";
import { audienceOf, enqueueDeliveries, eventFor, type Audience, type EmitDeps } from "./emit-events";
import { flapKindOf } from "../domain/flapping";
import { watchFlapping } from "./flapping";

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
 * A report pairing with an occurrence claimed by the other channel this long ago or more, still
 * undecided, takes it over: the claimant's handler died, and nothing else would finish it.
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

async function ingestOne(report: Report, event: DetectedEvent, deps: IngestDeps, asQuestion = false): Promise<IngestOutcome> {
  if (event.answers) return ingestAnswer(report, event, event.answers, deps);
  const own = ownReport(report, event);
  const occurrence = occurrenceId(event);
  const { join, state } = await deps.emissions.claim(own.siteId, occurrence, event, {
    channel: own.channel,
    reportId: own.reportId,
    at: own.at,
    newEventId: occurrenceEventId(occurrence, own.reportId ?? randomUUID()),
  });
  if (join === "new") return decideAndEmit({ report: own, event, occurrence, state, mode: "claimed" }, deps);
  const duplicate = (decision: Decision | null) => outcome(event, state.eventId, "duplicate", decision);
  if (state.decision) return duplicate(state.decision);
  // The usual pair (a crash's alert beside its log doc): its claimant is deciding it; nothing is read.
  if (join === "pair" && deps.now().getTime() - state.claimedAtMs <= TAKEOVER_AFTER_MS) return duplicate(null);
  const decision = await deps.emissions.decisionOf(own.siteId, state);
  if (decision === "emitted") {
    // A report sent again comes after its handling failed (a trigger retried, an alert answered
    // 503): perhaps between the decision and the last enqueue. The tasks go out again in the
    // lanes the event chose, without the webhook's read: each attempt looks for its record
    // first, so a delivery made stands (and Cloud Tasks refuses a name it has seen lately).
    if ((join === "replay" || join === "resend") && !asQuestion) await reenqueue(own.siteId, state.eventId, deps);
    return duplicate(decision);
  }
  // Undecided: a report sent again after its handling failed (its claim's own decision never
  // made), or a claim its claimant left: decided here, guarded against a decision made meanwhile.
  return decideAndEmit({ report: own, event, occurrence, state, mode: "guarded" }, deps);
}

/** The sweep's mark is one report whoever sees it: the mark's instant identifies it. */
function ownReport(report: Report, event: DetectedEvent): Report {
  return event.type === "machine.offline" ? { ...report, channel: "sweep", reportId: `mark:${event.content}` } : report;
}

/**
 * An answer (machine.online) goes out only after its question (machine.offline) did, and once per
 * question: its event id derives from the question's, and creating its event doc is its claim.
 * The question's event doc is read at the id its mark gives it (one read, which also says whom
 * it went to, carried in the answer's tasks); a question not found there (refused, nobody
 * subscribed, still undecided) is settled through its occurrence first.
 */
async function ingestAnswer(report: Report, event: DetectedEvent, question: DetectedEvent, deps: IngestDeps): Promise<IngestOutcome> {
  const asked = ownReport(report, question);
  const questionId = occurrenceEventId(occurrenceId(question), asked.reportId as string);
  const stored = await deps.store.events.loadEvent({ siteId: report.siteId, eventId: questionId });
  let follows = stored ? questionId : null;
  if (!stored) {
    const answered = await ingestOne(report, question, deps, true);
    follows = answered.decision === "emitted" ? answered.eventId : null;
  }
  if (!follows) return outcome(event, null, "suppressed", "suppressed");
  const eventId = answerEventId(follows);
  const nowMs = deps.now().getTime();
  const state: StoredOccurrence = { eventId, firstAtMs: report.at.getTime(), channels: {}, reports: [], decision: null, claimedAtMs: nowMs, version: null };
  return decideAndEmit({ report, event, occurrence: occurrenceId(event), state, mode: "unclaimed", follows, followsTo: stored?.webhookIds }, deps);
}
function outcome(event: DetectedEvent, eventId: string | null, result: IngestOutcome["outcome"], decision: Decision | null, webhooks = 0): IngestOutcome {
  return { type: event.type, eventId, outcome: result, decision, webhooks };
}

interface Deciding {
  report: Report;
  event: DetectedEvent;
  occurrence: string;
  state: StoredOccurrence;
  /** See EmissionStore.decide: `guarded` when another report may have decided it already. */
  mode: DecideMode;
  /** An answer's question, and whom that went to when known. */
  follows?: string | undefined;
  followsTo?: string[] | undefined;
}

/**
 * The limits, once per occurrence, on the site's ledger, the event doc written in the same commit
 * as its decision (data/emission-store.ts); then its deliveries enqueued. The window is the occurrence's first report's.
 * A refusal is counted under its subject (reported by the subject's next event), or, for the
 * site-wide bound of machine.offline pages, under the site (reported by its next page).
 */
async function decideAndEmit(d: Deciding, deps: IngestDeps): Promise<IngestOutcome> {
  const { report, event, state } = d;
  const settings = await deps.store.sites.recentSiteSettings(report.siteId);
  let audience: Promise<Audience> | undefined;
  const decided = await deps.emissions.decide(
    report.siteId,
    d.occurrence,
    state,
    {
      limits: limitsFor(event, settings),
      window: windowOf(state.firstAtMs, EMISSION_LIMITS.windowMs),
      subjectKey: suppressionKey(event),
      siteKey: event.type === "machine.offline" ? SITE_OFFLINE_KEY : null,
      atMs: deps.now().getTime(),
      flaps: flapKindOf(event.type) !== null,
    },
    async (answer) => {
      // Read once, even if the transaction runs again.
      audience ??= audienceOf(report.siteId, event, deps, { site: settings.site });
      const known = await audience;
      // Stored when a webhook gets it, or when one subscribed to it is off (for a recover later).
      if (known.targets.length === 0 && known.missed.length === 0) return null;
      const emission = {
        eventId: state.eventId,
        detected: event,
        occurredAt: event.occurredAt ?? new Date(state.firstAtMs),
        suppressed: answer.suppressedBefore,
        siteSuppressed: answer.siteSuppressed,
        follows: d.follows,
        followsTo: d.followsTo,
      };
      return eventFor(emission, known);
    },
    d.mode,
  );
  const result = d.mode === "guarded" || decided.stored ? "duplicate" : decided.decision === "emitted" ? "emitted" : "suppressed";
  if (decided.answer?.refused) {
    deps.log.info("event.suppressed", {
      siteId: report.siteId,
      type: event.type,
      machineId: event.machineId,
      eventId: state.eventId,
      limit: decided.answer.refused.key,
    });
  }
  // Decided here: whether its subject is flapping now (counted only when a limit refused it), after its own deliveries.
  const watch = () => (decided.answer && !decided.stored ? watchFlapping(report.siteId, event, decided.answer, deps) : Promise.resolve());
  if (!decided.event) {
    await watch();
    return outcome(event, state.eventId, result, decided.decision);
  }
  // Found stored (its own earlier commit, or another decider's): enqueued again without the webhooks' reads.
  const targets = decided.stored || !audience ? null : (await audience).targets;
  await enqueueDeliveries(report.siteId, decided.event, targets, deps);
  await watch();
  return outcome(event, state.eventId, result, "emitted", decided.event.webhookIds?.length ?? 0);
}

/** The deliveries of an event already stored, enqueued again (refused as duplicates where they went out). */
async function reenqueue(siteId: string, eventId: string, deps: IngestDeps): Promise<void> {
  const event = await deps.store.events.loadEvent({ siteId, eventId });
  if (event) await enqueueDeliveries(siteId, { ...event, id: eventId, type: event.type as StoredEvent["type"] }, null, deps);
}
