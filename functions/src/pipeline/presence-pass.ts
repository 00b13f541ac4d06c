import type { PresenceMode } from "../domain/presence-mode";
import type { Log } from "../log";
import { answerReturns, type ReturnsDeps, type ReturnsResult } from "./sweep-returns";
import { runSweep, type SweepResult } from "./sweep-pass";

export interface PresencePassDeps extends ReturnsDeps {
  presenceMode: PresenceMode;
  staleAfterMs: number;
  log: Log;
}

/**
 * One sweep pass in the deployed presence mode. Both modes mark silent machines; in the sweep
 * mode the pass then answers the returns (no trigger runs per heartbeat to do it), even when a
 * site could not be swept: the sweep's error is thrown after.
 */
export async function presencePass(deps: PresencePassDeps, now: Date): Promise<{ sweep: SweepResult | null; returns: ReturnsResult | null }> {
  const sweepMode = deps.presenceMode === "sweep";
  const swept = await runSweep(deps.presence, { now, staleAfterMs: deps.staleAfterMs, log: deps.log, ...(sweepMode ? { watch: deps.watch } : {}) }).then(
    (result) => ({ result, error: null }),
    (error: unknown) => ({ result: null, error }),
  );
  const cutoff = new Date(now.getTime() - deps.staleAfterMs);
  const returns = sweepMode ? await answerReturns(deps, cutoff, swept.result?.beaten ?? [], deps.log) : null;
  if (returns && (returns.read > 0 || returns.failed > 0)) deps.log.info("sweep.returns", { ...returns });
  if (swept.error) throw swept.error;
  return { sweep: swept.result, returns };
}
