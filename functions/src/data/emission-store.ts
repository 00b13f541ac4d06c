import { FieldValue, Timestamp, type DocumentReference, type Firestore } from "firebase-admin/firestore";
import { alertsResent, joinOccurrence, occurrenceKeptMs, type Channel, type Decision, type Join, type OccurrenceState } from "../domain/emission-policy";
import { decideInLedger, type LedgerAnswer, type LedgerQuestion } from "../domain/emission-ledger";
import type { DetectedEvent } from "../domain/detected-event";
import { eventDocData, type StoredEvent } from "./event-doc";
import { admissionFields, readLedger, refusalFields } from "./ledger-doc";
import { ALREADY_EXISTS, FAILED_PRECONDITION, grpcCode } from "./delivery-writes";
import { paths } from "./paths";

/** Decisions of one occurrence that find the ledger changed between their read and their write, at most, before the error goes to the caller's retry. */
const MAX_DECIDE_ATTEMPTS = 20;

/** An occurrence as its claim doc says. Its decision is written there when it is not an event out (refused, or nobody subscribed); an event out is its event doc. */
export type StoredOccurrence = OccurrenceState;

export interface ReportInput {
  channel: Channel;
  /** Replays of the same report share it; null for an alert (no id of its own). */
  reportId: string | null;
  at: Date;
  /** The event id this report gives the occurrence if it opens one. */
  newEventId: string;
}

/** What a decision that lets the event out writes: the event doc, or null when nobody subscribes. */
export type EmitWith = (answer: LedgerAnswer) => Promise<StoredEvent | null>;

export interface Decided {
  /** null: the claim is no longer this occurrence's (replaced by a newer one of the same content). */
  decision: Decision | null;
  answer: LedgerAnswer | null;
  /** The event doc written with it (an event out to at least one webhook). */
  event: StoredEvent | null;
}

function readOccurrence(data: FirebaseFirestore.DocumentData | undefined): StoredOccurrence | null {
  if (!data || typeof data.eventId !== "string" || !(data.firstAt instanceof Timestamp)) return null;
  return {
    eventId: data.eventId,
    firstAtMs: data.firstAt.toMillis(),
    channels: typeof data.channels === "object" && data.channels ? data.channels : {},
    reports: Array.isArray(data.reports) ? data.reports.filter((r: unknown): r is string => typeof r === "string") : [],
    decision: data.decision === "emitted" || data.decision === "suppressed" || data.decision === "counted" ? data.decision : null,
  };
}

/**
 * Firestore side of the emission policy. An occurrence is claimed by the first report of it (a
 * `create`: two channels racing meet on the precondition, not in a transaction) and decided on
 * its site's ledger (domain/emission-ledger.ts) in one conditioned commit with its event.
 * A crash reported by log doc and alert costs: the claim (a read and a create), the ledger (a
 * read and a write), the event doc, and the other report's read of the claim.
 */
export class EmissionStore {
  constructor(readonly db: Firestore) {}

  /** Matches a report to the occurrence claimed for its content, claiming it if nothing (recent) is. */
  async claim(siteId: string, occurrenceId: string, event: DetectedEvent, report: ReportInput): Promise<{ join: Join; state: StoredOccurrence }> {
    const ref = this.db.doc(paths.occurrence(siteId, occurrenceId));
    const fresh = this.claimDoc(event, report);
    const state = readOccurrence((await ref.get()).data());
    const join = joinOccurrence(state, { channel: report.channel, reportId: report.reportId, atMs: report.at.getTime() }, alertsResent(event.type));
    if (!state) {
      try {
        await ref.create(fresh.doc);
        return { join: "new", state: fresh.state };
      } catch (err) {
        // The other channel claimed it meanwhile: read what it claimed.
        if (grpcCode(err) !== ALREADY_EXISTS) throw err;
        return this.claim(siteId, occurrenceId, event, report);
      }
    }
    if (join === "new") return this.reclaim(ref, event, report);
    if (join === "pair") {
      // An alert's channel need not be remembered (another identical alert is a resend either
      // way); a log doc's must, so that an identical one later is a new crash.
      if (report.channel !== "alert") {
        await ref.update({ [`channels.${report.channel}`]: true, ...(report.reportId ? { reports: FieldValue.arrayUnion(report.reportId) } : {}) });
      }
      return { join, state: { ...state, channels: { ...state.channels, [report.channel]: true } } };
    }
    return { join, state };
  }

  /** A new occurrence of content claimed before (long ago, or by the same channel): the claim is replaced, in a transaction. */
  private async reclaim(ref: DocumentReference, event: DetectedEvent, report: ReportInput): Promise<{ join: Join; state: StoredOccurrence }> {
    return this.db.runTransaction(async (tx) => {
      const state = readOccurrence((await tx.get(ref)).data());
      const join = joinOccurrence(state, { channel: report.channel, reportId: report.reportId, atMs: report.at.getTime() }, alertsResent(event.type));
      if (join !== "new" && state) return { join, state };
      const fresh = this.claimDoc(event, report);
      tx.set(ref, fresh.doc);
      return { join: "new" as const, state: fresh.state };
    });
  }

  private claimDoc(event: DetectedEvent, report: ReportInput) {
    const state: StoredOccurrence = {
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
      type: event.type,
      machineId: event.machineId,
      subject: event.subject,
      expireAt: Timestamp.fromMillis(report.at.getTime() + occurrenceKeptMs(event)),
    };
    return { state, doc };
  }

  /** Whether an event went out for this occurrence: its decision on the claim, or its event doc. */
  async decisionOf(siteId: string, state: StoredOccurrence): Promise<Decision | null> {
    if (state.decision) return state.decision;
    return (await this.db.doc(paths.event(siteId, state.eventId)).get()).exists ? "emitted" : null;
  }

  /**
   * Decides the occurrence on the site's ledger (domain/emission-ledger.ts), without a
   * transaction: the ledger is read, the limits asked, and
   * - a refusal adds its held-back count with an atomic increment and writes its decision on the
   *   claim (certain whatever else is decided meanwhile: a limit full in its window stays full);
   * - an event out writes the new counts, conditioned on the ledger being as read (its update
   *   time), in one commit with its event doc (or, nobody subscribing, its decision on the
   *   claim). A condition that fails (another decision or refusal came between) reads again.
   * `guarded`: the occurrence may have been decided already (a takeover, a replay); the claim and
   * the event doc are read with the ledger, and a decision made stands (as after any failed
   * condition).
   */
  async decide(siteId: string, occurrenceId: string, eventId: string, q: LedgerQuestion, emit: EmitWith, guarded = false): Promise<Decided> {
    const ledgerRef = this.db.doc(paths.emissionLedger(siteId));
    const claimRef = this.db.doc(paths.occurrence(siteId, occurrenceId));
    const eventRef = this.db.doc(paths.event(siteId, eventId));
    // An event with no limit and no count to say (machine.online) neither reads nor writes the ledger.
    const limited = q.limits.length > 0 || q.subjectKey !== null || q.siteKey !== null;
    let guard = guarded;
    for (let attempt = 1; ; attempt++) {
      const refs = [...(limited ? [ledgerRef] : []), ...(guard ? [claimRef, eventRef] : [])];
      const snaps = refs.length > 0 ? await this.db.getAll(...refs) : [];
      const ledgerSnap = limited ? snaps.shift() : undefined;
      if (guard) {
        const [claim, eventDoc] = snaps;
        if (eventDoc?.exists) return { decision: "emitted", answer: null, event: null };
        const state = readOccurrence(claim?.data());
        if (state?.eventId !== eventId) return { decision: null, answer: null, event: null };
        if (state.decision) return { decision: state.decision, answer: null, event: null };
      }
      const stored = readLedger(ledgerSnap?.data());
      const answer = decideInLedger(stored, q);
      if (answer.refused) {
        await this.db.batch().set(ledgerRef, refusalFields(stored, answer.next), { merge: true }).update(claimRef, { decision: answer.decision }).commit();
        return { decision: answer.decision, answer, event: null };
      }
      const event = await emit(answer);
      const batch = this.db.batch();
      if (limited && ledgerSnap?.exists) batch.update(ledgerRef, admissionFields(stored, answer.next), { lastUpdateTime: ledgerSnap.updateTime as Timestamp });
      else if (limited) batch.create(ledgerRef, admissionFields(stored, answer.next));
      if (event) batch.set(eventRef, eventDocData(event));
      else batch.update(claimRef, { decision: "emitted" });
      try {
        await batch.commit();
        return { decision: "emitted", answer, event };
      } catch (err) {
        const code = grpcCode(err);
        if ((code !== FAILED_PRECONDITION && code !== ALREADY_EXISTS) || attempt >= MAX_DECIDE_ATTEMPTS) throw err;
        // Another decision came first (perhaps this occurrence's own, by a replay racing this
        // report): read again after a moment, spread so racers do not meet again, with the claim
        // and the event doc, so that a decision made stands.
        guard = true;
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
      }
    }
  }
}
