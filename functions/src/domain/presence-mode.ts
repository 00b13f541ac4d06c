/**
 * How the pipeline learns that a machine went silent and came back.
 *
 * - `trigger` (the default): a function runs on every write to a machine doc, so a heartbeat
 *   after a silence answers the machine's mark within seconds (and the doc's `health` gives
 *   `connection_failure`). One invocation per heartbeat: most of what the pipeline costs to run.
 * - `sweep` (large fleets): no function runs per heartbeat. The sweep finds silent machines as in
 *   both modes, and also the marked machines that are back: each mark sets a flag on the machine
 *   doc (domain/return-watch.ts), and one query a pass finds flagged machines with a fresh
 *   heartbeat. `machine.online` goes out within one pass of the return.
 *
 * Chosen at deploy time by `PRESENCE_MODE` in the functions' environment (`functions/.env`): which
 * functions exist depends on it.
 */
export const PRESENCE_MODES = ["trigger", "sweep"] as const;
export type PresenceMode = (typeof PRESENCE_MODES)[number];

/** The mode an environment value names; unset or empty is `trigger`; anything else fails the load (and the deploy) with the allowed values. */
export function presenceModeOf(value: string | undefined): PresenceMode {
  const mode = value?.trim() || "trigger";
  if ((PRESENCE_MODES as readonly string[]).includes(mode)) return mode as PresenceMode;
  throw new Error(`PRESENCE_MODE must be one of ${PRESENCE_MODES.join(", ")} (got ${JSON.stringify(value)})`);
}
