import { isHostReportedType, type EventType } from "./event-catalog";
import { hostEventName } from "./host-vocabulary";
import type { EventPayload, SiteRef } from "./payload";

/**
 * The two bodies the Owlette host's receivers were written against, rendered from the pipeline's
 * stored event at send time (domain/destination-formats.ts `renderBody`), so a webhook the host
 * created keeps getting what its receiver parses:
 * - `owlette_v1`: the host dashboard's sender, `{event, timestamp, site, data}` with the host's
 *   event names and data shapes (`machine: {id, name}` and so on), plus the event `id` last;
 * - `owlette_api`: the host's documented public API envelope, `{id, event, occurredAt, siteId,
 *   data}` with `data` flat (`machineId`, `siteId`, `name`, then the event's own fields).
 * Both keep the pipeline's `id`, the one thing a receiver can deduplicate retries on.
 */

type Data = Record<string, unknown>;

export interface OwletteV1Body {
  event: string;
  timestamp: string;
  site: SiteRef;
  data: Data;
  /** Not in the host's body: added last, so receivers that dedupe can, and others ignore it. */
  id: string;
}

export interface OwletteApiBody {
  id: string;
  event: EventType;
  occurredAt: string;
  siteId: string;
  data: Data;
}

/** The stored `data` split into the machine, the held-back count and the event's own fields. */
function parts(p: EventPayload): { machine: Data; suppressed: unknown; siteSuppressed: unknown; fields: Data } {
  const { machineId, machineName, suppressed, siteSuppressed, ...fields } = p.data;
  return { machine: { id: machineId, name: machineName ?? machineId }, suppressed, siteSuppressed, fields };
}

/** A field the pipeline put on the event, or nothing: fields are never invented. */
const some = (key: string, value: unknown): Data => (value === undefined ? {} : { [key]: value });

/** `data` of the dashboard-v1 body: what the host's sender put there for this event. */
function owletteV1Data(p: EventPayload): Data {
  const { machine, fields } = parts(p);
  const type = p.event;
  // The host's own data, carried as reported (`alert`, `monitor`, `changes`, ...).
  if (isHostReportedType(type)) return { machine, ...fields };
  switch (type) {
    case "process.crashed":
    case "process.start_failed":
      // The host always sent an error string, "" when it had none.
      return { machine, process: { name: fields.processName, error: typeof fields.errorMessage === "string" ? fields.errorMessage : "" } };
    case "machine.offline":
      return { machine: { ...machine, ...some("lastSeen", fields.lastHeartbeat) } };
    case "connection_failure":
      // The host reported a lost connection as the machine going offline, without a last-seen time.
      return { machine };
    case "machine.online":
      return { machine, ...some("offlineSince", fields.offlineSince) };
    case "webhook.test":
      return { message: fields.message };
    case "machine.flapping":
    case "machine.stable":
    case "process.stable":
      // The machine as the host names it, then the pipeline's fields (machine.flapping goes as machine.offline,
      // machine.stable as machine.online, process.stable under its own name: host-vocabulary.ts).
      return { machine, ...fields };
    case "process.flapping": {
      // Sent under process.crashed: the host's process shape, its error saying the loop.
      const what = `Crashed ${typeof fields.flaps === "number" ? fields.flaps : "several"} times in ${typeof fields.windowMinutes === "number" ? fields.windowMinutes : "a few"} minutes; further crashes are held back until it is stable`;
      return { machine, process: { name: fields.processName, error: what }, ...fields };
    }
    case "webhook.failing":
    case "webhook.disabled":
      // No host sender had it: the pipeline's fields as they are.
      return fields;
  }
}

/** The host dashboard's (v1) sender body. */
export function owletteV1Body(p: EventPayload): OwletteV1Body {
  const { suppressed, siteSuppressed } = parts(p);
  return {
    event: hostEventName(p.event),
    timestamp: p.timestamp,
    site: { id: p.site.id, name: p.site.name },
    data: { ...owletteV1Data(p), ...some("suppressed", suppressed), ...some("siteSuppressed", siteSuppressed) },
    id: p.id,
  };
}

/** The host's public API envelope: `data` flat, the machine's name as `name`, the site's id beside it. */
export function owletteApiBody(p: EventPayload): OwletteApiBody {
  const { machineId, machineName, ...rest } = p.data;
  // The test event concerns no machine: its data is the site's id and the message.
  const head = machineId === undefined ? { siteId: p.site.id } : { machineId, siteId: p.site.id, name: machineName ?? machineId };
  return { id: p.id, event: p.event, occurredAt: p.timestamp, siteId: p.site.id, data: { ...head, ...rest } };
}
