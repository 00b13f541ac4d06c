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

/** The machine.offline a stale mark stands for, from the marked doc. */
function offlineEvent(marked: MachineDoc, machineId: string): DetectedEvent {
  const since = marked.offlineSince?.toMillis() ?? 0;
  return {
    type: "machine.offline",
    machineId,
    machineName: marked.name ?? undefined,
    fields: {
      reason: STALE_REASON,
      lastHeartbeat: iso(marked.lastHeartbeat),
      offlineSince: iso(marked.offlineSince),
    },
    // One mark, one occurrence: its instant identifies it, whichever trigger sees it first.
    subject: "presence",
    content: `offline:${since}`,
    occurredAt: marked.offlineSince ? new Date(since) : undefined,
  };
}

/**
 * Events implied by one write to `sites/{siteId}/machines/{machineId}`.
 *
 * machine.offline fires only on the sweep's own mark (a fresh `offlineSince` with the stale
 * reason: a first mark, or a renewed one), never on an agent's clean shutdown, even one that
 * races the clearing of an old mark.
 * machine.online fires when a machine the sweep marked stale reports online again; it names the
 * machine.offline it answers, which must go out first.
 */
export function detectMachineEvents(before: MachineDoc | null, after: MachineDoc | null, machineId: string): DetectedEvent[] {
  if (!after) return [];
  const machineName = after.name ?? undefined;
  const events: DetectedEvent[] = [];

  // A new mark instant is a new outage report, even on a doc still marked: the sweep marks a
  // machine again when a page held back by the emission limit comes due (Store.markHeldAgain).
  if (isMarkedStale(after) && !sameInstant(before?.offlineSince, after.offlineSince)) {
    events.push(offlineEvent(after, machineId));
  }

  if (before && isMarkedStale(before) && after.online === true) {
    const answers = offlineEvent(before, machineId);
    events.push({
      type: "machine.online",
      machineId,
      machineName,
      fields: {
        offlineSince: iso(before.offlineSince),
        lastHeartbeat: iso(after.lastHeartbeat),
      },
      subject: "presence",
      content: `online:${before.offlineSince?.toMillis() ?? 0}`,
      answers,
    });
  }

  const failingNow = after.health?.status === CONNECTION_FAILURE;
  const failingBefore = before?.health?.status === CONNECTION_FAILURE;
  if (failingNow && !failingBefore) {
    events.push(
      connectionFailure({
        machineId,
        machineName,
        errorCode: after.health?.error_code ?? null,
        errorMessage: after.health?.error_message ?? null,
      }),
    );
  }
  return events;
}

/** connection_failure, from the machine doc's health or from the agent's alert: the same occurrence either way. */
export function connectionFailure(input: {
  machineId: string;
  machineName?: string | undefined;
  errorCode: string | number | null;
  errorMessage: string | null;
}): DetectedEvent {
  const errorMessage = clip(input.errorMessage || "Connection failure");
  return {
    type: "connection_failure",
    machineId: input.machineId,
    machineName: input.machineName,
    fields: { errorCode: input.errorCode, errorMessage },
    subject: "connection",
    content: `${input.errorCode ?? ""}|${errorMessage}`,
  };
}

/**
 * An agent that heartbeats again merges `online: true` and leaves the sweep's mark in place.
 * The mark must then be cleared, or a later clean shutdown would look like a stale machine.
 */
export function hasLeftoverStaleMark(after: MachineDoc | null): boolean {
  return after?.online === true && after.offlineReason === STALE_REASON;
}
