import { createHash } from "node:crypto";
import { z } from "zod";
import { connectionFailure } from "./detect-machine-events";
import { processEvent } from "./detect-process-events";
import { clip, type DetectedEvent } from "./detected-event";
import { isDisplayEventType } from "./event-catalog";
import { HOST_SENDER_EVENTS } from "./host-vocabulary";

/**
 * What the Owlette host's sender hands over (integrations/owlette-host, in place of its own
 * `fireWebhooks`): `sites/{s}/hostReports/{id}` with `{event, siteName, data}` as its callers
 * pass them:
 * - its agent-alert route: `process.crashed` / `process.restarted` with `{machine: {id, name},
 *   process: {name, error}}`, a connection failure as `machine.offline` with `{machine: {id, name}}`,
 *   `display.*` with `{machine: {id, name}, ...the agent's data}`;
 * - its offline check: `machine.offline` with `{machine: {id, name, lastSeen}}`;
 * - its metric rules: `threshold.breached` with `{machine: {id, name}, alert: {...}}`.
 * Each becomes the pipeline's event through the same occurrences as the agent's own reports: the
 * host's process alert and the agent's log doc for one crash are one event.
 */

/** The most of the host's `data` kept: its agents' display payloads are small; more is a mistake or abuse. */
export const HOST_DATA_MAX_BYTES = 16 * 1024;
const ID = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^/]+$/, "must not contain /");

export const hostReportSchema = z.object({
  event: z.string().min(1).max(64),
  siteName: z.string().max(200).nullish(),
  data: z.record(z.string(), z.unknown()).refine((d) => Buffer.byteLength(JSON.stringify(d)) <= HOST_DATA_MAX_BYTES, {
    message: `must be at most ${HOST_DATA_MAX_BYTES} bytes of JSON`,
  }),
});
export type HostReport = z.infer<typeof hostReportSchema>;

const machineSchema = z.object({ id: ID, name: z.string().max(256).nullish(), lastSeen: z.unknown().optional() }).passthrough();
const processSchema = z.object({ name: z.string().min(1).max(256), error: z.string().nullish() }).passthrough();

export type HostReading =
  | { kind: "event"; event: DetectedEvent }
  /** Reported by the pipeline itself (outages, returns): the host's copy adds nothing. */
  | { kind: "own"; reason: string }
  | { kind: "invalid"; path: string; reason: string };

const scalar = (v: unknown) => (typeof v === "string" && v ? v.slice(0, 100) : typeof v === "number" && Number.isFinite(v) ? v : null);
const text = (v: unknown) => (typeof v === "string" && v ? v : null);
const digest = (v: unknown) => createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 32);

/** The report's event, or what is wrong with it (named by field). */
export function readHostReport(report: HostReport): HostReading {
  const { event, data } = report;
  if (!HOST_SENDER_EVENTS.includes(event)) {
    return { kind: "invalid", path: "event", reason: `unknown event "${event}"; one of ${HOST_SENDER_EVENTS.join(", ")}` };
  }
  const machine = machineSchema.safeParse(data.machine);
  if (!machine.success) return { kind: "invalid", path: "data.machine.id", reason: "required: the machine's id" };
  const machineId = machine.data.id;
  const { machine: _machine, ...rest } = data;
  switch (event) {
    case "process.crashed":
    case "process.restarted": {
      const proc = processSchema.safeParse(data.process);
      if (!proc.success) return { kind: "invalid", path: "data.process.name", reason: `required for ${event}` };
      // The same fields the agent's own alert carries, so the agent's log doc for this crash meets it.
      return {
        kind: "event",
        event: processEvent({
          type: event === "process.crashed" ? "process.crashed" : "process.start_failed",
          machineId,
          processName: proc.data.name,
          errorMessage: proc.data.error ?? null,
        }),
      };
    }
    case "machine.offline":
      // The host's offline check (it says when the machine was last seen) reports what the sweep
      // reports itself; the alert route's (no lastSeen) is an agent's connection failure.
      if (machine.data.lastSeen !== undefined && machine.data.lastSeen !== null)
        return { kind: "own", reason: "machine.offline is reported by the pipeline's own sweep" };
      // The host passes the machine alone today; a code or message it adds is carried.
      return { kind: "event", event: connectionFailure({ machineId, errorCode: scalar(data.errorCode), errorMessage: text(data.errorMessage ?? data.error) }) };
    case "machine.online":
      return { kind: "own", reason: "machine.online is reported by the pipeline itself" };
    case "threshold.breached": {
      const alert = (rest.alert ?? {}) as Record<string, unknown>;
      const rule = typeof alert.ruleName === "string" && alert.ruleName ? alert.ruleName : typeof alert.metric === "string" ? alert.metric : "rule";
      return { kind: "event", event: hostEvent("threshold.breached", machineId, `threshold:${clip(rule, 200)}`, rest) };
    }
    default: {
      if (!isDisplayEventType(event)) return { kind: "invalid", path: "event", reason: `unknown event "${event}"` };
      const monitor = (rest.monitor ?? {}) as Record<string, unknown>;
      const which = [monitor.edidHash, monitor.id, monitor.port].find((v) => typeof v === "string" && v) as string | undefined;
      // Per kind and monitor: a monitor removed then added again is two events, a drifting one is limited.
      return { kind: "event", event: hostEvent(event, machineId, `${event}:${clip(which ?? "-", 200)}`, rest) };
    }
  }
}

/** A threshold or display event: the host's data as its fields; each report its own occurrence unless replayed. */
function hostEvent(type: DetectedEvent["type"], machineId: string, subject: string, fields: Record<string, unknown>): DetectedEvent {
  return { type, machineId, fields, subject, content: digest(fields) };
}
