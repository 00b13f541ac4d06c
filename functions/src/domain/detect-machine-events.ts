import type { MachineDoc, TimestampLike } from "./agent-docs";
import { clip, type DetectedEvent } from "./detected-event";

/** Written by the sweep, and only by it, when a heartbeat goes stale. */
export const STALE_REASON = "heartbeat_stale";
export const CONNECTION_FAILURE = "connection_failure";

function sameInstant(a: TimestampLike | null | undefined, b: TimestampLike | null | undefined) {
  if (!a || !b) return a === b;
  return a.toMillis() === b.toMillis();
}

function isMarkedStale(doc: MachineDoc | null): boolean {
  return doc?.online === false && doc.offlineReason === STALE_REASON;
}

function iso(ts: TimestampLike | null | undefined): string | null {
  return ts ? new Date(ts.toMillis()).toISOString() : null;
}

/**
 * Events implied by one write to `sites/{siteId}/machines/{machineId}`.
 *
 * machine.offline fires only on the sweep's own mark (a fresh `offlineSince` with the stale
 * reason), never on an agent's clean shutdown, even one that races the clearing of an old mark.
 * machine.online fires when a machine the sweep marked stale reports online again.
 */
export function detectMachineEvents(
  before: MachineDoc | null,
  after: MachineDoc | null,
  machineId: string,
): DetectedEvent[] {
  if (!after) return [];
  const machineName = after.name ?? undefined;
  const events: DetectedEvent[] = [];

  if (isMarkedStale(after) && !(isMarkedStale(before) || sameInstant(before?.offlineSince, after.offlineSince))) {
    events.push({
      type: "machine.offline",
      machineId,
      machineName,
      fields: {
        reason: STALE_REASON,
        lastHeartbeat: iso(after.lastHeartbeat),
        offlineSince: iso(after.offlineSince),
      },
    });
  }

  if (isMarkedStale(before) && after.online === true) {
    events.push({
      type: "machine.online",
      machineId,
      machineName,
      fields: {
        offlineSince: iso(before?.offlineSince),
        lastHeartbeat: iso(after.lastHeartbeat),
      },
    });
  }

  const failingNow = after.health?.status === CONNECTION_FAILURE;
  const failingBefore = before?.health?.status === CONNECTION_FAILURE;
  if (failingNow && !failingBefore) {
    events.push({
      type: "connection_failure",
      machineId,
      machineName,
      fields: {
        errorCode: after.health?.error_code ?? null,
        errorMessage: clip(after.health?.error_message ?? "Connection failure"),
      },
    });
  }
  return events;
}

/**
 * An agent that heartbeats again merges `online: true` and leaves the sweep's mark in place.
 * The mark must then be cleared, or a later clean shutdown would look like a stale machine.
 */
export function hasLeftoverStaleMark(after: MachineDoc | null): boolean {
  return after?.online === true && after.offlineReason === STALE_REASON;
}
