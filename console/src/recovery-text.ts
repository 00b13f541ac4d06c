/** Recover since, as the console says it: where a window starts by default, and how a recovery stands. Pure. */

import { RECOVERY, type RecoveryProgress } from "../../functions/src/domain/recovery";

/** A recovery as the getRecovery and recoverWebhook callables return it: its counts, and what is left instead of a cursor. */
export interface RecoveryView extends Omit<RecoveryProgress, "cursor"> {
  id: string;
  since: string;
  status: "running" | "done" | "stopped";
  reason: string | null;
  remaining: number;
}

/** How far back the delivery history goes: a window may not start earlier. */
export const HISTORY_DAYS = RECOVERY.historyDays;

/**
 * Where "what it missed" starts: the first failure of the streak that switched the webhook off
 * (`failStreak` keys are `<ms>:<deliveryId>:<attempt>`), so the deliveries that failed for good
 * on the way are in it too; else a day back. Never before the history.
 */
export function defaultSinceMs(failStreak: unknown, nowMs: number): number {
  // Keys are in the order their failures were recorded, not always of their times: the earliest.
  const times = (Array.isArray(failStreak) ? failStreak : [])
    .map((k) => (typeof k === "string" ? Number(k.split(":")[0]) : NaN))
    .filter((t) => Number.isFinite(t) && t > 0);
  const first = times.length > 0 ? Math.min(...times) : NaN;
  const since = Number.isFinite(first) && first > 0 && first < nowMs ? first : nowMs - 86_400_000;
  return Math.max(since, nowMs - HISTORY_DAYS * 86_400_000 + 60_000);
}

/** A `datetime-local` input's value for a moment, in the browser's time zone, to the minute. */
export function localInputValue(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

const STOPS: Record<string, string> = {
  send_failed: "the receiver failed again. Fix it, then re-send from the same time: what was delivered is not sent again",
  webhook_disabled: "the webhook was switched off",
  webhook_deleted: "the webhook was deleted",
  abandoned: "it stopped moving; re-send from the same time",
};

export function recoveryText(r: RecoveryView): string {
  const done = r.total - r.remaining;
  const passed = [
    r.alreadyDelivered ? `${r.alreadyDelivered} delivered meanwhile` : "",
    r.answered ? `${r.answered} offline already answered by online` : "",
    r.rejected ? `${r.rejected} refused by the receiver` : "",
    r.unavailable ? `${r.unavailable} expired or unavailable` : "",
  ].filter(Boolean);
  const extra = passed.length ? ` (${passed.join(", ")})` : "";
  if (r.status === "running") return `Re-sending: ${done} of ${r.total}…`;
  if (r.status === "stopped") return `Stopped after ${done} of ${r.total}: ${STOPS[r.reason ?? ""] ?? r.reason ?? "unknown"}.`;
  if (r.total === 0) return "Nothing to re-send: everything since then was delivered.";
  return `Re-sent ${r.sent} of ${r.total}${extra}.`;
}
