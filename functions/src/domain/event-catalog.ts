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
