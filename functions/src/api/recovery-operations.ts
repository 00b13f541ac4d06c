import { isAbandoned, RECOVERY, recoveryWindow } from "../domain/recovery";
import type { RecoveryDoc } from "../data/recovery-store";
import { startRecovery } from "../pipeline/recover";
import { ApiError, invalid } from "./errors";
import { parseInput } from "./inputs";
import { actorOf, type Handler, type ServiceContext } from "./service-context";

/**
 * What callers see of a recovery: its window, where it stands and why it stopped; not its plan.
 * One still running that has not moved for long lost its task chain: it is shown stopped.
 */
export function recoveryView(r: RecoveryDoc, nowMs: number) {
  const iso = (ms: number) => new Date(ms).toISOString();
  const lost = r.status === "running" && isAbandoned(r.updatedAtMs, nowMs);
  return {
    id: r.id,
    webhookId: r.webhookId,
    since: iso(r.sinceMs),
    until: iso(r.untilMs),
    status: lost ? "stopped" : r.status,
    reason: lost ? "abandoned" : r.reason,
    total: r.total,
    sent: r.sent,
    alreadyDelivered: r.alreadyDelivered,
    answered: r.answered,
    rejected: r.rejected,
    unavailable: r.unavailable,
    remaining: r.total - r.cursor,
    stoppedAt: r.stoppedAt,
    createdAt: iso(r.createdAtMs),
    updatedAt: iso(r.updatedAtMs),
  };
}

/** Recover since: re-send what a webhook did not get in a window, and see how that goes. */
export function recoveryOperations({ deps, schemas, access, changeable, webhookOr404 }: ServiceContext) {
  const recoverDeps = () => {
    const { recoveries, enqueueRecovery } = deps;
    if (!recoveries || !enqueueRecovery) throw new ApiError("unavailable", "recover is not available here");
    return { ...deps, recoveries, enqueueRecovery };
  };
  return {
    "webhooks.recover": async (principal, raw) => {
      const input = parseInput(schemas.recover, raw);
      await access(principal, input.siteId, "admin", "writes");
      const webhook = await changeable(input.siteId, input.webhookId);
      const d = webhook.data;
      if (d.enabled !== true || d.paused === true) throw new ApiError("conflict", "webhook is off; enable or resume it before recovering");
      const window = recoveryWindow({ since: input.since, until: input.until }, deps.now().getTime());
      if ("problems" in window) throw invalid(window.problems);
      const started = await startRecovery({ siteId: input.siteId, webhookId: input.webhookId }, window, actorOf(principal), recoverDeps());
      if (started.kind === "too_many") {
        throw invalid([
          { path: "since", reason: `the window holds more than ${RECOVERY.maxItems} deliveries to re-send; start it later or end it earlier (until)` },
        ]);
      }
      if (started.kind === "running") {
        const r = started.recovery;
        throw new ApiError("conflict", `recovery ${r.id} is running (${r.cursor} of ${r.total} done); wait for it to finish`);
      }
      return { recovery: recoveryView(started.recovery, deps.now().getTime()) };
    },

    "recoveries.get": async (principal, raw) => {
      const input = parseInput(schemas.recovery, raw);
      await access(principal, input.siteId, "read");
      await webhookOr404(input.siteId, input.webhookId);
      const found = await recoverDeps().recoveries.load(input);
      if (!found) throw new ApiError("not_found", `recovery ${input.recoveryId} not found`);
      return { recovery: recoveryView(found, deps.now().getTime()) };
    },
  } satisfies Record<string, Handler>;
}
