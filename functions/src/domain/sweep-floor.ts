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
 * The floor is written when it has moved at least this far: after every pass of the schedule
 * (six a minute, 10 s apart), one write. A floor left behind would have the next passes read
 * again every machine marked since (the query's read and the pass's transaction, two or three
 * reads each, to find it marked already): in an outage that costs more than the write, and the
 * write keeps an idle pass at three reads. Passes run back to back (tests) skip smaller moves.
 */
export const FLOOR_WRITE_STEP_MS = 5_000;

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
