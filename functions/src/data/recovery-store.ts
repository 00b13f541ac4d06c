import { Timestamp, type DocumentData, type Firestore } from "firebase-admin/firestore";
import { deliveryIdFor } from "../domain/ids";
import {
  isAbandoned,
  RECOVERABLE_SKIPS,
  RECOVERY,
  type RecoveryCandidate,
  type RecoveryProgress,
  type RecoveryStatus,
  type RecoveryStop,
} from "../domain/recovery";
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
  /** The planned events that are questions: each is checked against its answer before it is re-sent. */
  questions: string[];
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
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

function fromData(id: string, d: DocumentData): RecoveryDoc {
  return {
    id,
    siteId: String(d.siteId ?? ""),
    webhookId: String(d.webhookId ?? ""),
    sinceMs: ms(d.since),
    untilMs: ms(d.until),
    status: (d.status ?? "stopped") as RecoveryStatus,
    reason: (d.reason ?? null) as RecoveryStop | null,
    items: strings(d.items),
    questions: strings(d.questions),
    cursor: num(d.cursor),
    total: num(d.total),
    sent: num(d.sent),
    alreadyDelivered: num(d.alreadyDelivered),
    answered: num(d.answered),
    rejected: num(d.rejected),
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
    questions: r.questions,
    cursor: r.cursor,
    total: r.total,
    sent: r.sent,
    alreadyDelivered: r.alreadyDelivered,
    answered: r.answered,
    rejected: r.rejected,
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
    const settled = (field: "status" | "skippedReason", values: string[]) =>
      this.db
        .collection(paths.deliveries(siteId, webhookId))
        .where(field, values.length === 1 ? "==" : "in", values.length === 1 ? values[0] : values)
        .where("updatedAt", ">=", since)
        .where("updatedAt", "<", until)
        .orderBy("updatedAt", "desc")
        .limit(cap)
        .get();
    const [failed, skipped, missed] = await Promise.all([
      settled("status", ["failed"]),
      // Only skips made while the webhook was off are re-sent: the others do not count toward the cap.
      settled("skippedReason", [...RECOVERABLE_SKIPS]),
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
      type: String(d.get("eventType") ?? ""),
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
        type: String(e.get("type") ?? ""),
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

  /** The webhook's recovery that is running and moving, if any: one query, read before a plan is made. */
  async running(siteId: string, webhookId: string, nowMs: number): Promise<RecoveryDoc | null> {
    const found = await this.db.collection(paths.recoveries(siteId, webhookId)).where("status", "==", "running").limit(10).get();
    return found.docs.map((d) => fromData(d.id, d.data())).find((r) => !isAbandoned(r.updatedAtMs, nowMs)) ?? null;
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

  /**
   * Takes the recovery for one step: only while it runs, expects that step and no other dispatch
   * holds it. `taken`: another dispatch of the step holds it now (this one is tried again later);
   * `gone`: it is stopped, done, or past this step (`doc` says where it is).
   */
  async claimStep(
    ids: { siteId: string; webhookId: string; recoveryId: string },
    step: number,
    lease: string,
    nowMs: number,
  ): Promise<{ kind: "claimed" | "taken" | "gone"; doc: RecoveryDoc | null }> {
    const ref = this.db.doc(paths.recovery(ids.siteId, ids.webhookId, ids.recoveryId));
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      const doc = snap.exists ? fromData(snap.id, snap.data() ?? {}) : null;
      if (!doc || doc.status !== "running" || doc.step !== step) return { kind: "gone", doc };
      if (typeof snap.get("leaseUntilMs") === "number" && snap.get("leaseUntilMs") > nowMs && snap.get("lease") !== lease) return { kind: "taken", doc };
      tx.update(ref, { lease, leaseUntilMs: nowMs + RECOVERY.leaseMs, updatedAt: Timestamp.fromMillis(nowMs) });
      return { kind: "claimed", doc };
    });
  }

  /** A step's progress, saved only if this dispatch still holds that step: false when another got there first. */
  async saveStep(
    ids: { siteId: string; webhookId: string; recoveryId: string },
    step: number,
    lease: string,
    next: Pick<
      RecoveryDoc,
      "cursor" | "sent" | "alreadyDelivered" | "answered" | "rejected" | "unavailable" | "status" | "reason" | "stoppedAt" | "lastStartMs"
    >,
    nowMs: number,
  ): Promise<boolean> {
    const ref = this.db.doc(paths.recovery(ids.siteId, ids.webhookId, ids.recoveryId));
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      if (!snap.exists || snap.get("status") !== "running" || snap.get("step") !== step || snap.get("lease") !== lease) return false;
      tx.update(ref, { ...next, step: step + 1, lease: null, leaseUntilMs: null, updatedAt: Timestamp.fromMillis(nowMs) });
      return true;
    });
  }

  /** A step that failed part way: what it did saved, the step let go (not advanced), if this dispatch still holds it. */
  async releaseStep(
    ids: { siteId: string; webhookId: string; recoveryId: string },
    step: number,
    lease: string,
    done: Pick<RecoveryDoc, "cursor" | "sent" | "alreadyDelivered" | "answered" | "rejected" | "unavailable" | "lastStartMs">,
    nowMs: number,
  ): Promise<void> {
    const ref = this.db.doc(paths.recovery(ids.siteId, ids.webhookId, ids.recoveryId));
    await this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      if (snap.get("step") !== step || snap.get("lease") !== lease) return;
      const { cursor, sent, alreadyDelivered, answered, rejected, unavailable, lastStartMs } = done;
      tx.update(ref, {
        cursor,
        sent,
        alreadyDelivered,
        answered,
        rejected,
        unavailable,
        lastStartMs,
        lease: null,
        leaseUntilMs: null,
        updatedAt: Timestamp.fromMillis(nowMs),
      });
    });
  }

  /** A recovery whose chain could not start, or whose step failed for the last time: stopped (if still at that step), so another may start. */
  async abandon(ids: { siteId: string; webhookId: string; recoveryId: string }, step: number, nowMs: number): Promise<void> {
    const ref = this.db.doc(paths.recovery(ids.siteId, ids.webhookId, ids.recoveryId));
    await this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      if (snap.get("status") === "running" && snap.get("step") === step)
        tx.update(ref, { status: "stopped", reason: "abandoned", updatedAt: Timestamp.fromMillis(nowMs) });
    });
  }
}
