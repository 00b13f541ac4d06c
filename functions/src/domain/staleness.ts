/**
 * When a machine is stale: the sweep's one test, kept pure so the cadences it must not be
 * fooled by are checked without a clock.
 *
 * Announced reboots and shutdowns, as deployed agents announce them: `rebooting: true` with
 * `rebootScheduledAt`, or `shuttingDown: true` with `shutdownScheduledAt` (Unix seconds), cleared
 * with false / null after boot. While one is active the machine's silence is expected: no page.
 */
export const PLANNED_DOWNTIME_GRACE_MS = 15 * 60_000;

export interface Announcements {
  rebooting?: unknown;
  rebootScheduledAt?: unknown;
  shuttingDown?: unknown;
  shutdownScheduledAt?: unknown;
}

/** As the deployed server decides: the flag is true and the scheduled instant within 15 minutes of now, either side. */
export function inPlannedDowntime(doc: Announcements, nowMs: number): boolean {
  const active = (flag: unknown, atSeconds: unknown) =>
    flag === true &&
    typeof atSeconds === "number" &&
    Number.isFinite(atSeconds) &&
    atSeconds > 0 &&
    Math.abs(atSeconds * 1000 - nowMs) <= PLANNED_DOWNTIME_GRACE_MS;
  return active(doc.rebooting, doc.rebootScheduledAt) || active(doc.shuttingDown, doc.shutdownScheduledAt);
}

/**
 * Stale: the agent last said online, its heartbeat is older than the threshold, and no
 * announced reboot or shutdown explains the silence.
 */
export function isStale(machine: Announcements & { online?: unknown; lastHeartbeatMs: number | null }, nowMs: number, thresholdMs: number): boolean {
  return machine.online === true && machine.lastHeartbeatMs !== null && machine.lastHeartbeatMs < nowMs - thresholdMs && !inPlannedDowntime(machine, nowMs);
}
