/**
 * Display events the host's agents report (monitor layout, sync and Mosaic state), under the
 * host's own names: the pipeline carries them as they come, so receivers written for the host
 * need no mapping.
 */
export const DISPLAY_EVENT_TYPES = [
  "display.monitor_removed",
  "display.apply_failed",
  "display.auto_revert_fired",
  "display.sync_lost",
  "display.drift",
  "display.monitor_swapped",
  "display.mosaic_disabled",
  "display.apply_refused_mosaic",
  "display.monitor_added",
  "display.apply_succeeded",
] as const;

export type DisplayEventType = (typeof DISPLAY_EVENT_TYPES)[number];

/**
 * A machine going offline and back again and again, or a process crashing in a loop, told once
 * (`*.flapping`, with the count) instead of event by event, and its end (`*.stable`): see
 * domain/flapping.ts.
 */
export const FLAP_EVENT_TYPES = ["machine.flapping", "machine.stable", "process.flapping", "process.stable"] as const;

/**
 * Names that subscribe a webhook to a type besides its own: a flapping machine's or process's
 * events stand for the outages or crashes they hold back, so a webhook that takes those takes
 * them too (else it would hear nothing while the machine flaps). `process.restarted` is the
 * host's name for `process.start_failed`.
 */
const CRASH_NAMES = ["process.crashed", "process.start_failed", "process.restarted"];
export const IMPLIED_SUBSCRIPTIONS: Partial<Record<EventType, readonly string[]>> = {
  "machine.flapping": ["machine.offline"],
  "machine.stable": ["machine.offline"],
  "process.flapping": CRASH_NAMES,
  "process.stable": CRASH_NAMES,
};

/**
 * Every event type the pipeline can emit. `webhook.test` is sent on demand, never fanned out.
 * `threshold.breached` and the display events are the host's (its agents report them; the
 * pipeline detects the rest itself). `webhook.failing` and `webhook.disabled` are about the
 * site's webhooks, not a machine: a webhook halfway to being switched off by its failures, and
 * one switched off, each told to the site's other webhooks.
 */
export const EVENT_TYPES = [
  "process.crashed",
  "process.start_failed",
  "machine.offline",
  "machine.online",
  "connection_failure",
  ...FLAP_EVENT_TYPES,
  "threshold.breached",
  ...DISPLAY_EVENT_TYPES,
  "webhook.failing",
  "webhook.disabled",
  "webhook.test",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The types the host's agents report through the host; the pipeline detects the others itself. */
export const HOST_REPORTED_EVENT_TYPES = ["threshold.breached", ...DISPLAY_EVENT_TYPES] as const;
export type HostReportedEventType = (typeof HOST_REPORTED_EVENT_TYPES)[number];

/** Events only the host's agents report (through the host's sender): their data is the host's own. */
export function isHostReportedType(value: string): value is HostReportedEventType {
  return (HOST_REPORTED_EVENT_TYPES as readonly string[]).includes(value);
}

/** The types a webhook can subscribe to. */
export const SUBSCRIBABLE_EVENT_TYPES: readonly EventType[] = EVENT_TYPES.filter((t) => t !== "webhook.test");

export function isSubscribableEventType(value: string): value is EventType {
  return (SUBSCRIBABLE_EVENT_TYPES as readonly string[]).includes(value);
}

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

export function isDisplayEventType(value: string): value is DisplayEventType {
  return (DISPLAY_EVENT_TYPES as readonly string[]).includes(value);
}
