import { createHash } from "node:crypto";
import { answerEventId } from "./emission-policy";
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
  /**
   * An episode ends after this long without a new outage or crash (and, for a machine, up all
   * along): as long as the longest window, so that an episode just ended has none left to count
   * and the next one needs a whole new run of flaps.
   */
  stableAfterMs: 30 * MINUTE_MS,
  /** An episode whose subject's flag is older than this no longer holds its events back (a backstop: its doc lost, its flag left). */
  maxEpisodeMs: 7 * 24 * 60 * MINUTE_MS,
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

/**
 * Its stable event, which follows it (its deliveries wait for the flapping event's): the flapping
 * event's answer, as machine.online is machine.offline's, so that recover (domain/recovery.ts)
 * re-sends no flapping event whose stable event already reached the webhook.
 */
export function stableEventId(flappingId: string): string {
  return answerEventId(flappingId);
}

/** What a claim counts toward in the flapping count: its kind and subject (a process may be named `presence`). */
export function flapKeyOf(kind: FlapKind, subject: string): string {
  return `${kind}|${subject}`;
}

/** What a decision on an occurrence says for the flapping count. */
export interface DecisionTrace {
  /** Refused because its subject is flapping already: nothing more to count. */
  heldForFlapping: boolean;
  /** Refused by a limit (its subject's, its machine's or its site's). */
  refused: boolean;
}

/**
 * Whether an occurrence is worth counting its subject's recent ones (one aggregation read): only
 * when a limit refused it. Flapping matters when events are held back; an outage or a crash that
 * goes out is its own news, and costs nothing more. A run of flaps that goes out whole (across
 * an hour's turn, within the limits) is not told as flapping; the next refused one is counted.
 */
export function worthCounting(trace: DecisionTrace): boolean {
  return trace.refused && !trace.heldForFlapping;
}

/** How long a replaced claim's flap is kept for the count: the longest window. */
export const FLAP_COUNT_KEPT_MS = Math.max(FLAPPING.machine.windowMs, FLAPPING.process.windowMs);

/** Whether this many occurrences in the kind's window make it flapping. */
export function isFlapping(kind: FlapKind, occurrencesInWindow: number): boolean {
  return occurrencesInWindow >= FLAPPING[kind].flaps;
}

export type StabilityStep =
  /** Quiet long enough: the episode ends. */
  | { kind: "stable" }
  /** Not yet: look again then. `unquietAtMs`: this look found it down or not quiet. */
  | { kind: "wait"; checkAtMs: number; unquietAtMs?: number };

/**
 * Whether an episode is over. `recent`: outages or crashes of its subject in the last
 * `stableAfterMs`; `down`: the machine marked offline now, or the process given up by its agent;
 * `lastUnquietMs`: the last look that found it down or not quiet. It is stable once every look
 * for `stableAfterMs` has found it up and quiet (a machine's return is not an occurrence: this is
 * how its time is known, within a look's interval). One that stays down stays in its episode:
 * its flapping event is the page that is open.
 */
export function stabilityStep(input: { nowMs: number; recent: number; down?: boolean; lastUnquietMs?: number | null }): StabilityStep {
  const { nowMs } = input;
  if (input.down || input.recent > 0) return { kind: "wait", checkAtMs: nowMs + FLAPPING.recheckMs, unquietAtMs: nowMs };
  const quietSince = input.lastUnquietMs ?? null;
  if (quietSince !== null && nowMs - quietSince < FLAPPING.stableAfterMs) return { kind: "wait", checkAtMs: quietSince + FLAPPING.stableAfterMs };
  return { kind: "stable" };
}

/** The agent's word that it gave up relaunching a process (the machine doc's `rebootPending`, written when its relaunch limit is reached). */
export function processGivenUp(rebootPending: unknown, processName: string | null | undefined): boolean {
  if (typeof rebootPending !== "object" || rebootPending === null || !processName) return false;
  const pending = rebootPending as { active?: unknown; processName?: unknown };
  return pending.active === true && pending.processName === processName;
}
