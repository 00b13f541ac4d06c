// The Owlette host's words for events, beside the pipeline's: which names its sender used,
// which names its webhook docs subscribe with, and how the two map. Pure and import-free but
// for the catalog, so the data layer, the formats and the console can all take it along.
import { DISPLAY_EVENT_TYPES, IMPLIED_SUBSCRIPTIONS, type DisplayEventType, type EventType } from "./event-catalog";

/** The display events the host's agents report; the catalog carries them under the same names. */
export const HOST_DISPLAY_EVENTS: readonly DisplayEventType[] = DISPLAY_EVENT_TYPES;

/**
 * The event names the host's dashboard sender was called with, so the names its webhook docs
 * and receivers know. `process.restarted` is its name for a process that failed to start;
 * connection failures went out as `machine.offline`.
 */
export const HOST_SENDER_EVENTS: readonly string[] = [
  "process.crashed",
  "process.restarted",
  "machine.offline",
  "machine.online",
  "threshold.breached",
  ...DISPLAY_EVENT_TYPES,
];

/** Which of the host's two webhook doc shapes: its dashboard's (v1) or its public API's. */
export type HostShape = "dashboard" | "api";

/** The one format whose webhook docs subscribe in the host dashboard's names. */
const DASHBOARD_FORMAT = "owlette_v1";

/**
 * The host dashboard's name for a pipeline type, where it differs. `dashboardOnly`: the name is
 * also a pipeline type of its own (`machine.offline` means outages alone in a pipeline webhook),
 * so it stands for the aliased type only in docs of the dashboard-v1 format, whose receivers got
 * connection failures under it. `process.restarted` names nothing else, so any doc holding it
 * means start failures.
 */
const HOST_ALIASES: Partial<Record<EventType, { name: string; dashboardOnly: boolean }>> = {
  "process.start_failed": { name: "process.restarted", dashboardOnly: false },
  connection_failure: { name: "machine.offline", dashboardOnly: true },
  // A flapping machine or process under the names the host's receivers know: they get the
  // outage or the crash loop, and the machine's return, as events they already handle.
  "machine.flapping": { name: "machine.offline", dashboardOnly: true },
  "machine.stable": { name: "machine.online", dashboardOnly: true },
  "process.flapping": { name: "process.crashed", dashboardOnly: true },
};

/**
 * The name the dashboard-v1 format (and its `X-Owlette-Event` header) gives an event: what the
 * host's sender called it, so receivers written against the host keep matching on it.
 */
export function hostEventName(type: EventType): string {
  return HOST_ALIASES[type]?.name ?? type;
}

/**
 * The names a webhook doc's `events` may hold for it to get `type`: its own, the host's name
 * for it where that differs, and the names that imply it (IMPLIED_SUBSCRIPTIONS). For a query
 * such as `array-contains-any`; `subscribes` then says whether the doc found really takes it.
 */
export function subscriptionNames(type: EventType): string[] {
  const alias = HOST_ALIASES[type];
  return [...new Set([type, ...(alias ? [alias.name] : []), ...(IMPLIED_SUBSCRIPTIONS[type] ?? [])])];
}

/**
 * The names that imply `type` in a doc of this format: in the dashboard-v1 format, a stable event
 * goes only where its own name, or the host's (`machine.online`), is listed: a host receiver gets
 * no event under a name it did not subscribe to (the flapping events go under the names that imply them).
 */
function impliedIn(type: EventType, format: string): readonly string[] {
  if (format === DASHBOARD_FORMAT && (type === "machine.stable" || type === "process.stable")) return [];
  return IMPLIED_SUBSCRIPTIONS[type] ?? [];
}

/** Whether a webhook doc with these `events` and this `format` gets `type` (its own name, the host's, or one that implies it). */
export function subscribes(events: readonly string[], type: EventType, format: string): boolean {
  if (events.includes(type) || impliedIn(type, format).some((name) => events.includes(name))) return true;
  const alias = HOST_ALIASES[type];
  return alias !== undefined && events.includes(alias.name) && (!alias.dashboardOnly || format === DASHBOARD_FORMAT);
}
