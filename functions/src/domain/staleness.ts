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

/**
 * When the announcements active now stop explaining silence (the latest scheduled instant plus
 * the grace), or null when none is active. Active as the deployed server decides: the flag is
 * true and the scheduled instant within 15 minutes of now, either side.
 */
export function plannedDowntimeEndMs(doc: Announcements, nowMs: number): number | null {
  const activeAt = (flag: unknown, atSeconds: unknown): number[] =>
    flag === true &&
    typeof atSeconds === "number" &&
    Number.isFinite(atSeconds) &&
    atSeconds > 0 &&
    Math.abs(atSeconds * 1000 - nowMs) <= PLANNED_DOWNTIME_GRACE_MS
      ? [atSeconds * 1000]
      : [];
  const active = [...activeAt(doc.rebooting, doc.rebootScheduledAt), ...activeAt(doc.shuttingDown, doc.shutdownScheduledAt)];
  return active.length > 0 ? Math.max(...active) + PLANNED_DOWNTIME_GRACE_MS : null;
}

export function inPlannedDowntime(doc: Announcements, nowMs: number): boolean {
  return plannedDowntimeEndMs(doc, nowMs) !== null;
}

/**
 * Stale: the agent last said online, its heartbeat is older than the threshold, and no
 * announced reboot or shutdown explains the silence.
 */
export function isStale(machine: Announcements & { online?: unknown; lastHeartbeatMs: number | null }, nowMs: number, thresholdMs: number): boolean {
  return machine.online === true && machine.lastHeartbeatMs !== null && machine.lastHeartbeatMs < nowMs - thresholdMs && !inPlannedDowntime(machine, nowMs);
}
