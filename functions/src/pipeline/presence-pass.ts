import type { PresenceMode } from "../domain/presence-mode";
import type { Log } from "../log";
import { settleFlaps, type FlapsResult } from "./flapping";
import { answerReturns, type ReturnsDeps, type ReturnsResult } from "./sweep-returns";
import { runSweep, SweepError, type SweepResult } from "./sweep-pass";

export interface PresencePassDeps extends ReturnsDeps {
  presenceMode: PresenceMode;
  staleAfterMs: number;
  log: Log;
}

/**
 * One sweep pass in the deployed presence mode. Both modes mark silent machines; in the sweep
 * mode the pass then answers the returns (no trigger runs per heartbeat to do it), those a
 * failing site's pass found in the other sites included; the sweep's error is thrown after, and
 * a failure of the returns is logged beside it rather than hiding it.
 */
export async function presencePass(
  deps: PresencePassDeps,
  now: Date,
): Promise<{ sweep: SweepResult | null; returns: ReturnsResult | null; flaps: FlapsResult | null }> {
  const sweepMode = deps.presenceMode === "sweep";
  const swept = await runSweep(deps.presence, { now, staleAfterMs: deps.staleAfterMs, log: deps.log, ...(sweepMode ? { watch: deps.watch } : {}) }).then(
    (result) => ({ result, error: null as unknown }),
    (error: unknown) => ({ result: error instanceof SweepError ? error.result : null, error }),
  );
  const cutoff = new Date(now.getTime() - deps.staleAfterMs);
  let returns: ReturnsResult | null = null;
  let returnsError: unknown = null;
  if (sweepMode) {
    try {
      returns = await answerReturns(deps, cutoff, swept.result?.beaten ?? [], deps.log);
      if (returns.read > 0 || returns.failed > 0) deps.log.info("sweep.returns", { ...returns });
    } catch (err) {
      if (swept.error) deps.log.warn("sweep.returns_failed", { error: String((err as Error)?.message ?? err).slice(0, 200) });
      else returnsError = err;
    }
  }
  // Episodes of flapping whose look is due (pipeline/flapping.ts): looked at whatever failed above, and never failing the pass.
  const flaps = await settleFlaps(deps, now).catch((err: unknown) => {
    deps.log.warn("flapping.settle_failed", { error: String((err as Error)?.message ?? err).slice(0, 200) });
    return null;
  });
  if (swept.error) throw swept.error;
  if (returnsError) throw returnsError;
  return { sweep: swept.result, returns, flaps };
}
