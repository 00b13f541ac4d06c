/** Every event type the pipeline can emit. `webhook.test` is sent on demand, never fanned out. */
export const EVENT_TYPES = ["process.crashed", "process.start_failed", "machine.offline", "machine.online", "connection_failure", "webhook.test"] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The types a webhook can subscribe to. */
export const SUBSCRIBABLE_EVENT_TYPES: readonly EventType[] = EVENT_TYPES.filter((t) => t !== "webhook.test");

export function isSubscribableEventType(value: string): value is EventType {
  return (SUBSCRIBABLE_EVENT_TYPES as readonly string[]).includes(value);
}
