import { createHash } from "node:crypto";
import type { EventType } from "./event-catalog";

/**
 * Flapping: a machine that keeps going offline and coming back, or a process that crashes in a
 * loop. Past a threshold its per-flap events stop (held back and counted, as the emission limits
 * count), one `machine.flapping` / `process.flapping` says so with the count, and one
 * `machine.stable` / `process.stable` says when it has been quiet long enough, with how many
 * events were held back meanwhile. An *episode* is that stretch: from the flapping event to the
 * stable one.
 */
export type FlapKind = "machine" | "process";

const MINUTE_MS = 60_000;

export const FLAPPING = {
  /** A machine is flapping at its 3rd outage (machine.offline occurrence) within 30 minutes. */
  machine: { flaps: 3, windowMs: 30 * MINUTE_MS },
  /** A process is flapping at its 5th crash or failed start within 15 minutes. */
  process: { flaps: 5, windowMs: 15 * MINUTE_MS },
  /** An episode ends after this long without a new outage or crash (and, for a machine, up all along). */
  stableAfterMs: 20 * MINUTE_MS,
  /** How often an episode whose machine is down, or that is not quiet yet, is looked at again. */
  recheckMs: 5 * MINUTE_MS,
  /** An episode whose flapping event is not confirmed sent this long after it began is sent again (its sender died). */
  announceGraceMs: MINUTE_MS,
  /** Episodes open at once on one machine (a hostile agent inventing process names cannot page without end). */
  perMachine: 5,
  /** Episodes open at once in one site. */
  perSite: 200,
} as const;

const hash = (input: string) => createHash("sha256").update(input).digest("hex").slice(0, 32);

/** The kind of flapping an event's occurrences count toward, if any. */
export function flapKindOf(type: EventType): FlapKind | null {
  if (type === "machine.offline") return "machine";
  if (type === "process.crashed" || type === "process.start_failed") return "process";
  return null;
}

export function flappingType(kind: FlapKind): "machine.flapping" | "process.flapping" {
  return kind === "machine" ? "machine.flapping" : "process.flapping";
}

export function stableType(kind: FlapKind): "machine.stable" | "process.stable" {
  return kind === "machine" ? "machine.stable" : "process.stable";
}

/** The episode doc's id: one open episode per machine and subject (`presence`, or the process). */
export function flapDocId(kind: FlapKind, machineId: string, subject: string): string {
  return `flap_${hash(`${kind}|${machineId}|${subject}`)}`;
}

/** An episode's flapping event: from its doc and its start, the same however often it is sent. */
export function flappingEventId(docId: string, sinceMs: number): string {
  return `evt_${hash(`${docId}|${sinceMs}|flapping`)}`;
}

/** Its stable event, which follows it (its deliveries wait for the flapping event's). */
export function stableEventId(flappingId: string): string {
  return `evt_${hash(`${flappingId}|stable`)}`;
}

/** What a decision on an occurrence says about its subject's recent history. */
export interface DecisionTrace {
  /** Refused because its subject is flapping already: nothing more to look at. */
  heldForFlapping: boolean;
  /** Refused by the subject's own hourly limit. */
  refusedBySubject: boolean;
  /** The subject's admissions in the current hour, this one included. */
  subjectCount: number;
  /** Held back of the subject before this one, said by it. */
  suppressedBefore: number;
}

/**
 * Whether an occurrence is worth counting its subject's recent ones (one query): only when the
 * subject has had others lately. The first outage or crash of a subject in an hour, with none
 * held back before it, costs nothing more. A threshold is crossed by such an occurrence only
 * when the hour turned in between; the next one crosses it then.
 */
export function worthCounting(trace: DecisionTrace): boolean {
  if (trace.heldForFlapping) return false;
  return trace.refusedBySubject || trace.subjectCount >= 2 || trace.suppressedBefore > 0;
}

/** Whether this many occurrences in the kind's window make it flapping. */
export function isFlapping(kind: FlapKind, occurrencesInWindow: number): boolean {
  return occurrencesInWindow >= FLAPPING[kind].flaps;
}

export type StabilityStep =
  /** Quiet long enough (a machine up all along): the episode ends. */
  | { kind: "stable" }
  /** Not yet: look again then; `downSeenAtMs` is set when the machine was found down now. */
  | { kind: "wait"; checkAtMs: number; downSeenAtMs?: number };

/**
 * Whether an episode is over. `recent`: outages or crashes of its subject in the last
 * `stableAfterMs`; `down`: a machine marked offline now; `lastDownSeenMs`: the last time a check
 * found it down. A machine is stable once it has been seen up, with no new outage, for
 * `stableAfterMs` after it was last seen down; a machine that stays down stays in its episode
 * (its flapping event is the page that is open).
 */
export function stabilityStep(input: { nowMs: number; recent: number; down?: boolean; lastDownSeenMs?: number | null }): StabilityStep {
  const { nowMs } = input;
  const recheck = nowMs + FLAPPING.recheckMs;
  if (input.down) return { kind: "wait", checkAtMs: recheck, downSeenAtMs: nowMs };
  if (input.recent > 0) return { kind: "wait", checkAtMs: recheck };
  const upSince = input.lastDownSeenMs ?? null;
  if (upSince !== null && nowMs - upSince < FLAPPING.stableAfterMs) return { kind: "wait", checkAtMs: upSince + FLAPPING.stableAfterMs };
  return { kind: "stable" };
}
