import type { EventType } from "./event-catalog";

/**
 * What a detector found in one write: the event type, the machine it concerns and the
 * type-specific fields. The machine's display name is added when the payload is built,
 * because process docs do not carry it.
 */
export interface DetectedEvent {
  type: EventType;
  machineId: string;
  machineName?: string | undefined;
  fields: Record<string, unknown>;
}

/** Error strings from agents can be long stack traces; receivers get the start of them. */
export const PAYLOAD_TEXT_LIMIT = 2000;

export function clip(text: string, limit = PAYLOAD_TEXT_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
