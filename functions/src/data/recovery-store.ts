import { Timestamp, type DocumentData, type Firestore } from "firebase-admin/firestore";
import { deliveryIdFor } from "../domain/ids";
import { isAbandoned, RECOVERY, type RecoveryCandidate, type RecoveryProgress, type RecoveryStatus, type RecoveryStop } from "../domain/recovery";
import type { DeliveryStatus } from "../domain/webhook-vocabulary";
import { expiryFrom, paths } from "./paths";

/** `sites/{s}/webhooks/{w}/recoveries/{id}`: one recover action's plan and where it stands. Server only. */
export interface RecoveryDoc extends RecoveryProgress {
  id: string;
  siteId: string;
  webhookId: string;
  sinceMs: number;
  untilMs: number;
  status: RecoveryStatus;
  reason: RecoveryStop | null;
  /** The planned events, oldest first; `cursor` is the next to re-send. */
  items: string[];
  /** The event whose re-send stopped the recovery. */
  stoppedAt: string | null;
  /** The task step expected next: a step dispatched twice, or late, finds another number and does nothing. */
  step: number;
  /** When the last re-send started (epoch ms): the next keeps the pace from it. */
  lastStartMs: number | null;
  createdBy: string;
  createdAtMs: number;
  updatedAtMs: number;
}

const ms = (v: unknown): number => (v instanceof Timestamp ? v.toMillis() : 0);
const num = (v: unknown): number => (typeof v === "number" ? v : 0);

function fromData(id: string, d: DocumentData): RecoveryDoc {
  return {
    id,
    siteId: String(d.siteId ?? ""),
    webhookId: String(d.webhookId ?? ""),
    sinceMs: ms(d.since),
    untilMs: ms(d.until),
    status: (d.status ?? "stopped") as RecoveryStatus,
    reason: (d.reason ?? null) as RecoveryStop | null,
    items: Array.isArray(d.items) ? d.items.filter((x): x is string => typeof x === "string") : [],
    cursor: num(d.cursor),
    total: num(d.total),
    sent: num(d.sent),
    alreadyDelivered: num(d.alreadyDelivered),
    unavailable: num(d.unavailable),
    stoppedAt: typeof d.stoppedAt === "string" ? d.stoppedAt : null,
    step: num(d.step),
    lastStartMs: typeof d.lastStartMs === "number" ? d.lastStartMs : null,
    createdBy: String(d.createdBy ?? ""),
    createdAtMs: ms(d.createdAt),
    updatedAtMs: ms(d.updatedAt),
  };
}

function toData(r: RecoveryDoc): DocumentData {
  return {
    id: r.id,
    siteId: r.siteId,
    webhookId: r.webhookId,
    since: Timestamp.fromMillis(r.sinceMs),
    until: Timestamp.fromMillis(r.untilMs),
    status: r.status,
    reason: r.reason,
    items: r.items,
    cursor: r.cursor,
    total: r.total,
    sent: r.sent,
    alreadyDelivered: r.alreadyDelivered,
    unavailable: r.unavailable,
    stoppedAt: r.stoppedAt,
    step: r.step,
    lastStartMs: r.lastStartMs,
    createdBy: r.createdBy,
    createdAt: Timestamp.fromMillis(r.createdAtMs),
    updatedAt: Timestamp.fromMillis(r.updatedAtMs),
    expireAt: Timestamp.fromDate(expiryFrom(new Date(r.createdAtMs))),
  };
}

export type CreateResult = { kind: "created"; recovery: RecoveryDoc } | { kind: "running"; recovery: RecoveryDoc };

/** Recoveries: what a window holds to re-send, one running at a time per webhook, and each step's progress. */
export class RecoveryStore {
  constructor(private readonly db: Firestore) {}

  /**
   * Every event of the window the webhook may not have got: its deliveries that failed or were
   * skipped in it (by the time of that last change, `updatedAt`), and the events it missed while
   * off (`missedBy`, by `occurredAt`), each with its delivery as it stands and its time.
   * "too_many" when the window holds more than a recovery re-sends.
   */
  async candidates(siteId: string, webhookId: string, window: { sinceMs: number; untilMs: number }): Promise<RecoveryCandidate[] | "too_many"> {
    const cap = RECOVERY.maxItems + 1;
    const since = Timestamp.fromMillis(window.sinceMs);
    const until = Timestamp.fromMillis(window.untilMs);
    const settled = (status: DeliveryStatus) =>
      this.db
        .collection(paths.deliveries(siteId, webhookId))
        .where("status", "==", status)
        .where("updatedAt", ">=", since)
        .where("updatedAt", "<", until)
        .orderBy("updatedAt", "desc")
        .limit(cap)
        .get();
    const [failed, skipped, missed] = await Promise.all([
      settled("failed"),
      settled("skipped"),
      this.db
        .collection(paths.events(siteId))
        .where("missedBy", "array-contains", webhookId)
        .where("occurredAt", ">=", since)
        .where("occurredAt", "<", until)
        .orderBy("occurredAt", "asc")
        .limit(cap)
        .get(),
    ]);
    if (failed.size >= cap || skipped.size >= cap || missed.size >= cap) return "too_many";

    const delivered = [...failed.docs, ...skipped.docs].filter((d) => typeof d.get("eventId") === "string");
    const times = await this.getAll(
      delivered.map((d) => paths.event(siteId, String(d.get("eventId")))),
      ["occurredAt"],
    );
    const fromDeliveries: RecoveryCandidate[] = delivered.map((d, i) => ({
      eventId: String(d.get("eventId")),
      occurredAtMs: ms(times[i]?.get("occurredAt")) || ms(d.get("createdAt")),
      delivery: { status: d.get("status") as DeliveryStatus, skippedReason: d.get("skippedReason") as string | null | undefined },
    }));
    const missedDeliveries = await this.getAll(
      missed.docs.map((e) => paths.delivery(siteId, webhookId, deliveryIdFor(e.id, webhookId))),
      ["status", "skippedReason"],
    );
    const fromMissed: RecoveryCandidate[] = missed.docs.map((e, i) => {
      const d = missedDeliveries[i];
      return {
        eventId: e.id,
        occurredAtMs: ms(e.get("occurredAt")),
        delivery: d?.exists ? { status: d.get("status") as DeliveryStatus, skippedReason: d.get("skippedReason") as string | null | undefined } : null,
      };
    });
    return [...fromDeliveries, ...fromMissed];
  }

  private async getAll(refPaths: string[], fieldMask: string[]) {
    if (refPaths.length === 0) return [];
    const out: FirebaseFirestore.DocumentSnapshot[] = [];
    for (let i = 0; i < refPaths.length; i += 300) {
      const refs = refPaths.slice(i, i + 300).map((p) => this.db.doc(p));
      out.push(...(await this.db.getAll(...refs, { fieldMask })));
    }
    return out;
  }

  /**
   * Creates the recovery unless one of the webhook's is running (and moving). One that stopped
   * moving lost its task chain: it is marked stopped (`abandoned`) in the same transaction.
   */
  async create(recovery: RecoveryDoc): Promise<CreateResult> {
    const { siteId, webhookId } = recovery;
    const running = this.db.collection(paths.recoveries(siteId, webhookId)).where("status", "==", "running").limit(10);
    return this.db.runTransaction(async (tx) => {
      const found = await tx.get(running);
      for (const doc of found.docs) {
        const current = fromData(doc.id, doc.data());
        if (!isAbandoned(current.updatedAtMs, recovery.createdAtMs)) return { kind: "running", recovery: current };
      }
      for (const doc of found.docs) tx.update(doc.ref, { status: "stopped", reason: "abandoned", updatedAt: Timestamp.fromMillis(recovery.createdAtMs) });
      tx.create(this.db.doc(paths.recovery(siteId, webhookId, recovery.id)), toData(recovery));
      return { kind: "created", recovery };
    });
  }

  async load(ids: { siteId: string; webhookId: string; recoveryId: string }): Promise<RecoveryDoc | null> {
    const snap = await this.db.doc(paths.recovery(ids.siteId, ids.webhookId, ids.recoveryId)).get();
    return snap.exists ? fromData(snap.id, snap.data() ?? {}) : null;
  }

  /** A step's progress, saved only if the recovery still expects that step: false when another got there first. */
  async saveStep(
    ids: { siteId: string; webhookId: string; recoveryId: string },
    step: number,
    next: Pick<RecoveryDoc, "cursor" | "sent" | "alreadyDelivered" | "unavailable" | "status" | "reason" | "stoppedAt" | "lastStartMs">,
    nowMs: number,
  ): Promise<boolean> {
    const ref = this.db.doc(paths.recovery(ids.siteId, ids.webhookId, ids.recoveryId));
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      if (!snap.exists || snap.get("status") !== "running" || snap.get("step") !== step) return false;
      tx.update(ref, { ...next, step: step + 1, updatedAt: Timestamp.fromMillis(nowMs) });
      return true;
    });
  }

  /** A recovery whose chain could not start: stopped at once, so another may start. */
  async abandon(ids: { siteId: string; webhookId: string; recoveryId: string }, nowMs: number): Promise<void> {
    await this.db
      .doc(paths.recovery(ids.siteId, ids.webhookId, ids.recoveryId))
      .update({ status: "stopped", reason: "abandoned", updatedAt: Timestamp.fromMillis(nowMs) });
  }
}
