import { laterPasses, passStillDue, PASS_STALE_AFTER_MS } from "../../src/domain/sweep-passes";

describe("the sweep's passes in a minute", () => {
  const firedAt = Date.parse("2026-12-07T12:00:00.250Z");

  it("spreads the passes after the first evenly over the minute, under ids unique to the minute", () => {
    const passes = laterPasses(firedAt, 6);
    expect(passes.map((p) => p.delaySeconds)).toEqual([10, 20, 30, 40, 50]);
    expect(passes.map((p) => p.dueAtMs - firedAt)).toEqual([10_000, 20_000, 30_000, 40_000, 50_000]);
    expect(new Set(passes.map((p) => p.id)).size).toBe(5);
    // Not sequential: each id is led by a hash of the minute and the pass.
    expect(passes.every((p) => /^[0-9a-f]{8}-sweep-\d+-\d$/.test(p.id))).toBe(true);
    expect(new Set(passes.map((p) => p.id.slice(0, 8))).size).toBe(5);
    // The scheduler firing twice in one minute enqueues the same ids (refused the second time); the next minute, new ones.
    expect(laterPasses(firedAt + 20_000, 6).map((p) => p.id)).toEqual(passes.map((p) => p.id));
    expect(laterPasses(firedAt + 60_000, 6).map((p) => p.id)).not.toContain(passes[0]!.id);
  });

  it("makes no later pass when one a minute is configured, and 11 at the most configurable", () => {
    expect(laterPasses(firedAt, 1)).toEqual([]);
    expect(laterPasses(firedAt, 12).map((p) => p.delaySeconds)).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55]);
  });

  it("skips a pass dispatched after the next minute's have begun", () => {
    const [first] = laterPasses(firedAt, 6);
    expect(passStillDue(first!.dueAtMs, first!.dueAtMs + 3_000)).toBe(true);
    expect(passStillDue(first!.dueAtMs, first!.dueAtMs + PASS_STALE_AFTER_MS)).toBe(true);
    expect(passStillDue(first!.dueAtMs, first!.dueAtMs + PASS_STALE_AFTER_MS + 1)).toBe(false);
    expect(passStillDue(0, firedAt)).toBe(false);
  });
});
