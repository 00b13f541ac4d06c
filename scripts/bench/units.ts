/**
 * What the bench's measuring sections hand to the figures worked out on paper: the unit costs
 * they measured, and the settings both sides share.
 */

/** Webhooks per site in the cost, burst and outage sections. */
export const WEBHOOKS = 3;
/** The deployed defaults (functions/.env), which the fleet run uses as they are. */
export const PRODUCTION = { staleAfterSeconds: 210, sweepPassesPerMinute: 6, presenceMode: "trigger" as const };

/** Unit costs the measuring sections return, for the sizing, prices and scale on paper (NaN: not measured in this run). */
export interface UnitCosts {
  /** The machine trigger's CPU per on-time heartbeat, as deployed (section 1b). */
  heartbeatUs: number;
  /** A crash by log doc and alert to one webhook, most of 20 (section 2c). */
  crashReads: number;
  crashWrites: number;
  /** An outage and its end to 3 webhooks (section 2d). */
  outageReads: number;
  outageWrites: number;
  /** The same in the sweep presence mode, beyond an idle pass (section 2e). */
  sweepOutageReads: number;
  sweepOutageWrites: number;
  /** A sweep pass that marks nothing (section 3): all its reads, with one query per site. */
  idlePassReads: number;
  /** The sites those passes queried (each query one read when it finds nothing). */
  idlePassSites: number;
  idlePassWrites: number;
  /** Its wall time, on the emulator (section 3). */
  idlePassMs: number;
  /** A sweep pass that marks and answers nothing in the sweep presence mode (section 3b), and the sites it queried. */
  sweepIdlePassReads: number;
  sweepIdlePassSites: number;
}
export const UNMEASURED: UnitCosts = {
  heartbeatUs: NaN,
  crashReads: NaN,
  crashWrites: NaN,
  outageReads: NaN,
  outageWrites: NaN,
  sweepOutageReads: NaN,
  sweepOutageWrites: NaN,
  idlePassReads: NaN,
  idlePassSites: NaN,
  idlePassWrites: NaN,
  idlePassMs: NaN,
  sweepIdlePassReads: NaN,
  sweepIdlePassSites: NaN,
};
