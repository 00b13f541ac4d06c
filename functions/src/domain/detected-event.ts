import type { EventType } from "./event-catalog";

/**
 * What a detector found in one report: the event type, the machine it concerns and the
 * type-specific fields. The machine's display name is added when the payload is built,
 * because process docs, log docs and alerts do not carry a name the pipeline can trust.
 */
export interface DetectedEvent {
  type: EventType;
  machineId: string;
  /**
   * The machine doc's `name`, when the detector read that doc (the machine trigger, the sweep's
   * mark); otherwise left out and read from the machine doc when the payload is built. Never
   * a name an agent's report states about itself (a log doc's or alert's `machineName`): that
   * is its word, and payloads and renderings must not show one machine's crash as another's.
   */
  machineName?: string | undefined;
  fields: Record<string, unknown>;
  /**
   * What happened, independent of the channel that reported it: two reports with the same
   * type, machine, subject and content within the pairing window are one occurrence (a crash
   * seen by its log doc and by its alert). See domain/emission-policy.ts.
   */
  subject: string;
  content: string;
  /** The instant the payload names, when it is not the report's own time (machine.offline). */
  occurredAt?: Date | undefined;
  /** machine.online: the machine.offline it answers. It goes out only if that one did, and after it. */
  answers?: DetectedEvent | undefined;
  /** A report of an outage counted already (a held page's machine marked again): not another flap (domain/flapping.ts). */
  repeat?: boolean | undefined;
}

/** Error strings from agents can be long stack traces; receivers get the start of them. */
export const PAYLOAD_TEXT_LIMIT = 2000;

export function clip(text: string, limit = PAYLOAD_TEXT_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
