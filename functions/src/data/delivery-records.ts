import { FieldValue, Timestamp, type Firestore } from "firebase-admin/firestore";
import { shownLastStatus } from "../domain/attempt-result";
import { statusAfterAttempt } from "../domain/delivery-states";
import type { HostShape } from "../domain/host-vocabulary";
import { failureKey, healthAfterAttempt, type HealthUpdate, type HealthWrite } from "../domain/webhook-health";
import { ALREADY_EXISTS, deliveryWrite, FAILED_PRECONDITION, grpcCode, healthFields, withoutMissingWebhook, type DeliveryRecordWrite } from "./delivery-writes";
import { parseOrNull } from "./parse";
import { expiryFrom, paths } from "./paths";
import { deliveryDocSchema, webhookDocSchema, type DeliveryStatus } from "./webhook-docs";

/**
 * The delivery record and its states: every write that changes a record is here, one per
 * transition of domain/delivery-states.ts (`DELIVERY_TRANSITIONS`, which names them).
 */
export class DeliveryRecords {
  constructor(private readonly db: Firestore) {}

  /**
   * The record of a first attempt dispatched for the first time: the delivery doc is created,
   * with the outcome's webhook write (if any) in the same commit, and nothing is read. Another
   * dispatch of the same task that recorded first makes this one a duplicate (Cloud Tasks
   * delivers at least once); the request went out twice, with the same ids.
   */
  async recordFirstAttempt(input: {
    siteId: string;
    webhookId: string;
    delivery: DeliveryRecordWrite;
    health: HealthWrite | null;
    now: Date;
    /** An adopted host doc: its health is also written in the host's names (domain/host-adoption.ts). */
    hostShape?: HostShape | null | undefined;
  }): Promise<"recorded" | "duplicate"> {
    const deliveryRef = this.db.doc(paths.delivery(input.siteId, input.webhookId, input.delivery.id));
    const commit = (health: HealthWrite | null) => {
      const batch = this.db.batch();
      // Created whole: on a new doc the append and the increment give [attempt] and 1.
      batch.create(deliveryRef, deliveryWrite({ ...input.delivery, firstAttempt: true }, input.now));
      if (health) batch.update(this.db.doc(paths.webhook(input.siteId, input.webhookId)), healthFields(health, input.hostShape));
      return batch.commit();
    };
    try {
      await withoutMissingWebhook(commit, input.health);
      return "recorded";
    } catch (err) {
      if (grpcCode(err) === ALREADY_EXISTS) return "duplicate";
      throw err;
    }
  }

  /**
   * The record of any other attempt (a later one, a redispatched task, a manual retry): a
   * transaction on the delivery doc alone, which re-reads it so a manual retry and a scheduled
   * attempt finishing together cannot undo each other (a succeeded delivery stays succeeded; a
   * failed manual retry leaves a pending delivery on its schedule), with the outcome's webhook
   * write blind in the same commit. Returns null when this attempt was recorded meanwhile.
   */
  async recordAttempt(input: {
    siteId: string;
    webhookId: string;
    delivery: DeliveryRecordWrite;
    ok: boolean;
    health: HealthWrite | null;
    now: Date;
    hostShape?: HostShape | null | undefined;
  }): Promise<{ status: DeliveryStatus } | null> {
    const deliveryRef = this.db.doc(paths.delivery(input.siteId, input.webhookId, input.delivery.id));
    const { attempt } = input.delivery;
    const run = (health: HealthWrite | null) =>
      this.db.runTransaction(async (tx) => {
        const snap = await tx.get(deliveryRef);
        const current = parseOrNull(deliveryDocSchema, snap.data());
        if (!attempt.manual && current?.attempts.some((a) => a.attempt === attempt.attempt && !a.manual)) return null;
        // A succeeded delivery stays succeeded; a failed manual retry keeps a pending one on its schedule.
        const { status, keepSchedule } = statusAfterAttempt(current?.status ?? null, input.delivery.status, { manual: attempt.manual === true, ok: input.ok });
        const write = { ...input.delivery, status };
        // An attempt on a delivery skipped before (a retry, a recover) ends its skip: the reason goes with it.
        const unskip = snap.get("skippedReason") !== undefined ? { skippedReason: FieldValue.delete() } : {};
        tx.set(deliveryRef, { ...deliveryWrite({ ...write, firstAttempt: !snap.exists }, input.now, { keepSchedule }), ...unskip }, { merge: true });
        if (health) tx.update(this.db.doc(paths.webhook(input.siteId, input.webhookId)), healthFields(health, input.hostShape));
        return { status: write.status };
      });
    return withoutMissingWebhook(run, input.health);
  }

  /** A pending delivery whose webhook was switched off while its attempt was out: no further attempt. */
  async stopDelivery(ids: { siteId: string; webhookId: string; deliveryId: string }, now: Date): Promise<void> {
    // A conditional write, not a transaction: it applies only if the doc is unchanged since read.
    const ref = this.db.doc(paths.delivery(ids.siteId, ids.webhookId, ids.deliveryId));
    for (let i = 0; i < 5; i++) {
      const snap = await ref.get();
      if (snap.get("status") !== "pending" || !snap.updateTime) return;
      try {
        await ref.update({ status: "failed", nextAttempt: null, nextAttemptAt: null, updatedAt: Timestamp.fromDate(now) }, { lastUpdateTime: snap.updateTime });
        return;
      } catch (err) {
        if (grpcCode(err) !== FAILED_PRECONDITION) throw err;
      }
    }
  }

  /**
   * Outcomes an earlier version parked on a delivery doc (`healthPending`) before applying them
   * to the webhook: applied once, in one transaction over both docs that also clears them. The
   * current version records an outcome and its webhook write in one commit and parks nothing.
   * Stops a pending delivery whose webhook is gone or off.
   */
  async applyPendingHealth(ids: { siteId: string; webhookId: string; deliveryId: string }): Promise<{ health: HealthUpdate | null; status: DeliveryStatus }> {
    const webhookRef = this.db.doc(paths.webhook(ids.siteId, ids.webhookId));
    const deliveryRef = this.db.doc(paths.delivery(ids.siteId, ids.webhookId, ids.deliveryId));
    return this.db.runTransaction(
      async (tx) => {
        const [webhookSnap, deliverySnap] = await tx.getAll(webhookRef, deliveryRef);
        const delivery = parseOrNull(deliveryDocSchema, deliverySnap?.data());
        const outcomes = Object.values(delivery?.healthPending ?? {}).sort((a, b) => a.at.toMillis() - b.at.toMillis());
        if (!delivery || outcomes.length === 0) return { health: null, status: delivery?.status ?? "failed" };
        const current = webhookSnap?.exists ? parseOrNull(webhookDocSchema, webhookSnap.data()) : null;
        let state = current ? { enabled: current.enabled, failCount: current.failCount, lastStatus: current.lastStatus ?? null } : null;
        let streak = current?.failStreak ?? [];
        let health = null as HealthUpdate | null;
        for (const outcome of outcomes) {
          // Parked with the sender's finer word; the webhook doc gets the outcome word.
          const shown = { ...outcome, lastStatus: shownLastStatus(outcome.lastStatus) ?? outcome.lastStatus };
          const next = state ? healthAfterAttempt(state, shown, outcome.at.toMillis()) : null;
          if (!next || !state) continue;
          streak = outcome.ok ? [] : [...streak, failureKey(outcome.at.toMillis(), ids.deliveryId, outcome.attempt)];
          health = health ? { ...health, ...next } : next;
          state = { enabled: next.enabled ?? state.enabled, failCount: next.failCount, lastStatus: next.lastStatus };
        }
        if (health) tx.update(webhookRef, { ...health, failStreak: streak, lastDeliveryAt: Timestamp.fromDate(health.lastDeliveryAt) });
        const stopped = !state || !state.enabled;
        const status: DeliveryStatus = stopped && delivery.status === "pending" ? "failed" : delivery.status;
        tx.update(deliveryRef, {
          healthPending: FieldValue.delete(),
          ...(status !== delivery.status ? { status, nextAttempt: null, nextAttemptAt: null } : {}),
        });
        return { health, status };
      },
      { maxAttempts: 10 },
    );
  }

  /**
   * Marks a delivery that will not be attempted (webhook disabled or deleted, event gone): from
   * no record (a create, nothing read; `firstRecord`) or from a pending one. A record another
   * dispatch finished meanwhile stays as it is (domain/delivery-states.ts).
   */
  async recordSkipped(
    ids: { siteId: string; webhookId: string; deliveryId: string; eventId: string; eventType: string | null },
    reason: string,
    now: Date,
    firstRecord: boolean,
  ): Promise<void> {
    const ref = this.db.doc(paths.delivery(ids.siteId, ids.webhookId, ids.deliveryId));
    const skipped = {
      id: ids.deliveryId,
      siteId: ids.siteId,
      webhookId: ids.webhookId,
      eventId: ids.eventId,
      eventType: ids.eventType,
      status: "skipped",
      skippedReason: reason,
      nextAttempt: null,
      updatedAt: Timestamp.fromDate(now),
    };
    // History is listed by createdAt; a delivery skipped before any attempt starts here.
    const created = { createdAt: Timestamp.fromDate(now), expireAt: Timestamp.fromDate(expiryFrom(now)) };
    if (firstRecord) {
      try {
        await ref.create({ ...skipped, ...created });
        return;
      } catch (err) {
        if (grpcCode(err) !== ALREADY_EXISTS) throw err;
      }
    }
    await this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      if (snap.exists && snap.get("status") !== "pending") return;
      tx.set(ref, { ...skipped, ...(snap.exists ? {} : created) }, { merge: true });
    });
  }
}
