import { AggregateField, FieldValue, Timestamp, type DocumentReference, type Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import { ledgerKey } from "../domain/emission-ledger";
import { FLAPPING, type FlapKind } from "../domain/flapping";
import { timestampSchema } from "../domain/agent-docs";
import { readLedger } from "./ledger-doc";
import { parseOrNull } from "./parse";
import { paths } from "./paths";

/**
 * An episode of flapping, `sites/{siteId}/flaps/{flapDocId}` (server-only, domain/flapping.ts):
 * what flaps, since when, its flapping event and when the sweep looks at it next (`checkAt`).
 * Its subject's flag in the site's emission ledger (`flapping`) holds its events back; both are
 * written together, and both go when the episode ends.
 */
export const flapDocSchema = z.object({
  kind: z.enum(["machine", "process"]),
  machineId: z.string(),
  /** The occurrences' subject: `presence`, or the process. */
  subject: z.string(),
  /** The subject's emission-limit key (suppressionKey), unhashed. */
  subjectKey: z.string(),
  processName: z.string().nullish(),
  processId: z.string().nullish(),
  since: timestampSchema,
  /** Outages or crashes in the window when it began. */
  flaps: z.number().int().nonnegative(),
  eventId: z.string(),
  announced: z.boolean(),
  checkAt: timestampSchema,
  /** A machine's: the last check that found it down. */
  lastDownSeenAt: timestampSchema.nullish(),
  /** Set when the episode has ended in the ledger: its stable event is what is left to send. */
  closing: z.object({ suppressed: z.number().int().nonnegative() }).nullish(),
});
export type FlapDoc = z.infer<typeof flapDocSchema>;

export interface NewEpisode {
  docId: string;
  kind: FlapKind;
  machineId: string;
  subject: string;
  subjectKey: string;
  processName: string | null;
  processId: string | null;
  sinceMs: number;
  flaps: number;
  eventId: string;
  nowMs: number;
}

/** Kept this long after its last check: longer than any gap between checks (the TTL is a backstop). */
const KEPT_MS = 30 * 86_400_000;

export class FlapStore {
  constructor(private readonly db: Firestore) {}

  /** Outages or crashes of one subject of one machine since `sinceMs` (its occurrence docs: one aggregation read per 1,000). */
  async countSince(siteId: string, machineId: string, subject: string, sinceMs: number): Promise<number> {
    const snap = await this.db
      .collection(paths.occurrences(siteId))
      .where("machineId", "==", machineId)
      .where("subject", "==", subject)
      .where("firstAt", ">=", Timestamp.fromMillis(sinceMs))
      .aggregate({ n: AggregateField.count() })
      .get();
    return snap.data().n;
  }

  /**
   * Starts an episode unless one is open for the subject: its doc created and its flag set in
   * the ledger, in one transaction. `capped`: the machine or the site has as many open as allowed.
   */
  async start(siteId: string, ep: NewEpisode): Promise<"started" | "open" | "capped"> {
    const ref = this.db.doc(paths.flap(siteId, ep.docId));
    const ledgerRef = this.db.doc(paths.emissionLedger(siteId));
    return this.db.runTransaction(async (tx) => {
      const [flap, ledger] = await tx.getAll(ref, ledgerRef);
      if (flap?.exists) return "open";
      const open = Object.values(readLedger(ledger?.data())?.flapping ?? {});
      const machine = ledgerKey(ep.machineId);
      if (open.length >= FLAPPING.perSite || open.filter((m) => m.machine === machine).length >= FLAPPING.perMachine) return "capped";
      tx.create(ref, {
        kind: ep.kind,
        machineId: ep.machineId,
        subject: ep.subject,
        subjectKey: ep.subjectKey,
        processName: ep.processName,
        processId: ep.processId,
        since: Timestamp.fromMillis(ep.sinceMs),
        flaps: ep.flaps,
        eventId: ep.eventId,
        announced: false,
        // Looked at soon if its flapping event is not confirmed sent by then.
        checkAt: Timestamp.fromMillis(ep.nowMs + FLAPPING.announceGraceMs),
        expireAt: Timestamp.fromMillis(ep.nowMs + KEPT_MS),
      });
      tx.set(ledgerRef, { flapping: { [ledgerKey(ep.subjectKey)]: { sinceMs: ep.sinceMs, machine } } }, { merge: true });
      return "started";
    });
  }

  /** Episodes whose check is due, across sites. */
  async due(now: Date, limit: number): Promise<DocumentReference[]> {
    const snap = await this.db.collectionGroup("flaps").where("checkAt", "<=", Timestamp.fromDate(now)).limit(limit).select().get();
    return snap.docs.map((d) => d.ref);
  }

  async load(ref: DocumentReference): Promise<FlapDoc | null> {
    return parseOrNull(flapDocSchema, (await ref.get()).data());
  }

  /** Its flapping event sent: looked at again when it may be stable. */
  async announced(ref: DocumentReference, nowMs: number): Promise<void> {
    await ref.update({ announced: true, checkAt: Timestamp.fromMillis(nowMs + FLAPPING.stableAfterMs) });
  }

  /** Not stable yet: looked at again at `checkAtMs`. */
  async reschedule(ref: DocumentReference, checkAtMs: number, downSeenAtMs?: number): Promise<void> {
    await ref.update({
      checkAt: Timestamp.fromMillis(checkAtMs),
      expireAt: Timestamp.fromMillis(checkAtMs + KEPT_MS),
      ...(downSeenAtMs !== undefined ? { lastDownSeenAt: Timestamp.fromMillis(downSeenAtMs) } : {}),
    });
  }

  /**
   * Ends the episode in the ledger: its subject's flag goes, and so does the count of its events
   * held back meanwhile, which its stable event says (kept on the doc as `closing` until that is
   * sent). Null: the doc is gone or another episode's.
   */
  async close(siteId: string, ref: DocumentReference, eventId: string): Promise<{ suppressed: number } | null> {
    const ledgerRef = this.db.doc(paths.emissionLedger(siteId));
    return this.db.runTransaction(async (tx) => {
      const [flapSnap, ledgerSnap] = await tx.getAll(ref, ledgerRef);
      const flap = parseOrNull(flapDocSchema, flapSnap?.data());
      if (!flap || flap.eventId !== eventId) return null;
      if (flap.closing) return flap.closing;
      const k = ledgerKey(flap.subjectKey);
      const suppressed = readLedger(ledgerSnap?.data())?.pending[k]?.n ?? 0;
      tx.set(ledgerRef, { flapping: { [k]: FieldValue.delete() }, held: { [k]: FieldValue.delete() } }, { merge: true });
      tx.update(ref, { closing: { suppressed } });
      return { suppressed };
    });
  }

  /** The episode's doc removed once its stable event is out (no other episode of its subject starts while it is there). */
  async remove(ref: DocumentReference): Promise<void> {
    await ref.delete();
  }
}
