/**
 * Paired events stay in order per webhook: a machine.online (a PagerDuty resolve) is not sent
 * before the machine.offline (the trigger) it answers has been delivered, or has failed for good.
 * The answer's attempt is held back and re-enqueued until then, at most HOLD_LIMIT times (over a
 * day: far past the question's own 2.6-hour retry schedule), so nothing waits for ever.
 */
export const HOLD_LIMIT = 200;
const MIN_HOLD_SECONDS = 2;
const MAX_HOLD_SECONDS = 600;

export interface QuestionState {
  /** The question's event doc: whom it was fanned out to (null: gone, or no subscriber then). */
  fannedOutTo: string[] | null;
  /** Its delivery to this webhook: null when not recorded yet. */
  delivery: { status: string; nextAttemptAtMs: number | null } | null;
}

/** Seconds to hold the answer back, or null to send it now. */
export function holdSeconds(webhookId: string, question: QuestionState, hold: number, nowMs: number): number | null {
  if (hold >= HOLD_LIMIT) return null;
  if (!question.fannedOutTo || !question.fannedOutTo.includes(webhookId)) return null;
  const d = question.delivery;
  if (d && d.status !== "pending") return null;
  // Not recorded yet (its task is queued too): look again soon. Pending: just after its next attempt.
  const dueMs = d?.nextAttemptAtMs ?? nowMs;
  const seconds = Math.ceil((dueMs - nowMs) / 1000) + MIN_HOLD_SECONDS;
  return Math.min(MAX_HOLD_SECONDS, Math.max(MIN_HOLD_SECONDS, seconds));
}
