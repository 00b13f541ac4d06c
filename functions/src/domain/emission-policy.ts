import { createHash } from "node:crypto";
import type { DetectedEvent } from "./detected-event";
import { isHostReportedType } from "./event-catalog";

/**
 * Which reports become events, and how many.
 *
 * Agents report through several channels: a crash as a `logs` doc and as an alert to the agent
 * endpoint (in either order, the alert possibly minutes late from the agent's resend queue, or
 * repeated); a connection failure only as an alert; a stale machine as the sweep's mark. Every
 * report is matched to an *occurrence* by its type, machine, subject and content (for a crash the
 * agent's message, which names the PID); each occurrence is emitted at most once, and only
 * while its limits allow.
 */
export type Channel = "log" | "alert" | "doc" | "sweep";

export const HOUR_MS = 3_600_000;

/**
 * Two reports with the same content this close together are one occurrence, if they came by
 * different channels (or the second is an alert, which has no id of its own and may be a
 * resend). Long, because the agent resends queued alerts only when it reconnects.
 */
export const PAIRING_WINDOW_MS = 6 * HOUR_MS;

/**
 * How long an occurrence doc is kept (its TTL): twice the pairing window; an outage's (subject
 * `presence`) as long as a delivery record, 30 days. A machine back after days sends its
 * machine.online answering the outage's machine.offline, which must still be found decided
 * there: an expired occurrence would be decided anew, and the outage paged a second time.
 */
export function occurrenceKeptMs(event: Pick<DetectedEvent, "subject">): number {
  return event.subject === "presence" ? 30 * 24 * HOUR_MS : 2 * PAIRING_WINDOW_MS;
}

/**
 * Emission limits, per fixed one-hour window (as deployed: 3 process alerts per hour per
 * machine and process). Suppressed occurrences are counted, and the next event of the same
 * machine and subject that goes out says how many (`data.suppressed`).
 */
export const EMISSION_LIMITS = {
  windowMs: HOUR_MS,
  /** Process events (crashed and start_failed together) of one process on one machine. */
  perProcess: 3,
  /** Connection failures of one machine. */
  perConnection: 3,
  /**
   * machine.offline pages of one machine: a flapping machine pages at most once an hour. One
   * held back is paged when the window turns if the machine is still silent (heldPageDue).
   */
  perMachinePresence: 1,
  /**
   * machine.offline pages of one site, all machines together: a venue whose network drops pages
   * this many, and the rest are counted (`siteSuppressed` on the site's next page), not held for
   * later. A site's own `offlinePerHour` (server-written) replaces it.
   */
  offlinePerSite: 100,
  /** Agent-reported events of one machine, all processes together (a hostile agent inventing names). */
  perMachine: 20,
  /** Agent-reported events of one site, all machines together: a flood from one site must not fill the shared queue. */
  perSite: 300,
  /**
   * Agent-reported events of one machine that pass without spending its site's budget: the site's
   * budget is first come, first served, and 15 machines at their own limit (20) spend 300, so
   * without this the site's other machines would be silent for the rest of the hour. Bounded per
   * machine, as `machine.offline` pages are (1 an hour each).
   */
  reservedPerMachine: 1,
} as const;

export interface LimitSpec {
  /** `subject`: exact (one slot per event); `machine` / `site`: a counter, exact below the limit. */
  scope: "subject" | "machine" | "site";
  key: string;
  limit: number;
  windowMs: number;
  /** A limit an event may pass instead of this one (a machine's reserve beside its site's budget). */
  reserve?: LimitSpec;
}

/** A site's own limits, server-written on its doc; absent: the defaults. */
export interface SiteLimits {
  eventsPerHour?: number | null;
  offlinePerHour?: number | null;
}

/** The site-wide bound of machine.offline pages: its refusals are counted under this key, site-wide. */
export const SITE_OFFLINE_KEY = "site-offline";

const hash = (input: string) => createHash("sha256").update(input).digest("hex").slice(0, 32);

/**
 * The limits an event must pass, finest first. machine.online has none: it follows its offline.
 * A site's own `eventsPerHour` (server-written, like its webhook quota) replaces the per-site limit.
 * Threshold and display events come from the host's agents: 3 an hour per machine and subject (a
 * rule, a kind of display event and its monitor), within budgets of their own per machine and per
 * site (`host|`, `host-machine|`, `host-site` keys, the agent budgets' sizes), so a flapping
 * display layout never spends the budget a machine's next crash needs.
 */
export function limitsFor(e: DetectedEvent, site: SiteLimits = {}): LimitSpec[] {
  const { windowMs } = EMISSION_LIMITS;
  const perHostSubject = 3;
  const agentReported = (subjectKey: string, limit: number): LimitSpec[] => [
    { scope: "subject", key: subjectKey, limit, windowMs },
    { scope: "machine", key: `machine|${e.machineId}`, limit: EMISSION_LIMITS.perMachine, windowMs },
    {
      scope: "site",
      key: "site",
      limit: site.eventsPerHour ?? EMISSION_LIMITS.perSite,
      windowMs,
      reserve: { scope: "machine", key: `reserve|${e.machineId}`, limit: EMISSION_LIMITS.reservedPerMachine, windowMs },
    },
  ];
  const type = e.type;
  if (isHostReportedType(type)) {
    return [
      { scope: "subject", key: `host|${e.machineId}|${e.subject}`, limit: perHostSubject, windowMs },
      { scope: "machine", key: `host-machine|${e.machineId}`, limit: EMISSION_LIMITS.perMachine, windowMs },
      { scope: "site", key: "host-site", limit: site.eventsPerHour ?? EMISSION_LIMITS.perSite, windowMs },
    ];
  }
  switch (type) {
    case "process.crashed":
    case "process.start_failed":
      return agentReported(`process|${e.machineId}|${e.subject}`, EMISSION_LIMITS.perProcess);
    case "connection_failure":
      return agentReported(`connection|${e.machineId}`, EMISSION_LIMITS.perConnection);
    case "machine.offline":
      return [
        { scope: "subject", key: `presence|${e.machineId}`, limit: EMISSION_LIMITS.perMachinePresence, windowMs },
        { scope: "site", key: SITE_OFFLINE_KEY, limit: site.offlinePerHour ?? EMISSION_LIMITS.offlinePerSite, windowMs },
      ];
    case "machine.online":
    case "machine.flapping":
    case "machine.stable":
    case "process.flapping":
    case "process.stable":
    case "webhook.failing":
    case "webhook.disabled":
    case "webhook.test":
      return [];
  }
}

/**
 * The limit that refuses an event, asked finest first and no further once one refuses: a process
 * crashing in a loop must not spend its machine's or its site's admissions on events that do not
 * go out. A limit with a reserve is passed by a grant of either, the reserve first, so a
 * machine's reserved events leave its site's budget to the others. `take` spends one admission
 * of a limit if it has one left. Null: every limit granted.
 */
export function firstRefusal(limits: readonly LimitSpec[], take: (limit: LimitSpec) => boolean): LimitSpec | null {
  for (const limit of limits) {
    if (limit.reserve && take(limit.reserve)) continue;
    if (!take(limit)) return limit;
  }
  return null;
}

/**
 * When a machine.offline held back by its limit is reconsidered: the start of the next window.
 * The sweep marks the machine again then if it is still silent, so an outage is paged late,
 * not lost (one over the site's bound is counted and said instead, `counted`).
 */
export function heldPageDue(at: Date): Date {
  return new Date((windowOf(at.getTime(), EMISSION_LIMITS.windowMs) + 1) * EMISSION_LIMITS.windowMs);
}

/** The key whose suppressed count the next emitted event reports: its subject limit. */
export function suppressionKey(e: DetectedEvent): string | null {
  return limitsFor(e).find((l) => l.scope === "subject")?.key ?? null;
}

/** Doc id of an occurrence: what happened, not who reported it. */
export function occurrenceId(e: DetectedEvent): string {
  return `occ_${hash(`${e.type}|${e.machineId}|${e.subject}|${e.content}`)}`;
}

/** A new occurrence's event id, from the report that opened it (stable across that report's replays). */
export function occurrenceEventId(occurrence: string, firstReportId: string): string {
  return `evt_${hash(`${occurrence}|${firstReportId}`)}`;
}

/** The id of the answer to an event (machine.online to its machine.offline): one answer per question. */
export function answerEventId(questionEventId: string): string {
  return `evt_${hash(`${questionEventId}|answer`)}`;
}

export const windowOf = (atMs: number, windowMs: number) => Math.floor(atMs / windowMs);

/**
 * `suppressed`: over a limit of its own subject (its machine.offline page is held for the next
 * window); `counted`: over the site-wide bound of machine.offline pages (counted, never held:
 * a site gone dark must not page machine after machine, hour after hour).
 */
export type Decision = "emitted" | "suppressed" | "counted";

export interface OccurrenceState {
  eventId: string;
  firstAtMs: number;
  channels: Partial<Record<Channel, boolean>>;
  reports: string[];
  decision: Decision | null;
}

/**
 * How one report relates to the occurrence stored for its content:
 * - `new`: nothing (recent) stored, or another write of the same content by the same channel
 *   (a log doc is never resent, so two are two crashes): a new occurrence;
 * - `replay`: this very report again (a redelivered trigger);
 * - `pair`: the same occurrence reported by another channel (the alert of a logged crash);
 * - `resend`: a process alert the agent sent again (alerts carry no id of their own; only process
 *   alerts are queued and resent, so an identical connection-failure alert is `new`).
 */
export type Join = "new" | "replay" | "pair" | "resend";

export function joinOccurrence(state: OccurrenceState | null, report: { channel: Channel; reportId: string | null; atMs: number }, resendable = true): Join {
  if (!state) return "new";
  if (report.reportId !== null && state.reports.includes(report.reportId)) return "replay";
  if (Math.abs(report.atMs - state.firstAtMs) > PAIRING_WINDOW_MS) return "new";
  if (!state.channels[report.channel]) return "pair";
  // Process alerts are queued and resent by the agent; connection-failure alerts never are, so an
  // identical one is a new failure.
  return report.channel === "alert" && resendable ? "resend" : "new";
}

/** Alerts of this type are queued and resent by the deployed agent (process alerts; connection failures are not). */
export function alertsResent(type: DetectedEvent["type"]): boolean {
  return type === "process.crashed" || type === "process.start_failed";
}

/** How many report ids an occurrence keeps for replay detection (a hostile flood cannot grow it). */
export const OCCURRENCE_REPORTS_KEPT = 10;
