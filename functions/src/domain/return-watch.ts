/**
 * In the sweep presence mode (domain/presence-mode.ts), the one field the pipeline keeps on a
 * machine doc: `sweepAwaitingReturn: true` while the machine is marked silent. Nothing else
 * tells a marked machine that is back from one still silent in a single query: its heartbeat is
 * its agent's, and its mark is in its presence doc.
 *
 * A hint, never the truth: the presence doc's mark decides. A machine flagged but not marked (a
 * heartbeat won the sweep's race, an announced reboot, an agent writing the field itself) is
 * found once it beats, and only its flag goes; a mark whose flag is missing (an agent deleting it,
 * a doc at Firestore's size limit) is answered when the machine next goes silent, by the sweep's
 * read of it.
 */
export const RETURN_WATCH_FIELD = "sweepAwaitingReturn";
