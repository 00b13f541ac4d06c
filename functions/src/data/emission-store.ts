import { FieldValue, Timestamp, type DocumentReference, type DocumentSnapshot, type Firestore, type Precondition } from "firebase-admin/firestore";
import { alertsResent, joinOccurrence, occurrenceKeptMs, type Channel, type Decision, type Join, type OccurrenceState } from "../domain/emission-policy";
import { decideInLedger, type LedgerAnswer, type LedgerQuestion } from "../domain/emission-ledger";
import { FLAP_COUNT_KEPT_MS, flapKeyOf, flapKindOf } from "../domain/flapping";
import type { DetectedEvent } from "../domain/detected-event";
import type { EventType } from "../domain/event-catalog";
import { eventDocData, type StoredEvent } from "./event-doc";
import { admissionFields, readLedger, refusalFields, refusalUpdate } from "./ledger-doc";
import { ALREADY_EXISTS, FAILED_PRECONDITION, grpcCode } from "./delivery-writes";
import { parseOrNull } from "./parse";
import { paths } from "./paths";
import { eventDocSchema } from "./webhook-docs";

/**
 * Decisions that find the ledger (or the claim) changed between their read and their write:
 * after this many, the next attempt runs as a transaction, whose locks hold other writers back
 * (a flood of refusals cannot starve an admission).
 */
const OPTIMISTIC_ATTEMPTS = 8;
/** And the transaction's own retries exhausted: the error goes to the caller's retry. */
const LOCKED_ATTEMPTS = 5;

/** An occurrence as its claim doc says. A decision is written there when it is no event out (refused, or nobody subscribed); an event out is its event doc. */
export interface StoredOccurrence extends OccurrenceState {
  /** When the claim was made (its doc's creation): how long its claimant has been at it. */
  claimedAtMs: number;
  /** The claim doc's update time as read: a refusal is written on it only if it is unchanged. */
  version: Timestamp | null;
}

export interface ReportInput {
  channel: Channel;
  /** Replays of the same report share it; null for an alert (no id of its own). */
  reportId: string | null;
  at: Date;
  /** The event id this report gives the occurrence if it opens one. */
  newEventId: string;
}

/**
 * How a decision treats the occurrence's claim: `claimed`, made by this report (its version
 * known); `guarded`, another report's, perhaps decided already (read first); `unclaimed`, none
 * (an answer: creating its event doc is its claim).
 */
export type DecideMode = "claimed" | "guarded" | "unclaimed";

/** What a decision that lets the event out writes: the event doc, or null when nobody subscribes. */
export type EmitWith = (answer: LedgerAnswer) => Promise<StoredEvent | null>;

export interface Decided {
  decision: Decision;
  answer: LedgerAnswer | null;
  /** The event doc of an event out: written by this decision, or found written (`stored`). */
  event: StoredEvent | null;
  /** The event was found already stored (its own earlier commit, or another decider's): its deliveries may not all be enqueued. */
  stored: boolean;
}

function readOccurrence(snap: DocumentSnapshot | undefined): StoredOccurrence | null {
  const data = snap?.data();
  if (!snap || !data || typeof data.eventId !== "string" || !(data.firstAt instanceof Timestamp)) return null;
  // A doc of the earlier version decided `emitted` whose event never went out (`emitted: false`) is undecided.
  const decision = data.decision === "emitted" && data.emitted === false ? null : data.decision;
  return {
    eventId: data.eventId,
    firstAtMs: data.firstAt.toMillis(),
    channels: typeof data.channels === "object" && data.channels ? data.channels : {},
    reports: Array.isArray(data.reports) ? data.reports.filter((r: unknown): r is string => typeof r === "string") : [],
    decision: decision === "emitted" || decision === "suppressed" || decision === "counted" ? decision : null,
    claimedAtMs: data.claimedAt instanceof Timestamp ? data.claimedAt.toMillis() : (snap.createTime?.toMillis() ?? data.firstAt.toMillis()),
    version: snap.updateTime ?? null,
  };
}

/** An event doc found written: null when there is none; its event when it parses (for its deliveries), else undefined. */
function readStoredEvent(snap: DocumentSnapshot | undefined): StoredEvent | null | undefined {
  if (!snap?.exists) return null;
  const doc = parseOrNull(eventDocSchema, snap.data());
  return doc ? { ...doc, id: snap.id, type: doc.type as EventType, occurredAt: new Date() } : undefined;
}

/** What a batch and a transaction both write with. */
interface Writer {
  set(ref: DocumentReference, data: Record<string, unknown>, options: { merge: true }): unknown;
  create(ref: DocumentReference, data: Record<string, unknown>): unknown;
  update(ref: DocumentReference, data: Record<string, unknown>, precondition?: Precondition): unknown;
}

interface Deciding {
  mode: DecideMode;
  ledger: DocumentReference;
  claim: DocumentReference;
  event: DocumentReference;
  eventId: string;
  q: LedgerQuestion;
  emit: EmitWith;
  /** Whether the event has limits or counts to say (machine.online has neither: no ledger). */
  limited: boolean;
}

/**
 * Firestore side of the emission policy. An occurrence is claimed by the first report of it (a
 * `create`: two channels racing meet on its precondition, not in a transaction) and decided on
 * its site's ledger (domain/emission-ledger.ts) in one commit with its outcome: an event out is
 * its event doc, created (a second decider of the same occurrence fails there); a refusal is its
 * decision on the claim, written only if the claim is as read (a second one fails there).
 * A crash reported by log doc and alert costs: the claim (a read and a create), the ledger (a
 * read and a write), the event doc, and the other report's read of the claim.
 */
export class EmissionStore {
  constructor(readonly db: Firestore) {}

  /** Matches a report to the occurrence claimed for its content, claiming it if nothing (recent) is. */
  async claim(siteId: string, occurrenceId: string, event: DetectedEvent, report: ReportInput): Promise<{ join: Join; state: StoredOccurrence }> {
    const ref = this.db.doc(paths.occurrence(siteId, occurrenceId));
    // The sweep's mark is reported once but for retries: its claim is created without a read first.
    if (report.channel === "sweep") {
      const created = await this.createClaim(ref, event, report);
      if (created) return created;
    }
    const state = readOccurrence(await ref.get());
    const join = joinOccurrence(state, { channel: report.channel, reportId: report.reportId, atMs: report.at.getTime() }, alertsResent(event.type));
    if (!state) {
      // Null: the other channel claimed it meanwhile (or this create's own retry found it made): read what is there.
      return (await this.createClaim(ref, event, report)) ?? this.claim(siteId, occurrenceId, event, report);
    }
    if (join === "new") return this.reclaim(ref, event, report);
    if (join === "pair" && pairRecorded(report)) {
      await ref.update(pairFields(report));
      return { join, state: { ...state, channels: { ...state.channels, [report.channel]: true }, version: null } };
    }
    return { join, state };
  }

  /** A new occurrence of content claimed before (long ago, or by the same channel): the claim is replaced, in a transaction. */
  private async reclaim(ref: DocumentReference, event: DetectedEvent, report: ReportInput): Promise<{ join: Join; state: StoredOccurrence }> {
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      const state = readOccurrence(snap);
      const join = joinOccurrence(state, { channel: report.channel, reportId: report.reportId, atMs: report.at.getTime() }, alertsResent(event.type));
      if (join !== "new" && state) {
        if (join === "pair" && pairRecorded(report)) tx.update(ref, pairFields(report));
        return { join, state: { ...state, version: null } };
      }
      const fresh = this.claimDoc(event, report);
      tx.set(ref, fresh.doc);
      // The occurrence it replaces still counts toward flapping (a crash loop repeating one message): kept as a doc of its own.
      const flapAt = snap.get("flapAt") as unknown;
      const flapKey = snap.get("flapKey") as unknown;
      if (state && flapAt instanceof Timestamp && typeof flapKey === "string" && report.at.getTime() - flapAt.toMillis() < FLAP_COUNT_KEPT_MS)
        tx.set(this.db.doc(paths.replacedFlap(ref.parent.parent!.id, ref.id, flapAt.toMillis())), {
          machineId: event.machineId,
          flapKey,
          flapAt,
          expireAt: Timestamp.fromMillis(flapAt.toMillis() + FLAP_COUNT_KEPT_MS),
        });
      // Its version is unknown here: its decision reads the claim first.
      return { join: "new" as const, state: { ...fresh.state, claimedAtMs: Date.now(), version: null } };
    });
  }

  private claimDoc(event: DetectedEvent, report: ReportInput) {
    const state: OccurrenceState = {
      eventId: report.newEventId,
      firstAtMs: report.at.getTime(),
      channels: { [report.channel]: true },
      reports: report.reportId === null ? [] : [report.reportId],
      decision: null,
    };
    const doc = {
      eventId: state.eventId,
      firstAt: Timestamp.fromDate(report.at),
      channels: state.channels,
      reports: state.reports,
      decision: null,
      // When this claim was made (a replaced claim keeps its doc's creation time).
      claimedAt: FieldValue.serverTimestamp(),
      type: event.type,
      machineId: event.machineId,
      subject: event.subject,
      ...flapFields(event, report.at),
      expireAt: Timestamp.fromMillis(report.at.getTime() + occurrenceKeptMs(event)),
    };
    return { state, doc };
  }

  /** Claims the occurrence by creating its doc; null when the doc exists already. */
  private async createClaim(ref: DocumentReference, event: DetectedEvent, report: ReportInput): Promise<{ join: Join; state: StoredOccurrence } | null> {
    const fresh = this.claimDoc(event, report);
    try {
      const written = await ref.create(fresh.doc);
      return { join: "new", state: { ...fresh.state, claimedAtMs: written.writeTime.toMillis(), version: written.writeTime } };
    } catch (err) {
      if (grpcCode(err) !== ALREADY_EXISTS) throw err;
      return null;
    }
  }

  /** Whether an event went out for this occurrence: its decision on the claim, or its event doc. */
  async decisionOf(siteId: string, state: StoredOccurrence): Promise<Decision | null> {
    if (state.decision) return state.decision;
    return (await this.db.doc(paths.event(siteId, state.eventId)).get()).exists ? "emitted" : null;
  }

  /**
   * Decides the occurrence on the site's ledger: the ledger is read, the limits asked
   * (domain/emission-ledger.ts), and the outcome committed in one batch:
   * - an event out: the new counts, conditioned on the ledger's update time as read, and its
   *   event doc, created (or, nobody subscribing, its decision on the claim);
   * - a refusal: its held-back count by atomic increment (certain: a limit full in its window
   *   stays full) and its decision on the claim, conditioned on the claim as read; by a decider
   *   other than the claimant, also on the ledger as read (an admission the claimant made since
   *   does not touch the claim).
   * A failed condition reads again, with the claim and the event doc, so that a decision made
   * (by a replay racing this report, a takeover, this commit's own retried write) stands; after
   * a few, in a transaction. See DecideMode.
   */
  async decide(
    siteId: string,
    occurrenceId: string,
    state: StoredOccurrence,
    q: LedgerQuestion,
    emit: EmitWith,
    mode: DecideMode = "claimed",
  ): Promise<Decided> {
    const d: Deciding = {
      mode,
      ledger: this.db.doc(paths.emissionLedger(siteId)),
      claim: this.db.doc(paths.occurrence(siteId, occurrenceId)),
      event: this.db.doc(paths.event(siteId, state.eventId)),
      eventId: state.eventId,
      q,
      emit,
      limited: q.limits.length > 0 || q.subjectKey !== null || q.siteKey !== null,
    };
    let guard = mode === "guarded" || (mode === "claimed" && !state.version);
    for (let attempt = 1; attempt <= OPTIMISTIC_ATTEMPTS;) {
      const refs = this.reads(d, guard);
      const snaps = refs.length > 0 ? await this.db.getAll(...refs) : [];
      const step = await this.step(d, snaps, guard ? null : state.version);
      if (step.readAgain) {
        guard = true;
        continue;
      }
      if (!step.write) return step.result;
      const batch = this.db.batch();
      step.write(batch);
      try {
        await batch.commit();
        return step.result;
      } catch (err) {
        const code = grpcCode(err);
        if (code !== FAILED_PRECONDITION && code !== ALREADY_EXISTS) throw err;
        guard = true;
        // Spread, so that racers do not meet again.
        await new Promise((r) => setTimeout(r, Math.random() * 25 * attempt));
        attempt++;
      }
    }
    return this.db.runTransaction(
      async (tx) => {
        const refs = this.reads(d, true);
        const step = await this.step(d, await tx.getAll(...refs), null);
        step.write?.(tx);
        return step.result;
      },
      { maxAttempts: LOCKED_ATTEMPTS },
    );
  }

  private reads(d: Deciding, guard: boolean): DocumentReference[] {
    return [...(d.limited ? [d.ledger] : []), ...(guard ? [d.claim, d.event] : [])];
  }

  /**
   * One decision from what was read: its result, and the writes that make it (none when it was
   * made already). `version`: the claim's update time when the claim was not read now.
   */
  private async step(
    d: Deciding,
    snaps: DocumentSnapshot[],
    version: Timestamp | null,
  ): Promise<{ result: Decided; write?: (w: Writer) => void; readAgain?: boolean }> {
    const ledgerSnap = d.limited ? snaps.shift() : undefined;
    const claimRead = snaps.length > 0;
    let claimVersion = version;
    if (claimRead) {
      const [claimSnap, eventSnap] = snaps;
      const stored = readStoredEvent(eventSnap);
      if (stored !== null) return { result: { decision: "emitted", answer: null, event: stored ?? null, stored: true } };
      const claim = readOccurrence(claimSnap);
      // A claim replaced by a newer occurrence of the same content is not this one's: this one is decided without it.
      const ours = claim?.eventId === d.eventId ? claim : null;
      if (ours?.decision) return { result: { decision: ours.decision, answer: null, event: null, stored: false } };
      claimVersion = ours?.version ?? null;
    }
    const stored = readLedger(ledgerSnap?.data());
    const answer = decideInLedger(stored, d.q);
    const onClaim = (w: Writer, decision: Decision) => {
      if (claimVersion) w.update(d.claim, { decision }, { lastUpdateTime: claimVersion });
    };
    // A refusal is written on the claim as this decider knows it: by its version (the claimant's
    // create; another decider lets an event out with a write to the claim, so that this refusal's
    // condition fails and it reads again), else read now with the event doc.
    if (answer.refused && !claimVersion && !claimRead && d.mode !== "unclaimed")
      return { result: { decision: answer.decision, answer, event: null, stored: false }, readAgain: true };
    if (answer.refused) {
      const write = (w: Writer) => {
        // Not the claimant: its refusal stands only on the ledger as it read it, so that it cannot
        // count beside an admission of this occurrence made since (by the claimant, whose
        // admission does not touch the claim), whatever limits each instance had cached.
        if (d.limited && claimRead && ledgerSnap?.exists)
          w.update(d.ledger, refusalUpdate(stored, answer), { lastUpdateTime: ledgerSnap.updateTime as Timestamp });
        else if (d.limited) w.set(d.ledger, refusalFields(stored, answer), { merge: true });
        onClaim(w, answer.decision);
      };
      return { result: { decision: answer.decision, answer, event: null, stored: false }, write };
    }
    const event = await d.emit(answer);
    const write = (w: Writer) => {
      if (d.limited && ledgerSnap?.exists) w.update(d.ledger, admissionFields(stored, answer.next), { lastUpdateTime: ledgerSnap.updateTime as Timestamp });
      else if (d.limited) w.create(d.ledger, admissionFields(stored, answer.next));
      if (event) w.create(d.event, eventDocData(event));
      else onClaim(w, "emitted");
      // Not the claimant: its decision moves the claim's version, so that a refusal the claimant
      // is making meanwhile (the limit filled by this admission) fails its condition.
      if (event && claimRead && claimVersion) w.update(d.claim, { eventOut: true }, { lastUpdateTime: claimVersion });
    };
    return { result: { decision: "emitted", answer, event, stored: false }, write };
  }
}

/** What the flapping count counts (domain/flapping.ts): an outage or a crash, not a held page marked again. */
function flapFields(event: DetectedEvent, at: Date): Record<string, unknown> {
  const kind = flapKindOf(event.type);
  return kind && !event.repeat ? { flapKey: flapKeyOf(kind, event.subject), flapAt: Timestamp.fromDate(at) } : {};
}

/** An alert's channel need not be remembered (another identical alert is a resend either way); a log doc's must, so that an identical one later is a new crash. */
const pairRecorded = (report: ReportInput) => report.channel !== "alert";

const pairFields = (report: ReportInput) => ({
  [`channels.${report.channel}`]: true,
  ...(report.reportId ? { reports: FieldValue.arrayUnion(report.reportId) } : {}),
});
