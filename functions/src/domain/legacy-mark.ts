import { z } from "zod";
import { AGENT_LIMITS, timestampSchema } from "./agent-docs";
import { STALE_REASON, type Mark } from "./presence";

/**
 * The mark an earlier version of the sweep wrote on the machine doc itself: `online: false`,
 * `offlineReason: "heartbeat_stale"`, `offlineSince` (and `offlinePageHeldUntil` for a held
 * page). A machine still marked so when this version is deployed gets its machine.online when
 * its agent comes back: the mark stands for the same occurrence (the same instant) as the
 * machine.offline that version sent, so the answer pairs with it and nothing is sent twice.
 */
export const legacyFieldsSchema = z.object({
  online: z.unknown(),
  offlineReason: z.literal(STALE_REASON),
  offlineSince: timestampSchema,
  lastHeartbeat: timestampSchema.nullish(),
  name: z.string().max(AGENT_LIMITS.name).nullish(),
});

/** The fields the earlier sweep wrote, which this version removes once the machine is back. */
export const LEGACY_MARK_FIELDS = ["offlineReason", "offlineSince", "offlinePageHeldUntil"] as const;

function legacyFields(doc: unknown) {
  const parsed = legacyFieldsSchema.safeParse(doc);
  return parsed.success ? parsed.data : null;
}

/**
 * The legacy mark a write shows the machine's return from: before it, the doc carried the mark
 * with `online: false`; the agent's return (`online: true` with a newer heartbeat, which knows
 * nothing of the mark) leaves the mark in place. Later writes (heartbeats, the removal of the
 * old fields) are no return.
 */
export function legacyReturn(before: unknown, after: unknown): Mark | null {
  const was = legacyFields(before);
  const now = legacyFields(after);
  if (!was || !now || was.online !== false || now.online !== true) return null;
  if (was.offlineSince.toMillis() !== now.offlineSince.toMillis()) return null;
  const lastHeartbeat = was.lastHeartbeat ?? was.offlineSince;
  const beat = now.lastHeartbeat?.toMillis();
  if (beat === undefined || beat <= lastHeartbeat.toMillis()) return null;
  return { staleSince: was.offlineSince, lastHeartbeat, name: was.name ?? null };
}
