import { FieldValue, Timestamp, type Firestore } from "firebase-admin/firestore";
import { AUTO_DISABLE_AFTER, failureKeyTime, streakAfterSuccess, streakDecision } from "../domain/webhook-health";
import { healthStateOf, hostCount, ignoreMissing } from "./delivery-writes";
import { paths } from "./paths";

/** A webhook's health after a failure (its rank in the streak, auto-disable) and its lane. */
export class WebhookHealthStore {
  constructor(private readonly db: Firestore) {}

  /**
   * After a failure's blind write: reads the webhook back and acts on the failure's rank in the
   * streak (domain/webhook-health.ts `streakDecision`). Only the failure that reaches the limit
   * runs a transaction, so a hundred concurrent failures contend on nothing. Idempotent: a task
   * redispatched after a crash runs it again for its recorded failure.
   */
  async settleFailure(
    ids: { siteId: string; webhookId: string },
    key: string,
    disableAfter = AUTO_DISABLE_AFTER,
  ): Promise<{ disabled: boolean; failCount: number | null; disabledNow?: true }> {
    const ref = this.db.doc(paths.webhook(ids.siteId, ids.webhookId));
    const state = healthStateOf((await ref.get()).data());
    if (!state) return { disabled: true, failCount: null };
    const decision = streakDecision(state, key, disableAfter);
    if (decision === "uncount") {
      await ref
        .update({ failCount: FieldValue.increment(-1), failStreak: FieldValue.arrayRemove(key), ...hostCount(state.hostShape, FieldValue.increment(-1)) })
        .catch(ignoreMissing);
      return { disabled: true, failCount: null };
    }
    if (decision !== "disable") return { disabled: !state.enabled, failCount: state.failStreak.length };
    const rank = state.failStreak.indexOf(key);
    if (rank > disableAfter - 1) {
      // Past the limit while the webhook is still on: the failure at the limit is switching it
      // off. Only if it still is on after a moment (that handler died) does this one do it.
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 250 * (i + 1)));
        const later = healthStateOf((await ref.get()).data());
        if (!later || streakDecision(later, key, disableAfter) !== "disable") return this.settleFailure(ids, key, disableAfter);
      }
    }
    // Did a delivery succeed since the streak began? Asked outside the transaction: a query in a
    // transaction locks the range it read, and every delivery record of this webhook is in it.
    const first = failureKeyTime(state.failStreak[0] ?? "");
    const success = await this.db
      .collection(paths.deliveries(ids.siteId, ids.webhookId))
      .where("status", "==", "succeeded")
      .where("updatedAt", ">", Timestamp.fromMillis(first))
      .orderBy("updatedAt", "desc")
      .limit(1)
      .get();
    const lastSuccess = success.docs[0]?.get("updatedAt");
    const lastSuccessMs = lastSuccess instanceof Timestamp ? lastSuccess.toMillis() : null;
    return this.db.runTransaction(async (tx) => {
      const now = healthStateOf((await tx.get(ref)).data());
      if (!now || streakDecision(now, key, disableAfter) !== "disable") return { disabled: !now?.enabled, failCount: null };
      const streak = streakAfterSuccess(now.failStreak, lastSuccessMs);
      if (streak.length < disableAfter) {
        // Not consecutive after all: a success came between. The count restarts after it.
        tx.update(ref, { failStreak: streak, failCount: streak.length, ...hostCount(now.hostShape, streak.length) });
        return { disabled: false, failCount: streak.length };
      }
      tx.update(ref, {
        enabled: false,
        disabledReason: "auto",
        failStreak: streak.slice(0, disableAfter),
        failCount: disableAfter,
        ...hostCount(now.hostShape, disableAfter),
      });
      return { disabled: true, failCount: disableAfter, disabledNow: true as const };
    });
  }

  /** The webhook's deliveries go to the slow lane until `until` (a plain write; see domain/delivery-lanes.ts). */
  async markSlow(ids: { siteId: string; webhookId: string }, until: Date): Promise<void> {
    await this.db
      .doc(paths.webhook(ids.siteId, ids.webhookId))
      .update({ slowUntil: Timestamp.fromDate(until) })
      .catch(ignoreMissing);
  }
}
