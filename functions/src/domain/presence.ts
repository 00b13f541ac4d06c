import { z } from "zod";
import { AGENT_LIMITS, timestampSchema, type MachineDoc, type TimestampLike } from "./agent-docs";
import type { DetectedEvent } from "./detected-event";
import { isStale, plannedDowntimeEndMs } from "./staleness";

/**
 * The sweep's own record of a machine's silence, `sites/{siteId}/presence/{machineId}`
 * (server-only). The machine doc stays exactly as its agent wrote it: the host's offline
 * cron, its dashboard and its agents read `online` there, and the sweep never writes it.
 *
 * - marked: `staleSince` is set. The machine was stale at that instant, with `lastHeartbeat`
 *   its last heartbeat then; `dueAt`, when set, is a page the emission limit held back.
 * - deferred: no `staleSince`. The machine was silent inside an announced reboot or shutdown;
 *   `dueAt` is when the announcement stops explaining the silence and the sweep looks again.
 */
export const presenceDocSchema = z.object({
  lastHeartbeat: timestampSchema,
  staleSince: timestampSchema.nullish(),
  dueAt: timestampSchema.nullish(),
  name: z.string().max(AGENT_LIMITS.name).nullish(),
});
export type PresenceDoc = z.infer<typeof presenceDocSchema>;

/** A presence doc that is a mark: the outage report one machine.offline stands for. */
export interface Mark {
  staleSince: TimestampLike;
  lastHeartbeat: TimestampLike;
  name?: string | null | undefined;
}

/** Written by the sweep in every machine.offline it reports. */
export const STALE_REASON = "heartbeat_stale";

export function markOf(doc: PresenceDoc | null): Mark | null {
  return doc?.staleSince ? { staleSince: doc.staleSince, lastHeartbeat: doc.lastHeartbeat, name: doc.name } : null;
}

function iso(ts: TimestampLike | null | undefined): string | null {
  return ts ? new Date(ts.toMillis()).toISOString() : null;
}

/**
 * The machine.offline a mark stands for. One mark, one occurrence: its instant identifies it.
 * `repeat`: a held page's mark renewed (the same silence, the same last heartbeat).
 */
export function offlineEvent(mark: Mark, machineId: string, repeat = false): DetectedEvent {
  const since = mark.staleSince.toMillis();
  return {
    ...(repeat ? { repeat } : {}),
    type: "machine.offline",
    machineId,
    machineName: mark.name ?? undefined,
    fields: { reason: STALE_REASON, lastHeartbeat: iso(mark.lastHeartbeat), offlineSince: iso(mark.staleSince) },
    subject: "presence",
    content: `offline:${since}`,
    occurredAt: new Date(since),
  };
}

/** The machine.online that answers a mark: it goes out only if the mark's machine.offline did, and after it. */
export function onlineEvent(mark: Mark, machineId: string, machineName: string | undefined, heartbeat: TimestampLike | null | undefined): DetectedEvent {
  return {
    type: "machine.online",
    machineId,
    machineName,
    fields: { offlineSince: iso(mark.staleSince), lastHeartbeat: iso(heartbeat) },
    subject: "presence",
    content: `online:${mark.staleSince.toMillis()}`,
    answers: offlineEvent(mark, machineId),
  };
}

/** A new mark that renews the one before for the same silence (a held page marked again at the hour's turn). */
export function isRenewedMark(before: PresenceDoc | null, mark: Mark): boolean {
  return !!before?.staleSince && before.lastHeartbeat.toMillis() === mark.lastHeartbeat.toMillis();
}

/** A mark is new (a first one, or one renewed for a held page) when its instant differs from the one before. */
export function isNewMark(before: PresenceDoc | null, after: PresenceDoc | null): Mark | null {
  const mark = markOf(after);
  if (!mark) return null;
  const previous = before?.staleSince?.toMillis();
  return previous === mark.staleSince.toMillis() ? null : mark;
}

/** Deployed agents beat every 5, 30 or 120 s; a heartbeat this late may follow a mark. */
const IDLE_BEAT_LATE_MS = 150_000;

/**
 * Whether a machine write may be a stale machine's return, so the trigger must read its
 * presence doc: the agent reports online with a new heartbeat after a silence long enough for
 * the sweep to have marked it, or reports online after it had said it stopped (a restarted
 * service: its clean stop carried a fresh heartbeat, so the silence before it does not show).
 * An on-time heartbeat, or a write that is not a heartbeat (the host's cron stamping `health`
 * on a silent machine), costs no read.
 */
export function mayBeReturning(before: MachineDoc | null, after: MachineDoc | null, atMs: number, staleAfterMs: number): boolean {
  const previous = before?.lastHeartbeat?.toMillis();
  const current = after?.lastHeartbeat?.toMillis();
  if (after?.online !== true || previous === undefined || current === undefined || current <= previous) return false;
  return before?.online !== true || atMs - previous >= Math.min(staleAfterMs, IDLE_BEAT_LATE_MS);
}

/** A heartbeat newer than the mark's: the machine is back. */
export function isBackFrom(mark: Pick<Mark, "lastHeartbeat">, heartbeat: TimestampLike | null | undefined): boolean {
  return !!heartbeat && heartbeat.toMillis() > mark.lastHeartbeat.toMillis();
}

/** The parts of a machine doc the sweep decides on. */
export type SweptMachine = Pick<MachineDoc, "online" | "rebooting" | "rebootScheduledAt" | "shuttingDown" | "shutdownScheduledAt"> & {
  lastHeartbeatMs: number | null;
};

export type SweepStep =
  /** Write a mark (staleSince now): the trigger on the presence doc reports machine.offline. */
  | { kind: "mark" }
  /** Silent inside an announced reboot or shutdown: look again once it has run out. */
  | { kind: "defer"; untilMs: number }
  /** Nothing to do: a heartbeat won the race, the agent stopped cleanly, or it is marked already. */
  | { kind: "none" }
  /** Marked for an earlier silence whose return is being cleared right now: the next pass looks again. */
  | { kind: "retry" }
  /** A held page of a machine no longer silent: the hold goes, the mark is the return's to clear. */
  | { kind: "unhold" }
  /** A presence doc left with nothing to say: it goes. */
  | { kind: "drop" };

/**
 * The machine trigger clears a mark within seconds of the return; a mark older than a return
 * this old was missed (its trigger gave up), and a new silence replaces it.
 */
export const RETURN_CLEAR_GRACE_MS = 10 * 60_000;

/**
 * What the sweep does with a machine its query found silent past the threshold. With
 * `answersReturns` (the sweep presence mode: no trigger clears marks), a mark the machine has
 * beaten since is always `retry`: the pass answers it (machine.online), and the next pass marks
 * the new silence.
 */
export function sweepStep(machine: SweptMachine, presence: PresenceDoc | null, nowMs: number, thresholdMs: number, answersReturns = false): SweepStep {
  const mark = markOf(presence);
  if (mark && machine.lastHeartbeatMs === mark.lastHeartbeat.toMillis()) return { kind: "none" };
  const recent = machine.lastHeartbeatMs !== null && machine.lastHeartbeatMs > nowMs - RETURN_CLEAR_GRACE_MS;
  if (mark && (answersReturns || recent)) return { kind: "retry" };
  if (isStale(machine, nowMs, thresholdMs)) return { kind: "mark" };
  const silent = machine.online === true && machine.lastHeartbeatMs !== null && machine.lastHeartbeatMs < nowMs - thresholdMs;
  // Only an announcement active now explains the silence, and only until its window ends (and a second).
  const downtimeEnd = silent ? plannedDowntimeEndMs(machine, nowMs) : null;
  if (downtimeEnd !== null) return { kind: "defer", untilMs: downtimeEnd + 1000 };
  return { kind: "none" };
}

/**
 * What the sweep does with a presence doc whose `dueAt` has come. A held page of a machine
 * still silent is marked again: a new outage report, paged now. A deferred machine still silent
 * is marked, or deferred again while a new announcement covers it. Anything else goes.
 */
export function dueStep(machine: SweptMachine | null, presence: PresenceDoc, nowMs: number, thresholdMs: number): SweepStep {
  if (!machine) return { kind: "drop" };
  const silentSince = machine.lastHeartbeatMs === presence.lastHeartbeat.toMillis();
  if (markOf(presence)) return silentSince && machine.online === true ? { kind: "mark" } : { kind: "unhold" };
  const step = silentSince ? sweepStep(machine, null, nowMs, thresholdMs) : ({ kind: "none" } as const);
  return step.kind === "none" ? { kind: "drop" } : step;
}
