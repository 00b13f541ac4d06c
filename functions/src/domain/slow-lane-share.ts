/**
 * Each site's share of the slow lane. Its queue's dispatches (DELIVERY_SLOW_MAX_CONCURRENT, 20)
 * serve every site, and a receiver that answers 200 after nine seconds never fails, so is never
 * disabled: without a share, one site with many such receivers keeps the lane full and every
 * other site's slow-lane deliveries wait behind it.
 *
 * A site's slow-lane starts are paced by a generic cell rate algorithm: `share` of them may start
 * at once, then one every `timeoutMs / share`. An attempt lasts at most `timeoutMs` (the slow
 * lane's request deadline), so a site holds at most `2 x share` of the lane's dispatches at any
 * moment (its burst, plus what its rate starts within one deadline), and `share` sustained; with
 * the share a quarter of the lane, every other site always finds at least half of it. A start
 * that is not due yet is reserved: the attempt waits for it in the queue, holding no dispatch.
 */
export interface SharePolicy {
  /** Slow-lane starts a site may make at once, and per request deadline sustained. */
  share: number;
  /** The slow lane's request deadline: the longest an attempt holds its dispatch. */
  timeoutMs: number;
}

/** A quarter of the slow lane's dispatches, at least one. */
export function slowLaneSiteShare(slowMaxConcurrent: number): number {
  return Math.max(1, Math.floor(slowMaxConcurrent / 4));
}

/**
 * The start reserved for one more slow-lane attempt of a site, given the site's theoretical
 * arrival time (`tatMs`, null for a site with none), and the new one to keep.
 */
export function reserveStart(tatMs: number | null, nowMs: number, policy: SharePolicy): { startMs: number; tatMs: number } {
  const interval = policy.timeoutMs / policy.share;
  const burst = (policy.share - 1) * interval;
  const tat = Math.max(tatMs ?? nowMs, nowMs);
  return { startMs: Math.max(nowMs, tat - burst), tatMs: tat + interval };
}
