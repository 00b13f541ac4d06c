import type { DeliveryStatus } from "./webhook-vocabulary";

/**
 * The delivery record's states and the transitions between them. `null` is "no record yet".
 * Each transition is made by one write of `data/delivery-records.ts`, named in `by`; the record
 * is never changed otherwise (the console and the API only read it).
 *
 *   (none) ──first attempt──> pending | succeeded | failed
 *   (none) | pending ──skip──> skipped           (webhook off or deleted, event gone)
 *   pending ──later attempt──> pending | succeeded | failed
 *   pending ──stop──> failed                     (its webhook was switched off meanwhile)
 *   failed | skipped | pending ──manual retry──> succeeded | failed | pending (a pending one stays on its schedule)
 *   succeeded ──any attempt──> succeeded         (an attempt that crossed a success records beside it)
 */
export interface DeliveryTransition {
  from: DeliveryStatus | null;
  to: readonly DeliveryStatus[];
  by: "recordFirstAttempt" | "recordAttempt" | "recordSkipped" | "stopDelivery" | "applyPendingHealth";
  /** The write that makes it. */
  write: string;
}

export const DELIVERY_TRANSITIONS: readonly DeliveryTransition[] = [
  {
    from: null,
    to: ["pending", "succeeded", "failed"],
    by: "recordFirstAttempt",
    write: "create of the record, the webhook's health in the same batch; nothing read",
  },
  { from: null, to: ["skipped"], by: "recordSkipped", write: "merged set of the record, its history starting there" },
  { from: "pending", to: ["skipped"], by: "recordSkipped", write: "merged set of the record" },
  {
    from: "pending",
    to: ["pending", "succeeded", "failed"],
    by: "recordAttempt",
    write: "transaction on the record (re-read), the webhook's health blind in the same commit",
  },
  { from: "failed", to: ["succeeded", "failed"], by: "recordAttempt", write: "the same transaction, for a manual retry" },
  { from: "skipped", to: ["succeeded", "failed"], by: "recordAttempt", write: "the same transaction, for a manual retry" },
  { from: "succeeded", to: ["succeeded"], by: "recordAttempt", write: "the same transaction: the attempt is recorded, the status kept" },
  { from: null, to: ["pending", "succeeded", "failed"], by: "recordAttempt", write: "the same transaction, when a redispatch finds no record" },
  { from: "pending", to: ["failed"], by: "stopDelivery", write: "update conditioned on the version read" },
  { from: "pending", to: ["failed"], by: "applyPendingHealth", write: "transaction over the record and its webhook (records an earlier version parked)" },
];

/** Whether `by` may take a record from `from` to `to`. */
export function transitionAllowed(by: DeliveryTransition["by"], from: DeliveryStatus | null, to: DeliveryStatus): boolean {
  return (from === to && by === "applyPendingHealth") || DELIVERY_TRANSITIONS.some((t) => t.by === by && t.from === from && t.to.includes(to));
}

/**
 * The status an attempt leaves, from the record as read in its transaction: a succeeded delivery
 * stays succeeded (a manual retry and a scheduled attempt crossed), and a failed manual retry
 * leaves a pending delivery on its schedule and any other failed. `keepSchedule`: the record's
 * next attempt stays as it is.
 */
export function statusAfterAttempt(
  current: DeliveryStatus | null,
  proposed: DeliveryStatus,
  attempt: { manual: boolean; ok: boolean },
): { status: DeliveryStatus; keepSchedule: boolean } {
  if (current === "succeeded") return { status: "succeeded", keepSchedule: true };
  if (attempt.manual && !attempt.ok) return current === "pending" ? { status: "pending", keepSchedule: true } : { status: "failed", keepSchedule: false };
  return { status: proposed, keepSchedule: false };
}
