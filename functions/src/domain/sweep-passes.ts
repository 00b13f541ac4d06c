import { createHash } from "node:crypto";

/**
 * The sweep's passes in a minute. Cloud Scheduler fires once a minute at most; the passes after
 * the first run as delayed tasks, so no instance waits between them (a run that slept through
 * its passes held an instance about 50 s a minute, billed whatever the fleet's size).
 */

export interface PlannedPass {
  /** Unique to the minute and the pass: a second enqueue (the scheduler firing twice) is refused. */
  id: string;
  delaySeconds: number;
  /** When the pass is meant to run: one dispatched much later is skipped, a later pass covers it. */
  dueAtMs: number;
}

/** A pass dispatched this much after it was due is skipped: the next minute's passes have begun by then. */
export const PASS_STALE_AFTER_MS = 60_000;

/** The passes after the first (which the scheduled run makes itself), spread evenly over the minute. */
export function laterPasses(firedAtMs: number, passesPerMinute: number): PlannedPass[] {
  const minute = Math.floor(firedAtMs / 60_000);
  const gapSeconds = 60 / passesPerMinute;
  return Array.from({ length: Math.max(0, passesPerMinute - 1) }, (_, i) => {
    const delaySeconds = Math.round(gapSeconds * (i + 1));
    // Led by a hash: Cloud Tasks spreads ids that do not share a sequential prefix.
    const name = `sweep-${minute}-${i + 1}`;
    return { id: `${createHash("sha256").update(name).digest("hex").slice(0, 8)}-${name}`, delaySeconds, dueAtMs: firedAtMs + delaySeconds * 1000 };
  });
}

/** Whether a pass task dispatched now still has its place (not overtaken by the next minute's). */
export function passStillDue(dueAtMs: number, nowMs: number): boolean {
  return nowMs - dueAtMs <= PASS_STALE_AFTER_MS;
}
