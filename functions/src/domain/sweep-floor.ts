/**
 * The sweep floor: every machine whose heartbeat is older than it has been looked at by some
 * pass (marked, deferred, or found fresh in the transaction). A pass reads from the floor to
 * its cutoff, oldest first, and raises the floor to what it covered, kept below every machine
 * it could not settle (a failed transaction, a return still being cleared), so each of those is
 * read again by the next pass. Whichever of two overlapping passes writes last, the invariant
 * holds: each writes only a floor it covered itself from one that held.
 */
export interface PassCoverage {
  cutoffMs: number;
  /** The query ran out of machines before the page limit: everything up to the cutoff was read. */
  complete: boolean;
  /** Heartbeat of the last machine read, when the pass stopped at the page limit. */
  lastReadMs: number | null;
  /** Heartbeats of the machines left unsettled. */
  unsettledMs: number[];
}

export function coveredFloor(startMs: number | null, pass: PassCoverage): number | null {
  const covered = pass.complete ? pass.cutoffMs : (pass.lastReadMs ?? startMs);
  if (covered === null) return null;
  return Math.min(covered, ...pass.unsettledMs);
}

/**
 * The floor is written when it has moved this far: a pass six times a minute would otherwise
 * write every ten seconds. A machine marked in the last minute may be read again by the next
 * few passes, and is found marked already.
 */
export const FLOOR_WRITE_STEP_MS = 60_000;

/**
 * The floor to write after a pass, or null to leave it. A pass that stopped at its page limit
 * writes any move: the next pass must go on from where it stopped, or a large outage (more
 * machines within a minute of the floor than a pass reads) would be read again and again and
 * the machines behind it never.
 */
export function floorToSave(startMs: number | null, nextMs: number | null, stoppedAtLimit = false): number | null {
  if (nextMs === null) return null;
  if (startMs === null) return nextMs;
  if (nextMs <= startMs) return null;
  return stoppedAtLimit || nextMs - startMs >= FLOOR_WRITE_STEP_MS ? nextMs : null;
}
