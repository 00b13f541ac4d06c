import { AggregateField, FieldValue, Timestamp, type AggregateQuery, type DocumentReference, type Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import { decideInLedger, flagHolds, ledgerKey } from "../domain/emission-ledger";
import { HOUR_MS, SITE_OFFLINE_KEY, windowOf } from "../domain/emission-policy";
import { FLAPPING, flapKeyOf, type FlapKind } from "../domain/flapping";
import { timestampSchema } from "../domain/agent-docs";
import { FAILED_PRECONDITION, grpcCode, NOT_FOUND } from "./delivery-writes";
import { admissionFields, readLedger, refusalFields, refusalUpdate } from "./ledger-doc";
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
  /** A machine's episode over its site's bound of outage pages: held like the others, told by neither event (counted as the site's, `siteSuppressed`). */
  silent: z.boolean().nullish(),
  checkAt: timestampSchema,
  /** The last look that found it down or not quiet. */
  lastUnquietAt: timestampSchema.nullish(),
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
  /** A machine's episode: its site's bound of outage pages an hour (its flapping event is one of them). */
  siteOfflineLimit?: number;
}

/** Kept this long after its last check: longer than any gap between checks (the TTL is a backstop). */
const KEPT_MS = 30 * 86_400_000;

/** An episode as loaded, and its doc's version then (writes of a look are conditioned on it). */
export interface LoadedEpisode {
  doc: FlapDoc;
  version: Timestamp;
}

export class FlapStore {
  constructor(private readonly db: Firestore) {}

  /** Outages or crashes of one subject of one machine since `sinceMs`: claims with `flapAt` (one aggregation read). */
  private flapsSince(siteId: string, machineId: string, flapKey: string, sinceMs: number): AggregateQuery<{ n: AggregateField<number> }> {
    return this.db
      .collection(paths.occurrences(siteId))
      .where("machineId", "==", machineId)
      .where("flapKey", "==", flapKey)
      .where("flapAt", ">=", Timestamp.fromMillis(sinceMs))
      .aggregate({ n: AggregateField.count() });
  }

  /** `flapKey`: domain/flapping.ts flapKeyOf. */
  async countSince(siteId: string, machineId: string, flapKey: string, sinceMs: number): Promise<number> {
    return (await this.flapsSince(siteId, machineId, flapKey, sinceMs).get()).data().n;
  }

  /**
   * Starts an episode unless one is open for the subject: its doc created and its flag set in
   * the ledger, in one transaction. `capped`: the machine or the site has as many open as allowed.
   */
  async start(siteId: string, ep: NewEpisode): Promise<"started" | "silent" | "open" | "capped"> {
    const ref = this.db.doc(paths.flap(siteId, ep.docId));
    const ledgerRef = this.db.doc(paths.emissionLedger(siteId));
    return this.db.runTransaction(async (tx) => {
      const [flap, ledgerSnap] = await tx.getAll(ref, ledgerRef);
      if (flap?.exists) return "open";
      const ledger = readLedger(ledgerSnap?.data());
      const open = Object.values(ledger?.flapping ?? {}).filter((m) => flagHolds(m, ep.nowMs));
      const machine = ledgerKey(ep.machineId);
      if (open.length >= FLAPPING.perSite || open.filter((m) => m.machine === machine).length >= FLAPPING.perMachine) return "capped";
      // A machine's flapping event is one of its site's outage pages: over the bound, the episode is silent and counted.
      const page =
        ep.kind === "machine" && ep.siteOfflineLimit !== undefined
          ? decideInLedger(ledger, {
              limits: [{ scope: "site", key: SITE_OFFLINE_KEY, limit: ep.siteOfflineLimit, windowMs: HOUR_MS }],
              window: windowOf(ep.nowMs, HOUR_MS),
              subjectKey: null,
              siteKey: null,
              atMs: ep.nowMs,
            })
          : null;
      const silent = page !== null && page.refused !== null;
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
        announced: silent,
        silent,
        // It began on an outage or a crash: quiet is counted from here.
        lastUnquietAt: Timestamp.fromMillis(ep.sinceMs),
        // Looked at soon: an announcement not confirmed by then is made again, and a machine's return is seen.
        checkAt: Timestamp.fromMillis(ep.nowMs + (silent ? FLAPPING.recheckMs : FLAPPING.announceGraceMs)),
        expireAt: Timestamp.fromMillis(ep.nowMs + KEPT_MS),
      });
      const mark = { sinceMs: ep.sinceMs, machine };
      const k = ledgerKey(ep.subjectKey);
      if (ledgerSnap?.exists) {
        const spent = page ? (page.refused ? refusalUpdate(ledger, page) : admissionFields(ledger, page.next)) : {};
        tx.update(ledgerRef, { ...spent, [`flapping.${k}`]: mark });
      } else {
        const spent = page ? (page.refused ? refusalFields(null, page) : admissionFields(null, page.next)) : {};
        tx.set(ledgerRef, { ...spent, flapping: { [k]: mark } }, { merge: true });
      }
      return silent ? "silent" : "started";
    });
  }

  /** Episodes whose look is due, across sites. */
  async due(now: Date, limit: number): Promise<DocumentReference[]> {
    const snap = await this.db.collectionGroup("flaps").where("checkAt", "<=", Timestamp.fromDate(now)).limit(limit).select().get();
    return snap.docs.map((d) => d.ref);
  }

  /** Null: gone; `unreadable`: a doc that does not parse (nothing to act on). */
  async load(ref: DocumentReference): Promise<LoadedEpisode | "unreadable" | null> {
    const snap = await ref.get();
    if (!snap.exists) return null;
    const doc = parseOrNull(flapDocSchema, snap.data());
    return doc && snap.updateTime ? { doc, version: snap.updateTime } : "unreadable";
  }

  /** The machine doc's `rebootPending` (the agent gave up relaunching a process). */
  async rebootPending(siteId: string, machineId: string): Promise<unknown> {
    return (await this.db.doc(paths.machine(siteId, machineId)).get()).get("rebootPending");
  }

  /** Its flapping event sent: looked at again in a few minutes. False: the doc changed since it was loaded (another look). */
  async announced(ref: DocumentReference, version: Timestamp | null, nowMs: number): Promise<boolean> {
    return updateIfUnchanged(ref, { announced: true, checkAt: Timestamp.fromMillis(nowMs + FLAPPING.recheckMs) }, version);
  }

  /** Not stable yet: looked at again at `checkAtMs`. False: the doc changed since it was loaded. */
  async reschedule(ref: DocumentReference, version: Timestamp, checkAtMs: number, unquietAtMs?: number): Promise<boolean> {
    const fields = {
      checkAt: Timestamp.fromMillis(checkAtMs),
      expireAt: Timestamp.fromMillis(checkAtMs + KEPT_MS),
      ...(unquietAtMs !== undefined ? { lastUnquietAt: Timestamp.fromMillis(unquietAtMs) } : {}),
    };
    return updateIfUnchanged(ref, fields, version);
  }

  /**
   * Ends the episode in the ledger, unless an outage or crash came since `quietSinceMs` (counted
   * again inside the transaction): its subject's flag goes, and so does the count of its events
   * held back meanwhile, which its stable event says (kept on the doc as `closing` until that is
   * sent). Null: the doc is gone, another episode's, or its subject is not quiet after all.
   */
  async close(siteId: string, ref: DocumentReference, eventId: string, quietSinceMs: number): Promise<{ suppressed: number } | null> {
    const ledgerRef = this.db.doc(paths.emissionLedger(siteId));
    return this.db.runTransaction(async (tx) => {
      const [flapSnap, ledgerSnap] = await tx.getAll(ref, ledgerRef);
      const flap = parseOrNull(flapDocSchema, flapSnap?.data());
      if (!flap || flap.eventId !== eventId) return null;
      if (flap.closing) return flap.closing;
      if ((await tx.get(this.flapsSince(siteId, flap.machineId, flapKeyOf(flap.kind, flap.subject), quietSinceMs))).data().n > 0) return null;
      const k = ledgerKey(flap.subjectKey);
      // A silent episode's held-back events are said by the subject's next event, as any others.
      const suppressed = flap.silent ? 0 : (readLedger(ledgerSnap?.data())?.pending[k]?.n ?? 0);
      tx.set(ledgerRef, { flapping: { [k]: FieldValue.delete() }, ...(flap.silent ? {} : { held: { [k]: FieldValue.delete() } }) }, { merge: true });
      tx.update(ref, { closing: { suppressed } });
      return { suppressed };
    });
  }

  /** The episode's doc removed once its stable event is out: only its own closing doc (a new episode of the subject may have replaced it). */
  async remove(ref: DocumentReference, eventId: string): Promise<void> {
    await this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      if (snap.get("eventId") === eventId && snap.get("closing")) tx.delete(ref);
    });
  }

  /** A doc that does not parse: removed, with its subject's flag when its `subjectKey` can be read (else the flag stops holding after FLAPPING.maxEpisodeMs). */
  async drop(siteId: string, ref: DocumentReference): Promise<void> {
    await this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      const subjectKey = snap.get("subjectKey") as unknown;
      if (typeof subjectKey === "string")
        tx.set(this.db.doc(paths.emissionLedger(siteId)), { flapping: { [ledgerKey(subjectKey)]: FieldValue.delete() } }, { merge: true });
      tx.delete(ref);
    });
  }

  /** A look that failed: looked at again in a while (unless the episode is another one by now). */
  async backOff(ref: DocumentReference, eventId: string, checkAtMs: number): Promise<void> {
    await this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      if (snap.get("eventId") === eventId) tx.update(ref, { checkAt: Timestamp.fromMillis(checkAtMs) });
    });
  }
}

/** An update conditioned on the doc as loaded (`version`; null: only that it exists): false when it changed or went meanwhile. */
async function updateIfUnchanged(ref: DocumentReference, fields: Record<string, unknown>, version: Timestamp | null): Promise<boolean> {
  try {
    await (version ? ref.update(fields, { lastUpdateTime: version }) : ref.update(fields));
    return true;
  } catch (err) {
    if (grpcCode(err) === FAILED_PRECONDITION || grpcCode(err) === NOT_FOUND) return false;
    throw err;
  }
}
