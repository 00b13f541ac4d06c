import { FieldValue, Timestamp, type Firestore } from "firebase-admin/firestore";
import {
  alertsResent,
  joinOccurrence,
  OCCURRENCE_REPORTS_KEPT,
  occurrenceKeptMs,
  counterId,
  suppressedId,
  type Channel,
  type Decision,
  type Join,
  type LimitSpec,
  type OccurrenceState,
} from "../domain/emission-policy";
import type { DetectedEvent } from "../domain/detected-event";
import { paths } from "./paths";

export interface StoredOccurrence extends OccurrenceState {
  /** Suppressed occurrences of the same subject that this one, once emitted, reports. */
  suppressedBefore: number;
  /** machine.offline: the site's pages counted over its bound that this one, once emitted, reports. */
  siteSuppressed?: number;
  /** Its event is stored and its deliveries enqueued: a later report of it has nothing left to do. */
  emitted: boolean;
}

export interface ReportInput {
  channel: Channel;
  /** Replays of the same report share it; null for an alert (no id of its own). */
  reportId: string | null;
  at: Date;
  /** The event id this report gives the occurrence if it opens one. */
  newEventId: string;
}

function readOccurrence(data: FirebaseFirestore.DocumentData | undefined): StoredOccurrence | null {
  if (!data || typeof data.eventId !== "string" || !(data.firstAt instanceof Timestamp)) return null;
  return {
    eventId: data.eventId,
    firstAtMs: data.firstAt.toMillis(),
    channels: typeof data.channels === "object" && data.channels ? data.channels : {},
    reports: Array.isArray(data.reports) ? data.reports.filter((r: unknown): r is string => typeof r === "string") : [],
    decision: data.decision === "emitted" || data.decision === "suppressed" || data.decision === "counted" ? data.decision : null,
    suppressedBefore: typeof data.suppressedBefore === "number" ? data.suppressedBefore : 0,
    ...(typeof data.siteSuppressed === "number" && data.siteSuppressed > 0 ? { siteSuppressed: data.siteSuppressed } : {}),
    emitted: data.emitted === true,
  };
}

/**
 * Firestore side of the emission policy: occurrences (which reports are one event) and limit
 * windows. It runs once per agent report, never per heartbeat. The suppressed counts are
 * approximate when two handlers decide the same occurrence at once (a takeover, a redelivered
 * trigger): one may count it twice, or report it with the other's count.
 */
export class EmissionStore {
  constructor(readonly db: Firestore) {}

  /**
   * Matches a report to the occurrence stored for its content, in a transaction on that doc
   * alone: only reports with identical content (a crash's log doc and its alert) meet there.
   */
  async recordReport(siteId: string, occurrenceId: string, event: DetectedEvent, report: ReportInput): Promise<{ join: Join; state: StoredOccurrence }> {
    const ref = this.db.doc(paths.occurrence(siteId, occurrenceId));
    return this.db.runTransaction(async (tx) => {
      const state = readOccurrence((await tx.get(ref)).data());
      const join = joinOccurrence(state, { channel: report.channel, reportId: report.reportId, atMs: report.at.getTime() }, alertsResent(event.type));
      const reports = (kept: string[]) => (report.reportId === null ? kept : [...kept, report.reportId].slice(-OCCURRENCE_REPORTS_KEPT));
      if (join === "new") {
        const next: StoredOccurrence = {
          eventId: report.newEventId,
          firstAtMs: report.at.getTime(),
          channels: { [report.channel]: true },
          reports: reports([]),
          decision: null,
          suppressedBefore: 0,
          emitted: false,
        };
        tx.set(ref, {
          eventId: next.eventId,
          firstAt: Timestamp.fromDate(report.at),
          channels: next.channels,
          reports: next.reports,
          decision: null,
          suppressedBefore: 0,
          emitted: false,
          type: event.type,
          machineId: event.machineId,
          subject: event.subject,
          expireAt: Timestamp.fromMillis(report.at.getTime() + occurrenceKeptMs(event)),
        });
        return { join, state: next };
      }
      if (!state) throw new Error("unreachable: a join other than new has a stored occurrence");
      if (join === "pair") {
        tx.update(ref, { [`channels.${report.channel}`]: true, reports: reports(state.reports) });
        return { join, state: { ...state, channels: { ...state.channels, [report.channel]: true } } };
      }
      return { join, state };
    });
  }

  /**
   * Records the occurrence's decision once; a second decider gets the first one's. An emitted
   * occurrence takes, in the same transaction, the held-back counts it reports: its subject's
   * (`suppressedBefore`) and, for machine.offline, its site's (`siteSuppressed`), so each count
   * is said exactly once, by the decision that stands.
   */
  async decide(
    siteId: string,
    occurrenceId: string,
    eventId: string,
    decision: Decision,
    take: { subject?: string | null; site?: string | null } = {},
  ): Promise<StoredOccurrence> {
    const ref = this.db.doc(paths.occurrence(siteId, occurrenceId));
    const keys = decision === "emitted" ? [take.subject ?? null, take.site ?? null] : [null, null];
    const supRefs = keys.map((key) => (key ? this.db.doc(paths.emissionLimit(siteId, suppressedId(key))) : null));
    return this.db.runTransaction(async (tx) => {
      const wanted = [ref, ...supRefs.filter((r): r is FirebaseFirestore.DocumentReference => r !== null)];
      const [snap, ...sups] = await tx.getAll(...wanted);
      const state = readOccurrence(snap?.data());
      if (!state || state.eventId !== eventId) {
        // Replaced meanwhile by a newer occurrence of the same content: this one stands as decided
        // here, and leaves the held-back counts to the next.
        return { eventId, firstAtMs: 0, channels: {}, reports: [], decision, suppressedBefore: 0, emitted: false };
      }
      if (state.decision) return state;
      // Each count not yet reported, marked reported in this transaction.
      const untaken = supRefs.map((r) => {
        const sup = r ? sups.shift() : undefined;
        if (!r || !sup?.exists) return 0;
        const suppressed = Number(sup.get("suppressed") ?? 0);
        const reported = Number(sup.get("reported") ?? 0);
        if (suppressed <= reported) return 0;
        tx.update(r, { reported: suppressed });
        return suppressed - reported;
      });
      const [suppressedBefore = 0, siteSuppressed = 0] = untaken;
      const counts = { suppressedBefore, ...(siteSuppressed > 0 ? { siteSuppressed } : {}) };
      tx.update(ref, { decision, ...counts });
      return { ...state, decision, ...counts };
    });
  }

  /** Its event is stored and enqueued. Only while the doc still stands for this event (a newer occurrence of the same content may have replaced it). */
  async markEmitted(siteId: string, occurrenceId: string, eventId: string): Promise<void> {
    const ref = this.db.doc(paths.occurrence(siteId, occurrenceId));
    await this.db.runTransaction(async (tx) => {
      if ((await tx.get(ref)).get("eventId") === eventId) tx.update(ref, { emitted: true });
    });
  }

  /**
   * Whether `eventId` is among the first `limit` events of this limit's window. The window doc
   * lists granted ids in the order they were appended (`arrayUnion` appends in commit order),
   * so an event's rank is exact without a transaction, and asking again gives the same answer.
   * Once the window is seen full nothing more is appended (reports racing that read may still
   * append, past the limit and refused): the doc stays small under a flood.
   */
  async grant(siteId: string, limit: LimitSpec, window: number, eventId: string): Promise<boolean> {
    const ref = this.db.doc(paths.emissionLimit(siteId, counterId(limit.key, window)));
    const rank = (ids: unknown) => (Array.isArray(ids) ? ids.indexOf(eventId) : -1);
    const granted = (await ref.get()).get("granted");
    const known = rank(granted);
    if (known >= 0) return known < limit.limit;
    if (Array.isArray(granted) && granted.length >= limit.limit) return false;
    await ref.set(
      {
        key: limit.key,
        window,
        granted: FieldValue.arrayUnion(eventId),
        expireAt: Timestamp.fromMillis((window + 2) * limit.windowMs),
      },
      { merge: true },
    );
    const after = rank((await ref.get()).get("granted"));
    return after >= 0 && after < limit.limit;
  }

  /** One more suppressed event of this subject. */
  async addSuppressed(siteId: string, key: string, now: Date): Promise<void> {
    await this.db
      .doc(paths.emissionLimit(siteId, suppressedId(key)))
      .set({ key, suppressed: FieldValue.increment(1), expireAt: Timestamp.fromMillis(now.getTime() + 30 * 86_400_000) }, { merge: true });
  }
}
