import type { DeliveryStatus } from "./webhook-vocabulary";

/**
 * Recover since: re-sending, in order and at a bounded pace, what one webhook did not get in a
 * window of its history. Pure: the window, which deliveries count, their order, the pace and
 * how each re-send moves the recovery on. The store and the task chain live in
 * data/recovery-store.ts and pipeline/recover.ts.
 */
export const RECOVERY = {
  /** Deliveries one recovery re-sends at most; a larger window is refused (narrow it). */
  maxItems: 1_000,
  /** Re-sends a second at most, one at a time. */
  perSecond: 5,
  /** Re-sends one task makes at most before it hands over to the next (a task of its own). */
  batch: 25,
  /** A step stops taking items once it has run this long (its function's timeout is 300 s). */
  stepBudgetMs: 150_000,
  /** A step holds its recovery this long: a second dispatch of it meanwhile waits (Cloud Tasks tries it again). */
  leaseMs: 330_000,
  /** How far back a window may start: the history's retention. */
  historyDays: 30,
  /**
   * A running recovery that has not moved for this long lost its task chain: a new one may
   * start. Longer than a step's six dispatches of up to 300 s with their backoff (1,020 s): 47 minutes.
   */
  abandonedAfterMs: 60 * 60_000,
} as const;

export type RecoveryStatus = "running" | "done" | "stopped";
/** Why a recovery stopped before its end. */
export type RecoveryStop = "send_failed" | "webhook_disabled" | "webhook_deleted" | "abandoned";

/** A delivery skipped for these reasons was held back while its webhook was off: recover re-sends it. */
export const RECOVERABLE_SKIPS: ReadonlySet<string> = new Set(["webhook_disabled", "webhook_paused"]);

export interface FieldProblem {
  path: string;
  reason: string;
}

/** The window asked for, checked against the clock: `until` defaults to now and is never later. */
export function recoveryWindow(
  input: { since: Date; until?: Date | undefined },
  nowMs: number,
): { sinceMs: number; untilMs: number } | { problems: FieldProblem[] } {
  const sinceMs = input.since.getTime();
  const untilMs = Math.min(input.until?.getTime() ?? nowMs, nowMs);
  const problems: FieldProblem[] = [];
  const oldest = nowMs - RECOVERY.historyDays * 86_400_000;
  if (sinceMs >= nowMs) problems.push({ path: "since", reason: "must be in the past" });
  else if (sinceMs < oldest) problems.push({ path: "since", reason: `must be within the last ${RECOVERY.historyDays} days (the delivery history kept)` });
  if (input.until && input.until.getTime() <= sinceMs) problems.push({ path: "until", reason: "must be later than since" });
  return problems.length > 0 ? { problems } : { sinceMs, untilMs };
}

/** One event the webhook may not have got: its delivery as found (null: it never had one). */
export interface RecoveryCandidate {
  eventId: string;
  type: string;
  occurredAtMs: number;
  delivery: { status: DeliveryStatus; skippedReason?: string | null | undefined } | null;
}

/** Whether recover re-sends it: never sent (missed while off), failed, or held back while off. */
export function needsResend(delivery: RecoveryCandidate["delivery"]): boolean {
  if (!delivery) return true;
  if (delivery.status === "failed") return true;
  return delivery.status === "skipped" && RECOVERABLE_SKIPS.has(delivery.skippedReason ?? "");
}

/** The event ids to re-send, each once, oldest first (ties by id, so every plan of a window is the same). */
export function recoveryPlan(candidates: readonly RecoveryCandidate[]): string[] {
  const chosen = new Map<string, RecoveryCandidate>();
  for (const c of candidates) if (needsResend(c.delivery) && !chosen.has(c.eventId)) chosen.set(c.eventId, c);
  return [...chosen.values()]
    .sort((a, b) => a.occurredAtMs - b.occurredAtMs || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0))
    .map((c) => c.eventId);
}

/**
 * A question whose answer can reach a webhook on its own (machine.offline, answered by
 * machine.online; a flapping event, answered by its stable event): re-sent only while its answer has not reached the webhook, as a late question
 * after its answer would open a page that nothing closes.
 */
export const QUESTION_TYPES: ReadonlySet<string> = new Set(["machine.offline", "machine.flapping", "process.flapping"]);

/** The planned events that are questions (checked against their answer before each re-send). */
export function questionsOf(candidates: readonly RecoveryCandidate[], plan: readonly string[]): string[] {
  const planned = new Set(plan);
  return [...new Set(candidates.filter((c) => planned.has(c.eventId) && QUESTION_TYPES.has(c.type)).map((c) => c.eventId))];
}

/**
 * A receiver's refusal of this one event, not of everything: a 4xx but those that refuse every
 * request or ask for it again later (NOT_REJECTIONS; 410 switches the webhook off). Recover goes
 * on past it; the refused delivery stays failed, counted toward the webhook's failures.
 */
export function isRejection(status: number | null): boolean {
  return status !== null && status >= 400 && status < 500 && !NOT_REJECTIONS.includes(status);
}

/** 4xx that are not about the one event: auth or route gone (401, 403, 404), come again (408, 409, 425, 429), gone for good (410). */
const NOT_REJECTIONS = [401, 403, 404, 408, 409, 410, 425, 429];

/** What re-sending one planned event came to. */
export type ItemOutcome =
  | "sent"
  /** Delivered meanwhile (a retry, a scheduled attempt) or on its schedule again: nothing to send. */
  | "already_delivered"
  /** A question whose answer reached the webhook already: not re-sent. */
  | "answered"
  /** The receiver refused this event (isRejection): recorded, counted, and the recovery goes on. */
  | "rejected"
  /** Its event expired, or the webhook lacks what a send needs: passed over, counted. */
  | "unavailable"
  | "send_failed"
  | "webhook_disabled"
  | "webhook_deleted";

export interface RecoveryProgress {
  cursor: number;
  total: number;
  sent: number;
  alreadyDelivered: number;
  answered: number;
  rejected: number;
  unavailable: number;
}

/**
 * The recovery after one item. A send that fails stops it there, so nothing newer overtakes what
 * failed (the receiver is still down): recover again from the same `since` once it is fixed;
 * what was delivered meanwhile is passed over. A receiver's refusal of one event (isRejection)
 * does not stop it. A webhook switched off or deleted stops it too.
 */
export function afterItem(p: RecoveryProgress, outcome: ItemOutcome): { progress: RecoveryProgress; stop: RecoveryStop | null } {
  switch (outcome) {
    case "sent":
      return { progress: { ...p, cursor: p.cursor + 1, sent: p.sent + 1 }, stop: null };
    case "already_delivered":
      return { progress: { ...p, cursor: p.cursor + 1, alreadyDelivered: p.alreadyDelivered + 1 }, stop: null };
    case "answered":
      return { progress: { ...p, cursor: p.cursor + 1, answered: p.answered + 1 }, stop: null };
    case "rejected":
      return { progress: { ...p, cursor: p.cursor + 1, rejected: p.rejected + 1 }, stop: null };
    case "unavailable":
      return { progress: { ...p, cursor: p.cursor + 1, unavailable: p.unavailable + 1 }, stop: null };
    default:
      return { progress: p, stop: outcome };
  }
}

/** The status a recovery stands in once its progress is saved. */
export function statusOf(p: RecoveryProgress, stop: RecoveryStop | null): RecoveryStatus {
  if (stop) return "stopped";
  return p.cursor >= p.total ? "done" : "running";
}

/** How long to wait before the next re-send, so that no two start closer than the pace allows. */
export function waitBeforeNext(lastStartMs: number | null, nowMs: number, perSecond: number = RECOVERY.perSecond): number {
  if (lastStartMs === null) return 0;
  return Math.max(0, lastStartMs + Math.ceil(1000 / perSecond) - nowMs);
}

/** Whether a recovery still running has stopped moving (its task chain lost): another may start. */
export function isAbandoned(updatedAtMs: number, nowMs: number): boolean {
  return nowMs - updatedAtMs > RECOVERY.abandonedAfterMs;
}

/** Whether a step has time for one more re-send (each may take the delivery deadline and its records). */
export function stepHasTime(startedMs: number, nowMs: number, deliveryTimeoutMs: number): boolean {
  return nowMs - startedMs + deliveryTimeoutMs + 15_000 <= RECOVERY.stepBudgetMs;
}
