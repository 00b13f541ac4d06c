import fc from "fast-check";
import { coveredFloor, floorToSave, FLOOR_WRITE_STEP_MS, type PassCoverage } from "../../src/domain/sweep-floor";

const T0 = Date.parse("2026-03-22T10:00:00Z");
const START = T0;
const CUTOFF = T0 + 3_600_000;

function pass(over: Partial<PassCoverage> = {}): PassCoverage {
  return { cutoffMs: CUTOFF, complete: true, lastReadMs: null, unsettledMs: [], ...over };
}

describe("coveredFloor", () => {
  it("is the cutoff after a complete pass: every machine up to it was read", () => {
    expect(coveredFloor(START, pass())).toBe(CUTOFF);
    expect(coveredFloor(null, pass())).toBe(CUTOFF);
    // The heartbeat of the last machine read says nothing more once the query ran dry.
    expect(coveredFloor(START, pass({ lastReadMs: START + 60_000 }))).toBe(CUTOFF);
  });

  it("is the last heartbeat read when the pass stopped at the page limit: the next pass reads on from there", () => {
    expect(coveredFloor(START, pass({ complete: false, lastReadMs: START + 600_000 }))).toBe(START + 600_000);
    expect(coveredFloor(null, pass({ complete: false, lastReadMs: START + 600_000 }))).toBe(START + 600_000);
  });

  it("stays below the oldest machine the pass could not settle, so the next pass reads it again", () => {
    expect(coveredFloor(START, pass({ unsettledMs: [START + 900_000, START + 300_000, START + 1_200_000] }))).toBe(START + 300_000);
    expect(coveredFloor(START, pass({ complete: false, lastReadMs: START + 600_000, unsettledMs: [START + 120_000] }))).toBe(START + 120_000);
    // An unsettled machine past what was covered does not lift the floor.
    expect(coveredFloor(START, pass({ complete: false, lastReadMs: START + 600_000, unsettledMs: [START + 599_000, START + 600_000] }))).toBe(START + 599_000);
    expect(coveredFloor(null, pass({ unsettledMs: [START] }))).toBe(START);
  });

  it("keeps the floor where it was when an incomplete pass reports no machine read", () => {
    expect(coveredFloor(START, pass({ complete: false, lastReadMs: null }))).toBe(START);
  });

  it("is nothing without a floor to start from and nothing read", () => {
    expect(coveredFloor(null, pass({ complete: false, lastReadMs: null }))).toBeNull();
  });
});

describe("floorToSave", () => {
  it("writes the first floor", () => {
    expect(floorToSave(null, CUTOFF)).toBe(CUTOFF);
    expect(floorToSave(null, START + 1)).toBe(START + 1);
  });

  it("writes nothing when there is no floor to write", () => {
    expect(floorToSave(null, null)).toBeNull();
    expect(floorToSave(START, null)).toBeNull();
  });

  it("skips moves under the step, and writes after every pass of the schedule (10 s apart)", () => {
    expect(FLOOR_WRITE_STEP_MS).toBe(5_000);
    expect(floorToSave(START, START)).toBeNull();
    expect(floorToSave(START, START + 1_000)).toBeNull();
    expect(floorToSave(START, START + FLOOR_WRITE_STEP_MS - 1)).toBeNull();
    expect(floorToSave(START, START + 10_000)).toBe(START + 10_000);
  });

  it("writes moves of at least the step", () => {
    expect(floorToSave(START, START + FLOOR_WRITE_STEP_MS)).toBe(START + FLOOR_WRITE_STEP_MS);
    expect(floorToSave(START, CUTOFF)).toBe(CUTOFF);
  });

  it("writes any move of a pass that stopped at its page limit: the next pass goes on from there", () => {
    // More silent machines within a few seconds of the floor than a pass reads (a fleet-wide
    // outage): without this write every pass would read the same first pages, never the rest.
    expect(floorToSave(START, START + 1_000, true)).toBe(START + 1_000);
    expect(floorToSave(START, START + 1, true)).toBe(START + 1);
    expect(floorToSave(START, START, true)).toBeNull();
    expect(floorToSave(START, START + 1_000, false)).toBeNull();
  });

  it("never lowers the floor: a pass held below it by a machine it could not settle leaves it as it is", () => {
    expect(floorToSave(START, START - 1)).toBeNull();
    expect(floorToSave(START, START - FLOOR_WRITE_STEP_MS)).toBeNull();
    expect(floorToSave(START, START - 86_400_000)).toBeNull();
  });
});

describe("the sweep floor, over random passes", () => {
  /**
   * One pass as runSweep makes it: the silent machines' heartbeats in [start, cutoff), read
   * oldest first up to the page limit, some of those read left unsettled (a failed
   * transaction, a return still being cleared).
   */
  const passes = fc
    .record({
      cutoffMs: fc.integer({ min: T0, max: T0 + 86_400_000 }),
      startBack: fc.option(fc.integer({ min: 0, max: 3_600_000 }), { nil: null }),
      offsets: fc.array(fc.tuple(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.boolean()), { maxLength: 40 }),
      limit: fc.integer({ min: 1, max: 50 }),
    })
    .map(({ cutoffMs, startBack, offsets, limit }) => {
      const startMs = startBack === null ? null : cutoffMs - startBack;
      const low = startMs ?? cutoffMs - 7_200_000;
      const machines = offsets
        .map(([at, settles]) => ({ heartbeatMs: low + Math.floor(at * (cutoffMs - low)), settles }))
        // The query is [start, cutoff): a floor already at the cutoff finds no machine.
        .filter((m) => m.heartbeatMs < cutoffMs)
        .sort((a, b) => a.heartbeatMs - b.heartbeatMs);
      const read = machines.slice(0, limit);
      const complete = machines.length < limit;
      const coverage: PassCoverage = {
        cutoffMs,
        complete,
        lastReadMs: complete ? null : (read[read.length - 1]?.heartbeatMs ?? null),
        unsettledMs: read.filter((m) => !m.settles).map((m) => m.heartbeatMs),
      };
      return { startMs, machines, read, coverage };
    });

  it("never rises above a machine left unsettled nor above the cutoff, and never falls below the floor it started from", () => {
    fc.assert(
      fc.property(passes, ({ startMs, coverage }) => {
        const floor = coveredFloor(startMs, coverage);
        // A pass always covers something: the query either ran dry or read a machine.
        expect(floor).not.toBeNull();
        expect(floor!).toBeLessThanOrEqual(coverage.cutoffMs);
        for (const unsettled of coverage.unsettledMs) expect(floor!).toBeLessThanOrEqual(unsettled);
        if (startMs !== null) expect(floor!).toBeGreaterThanOrEqual(startMs);
      }),
      { numRuns: 500 },
    );
  });

  it("leaves below it only machines this pass read and settled", () => {
    fc.assert(
      fc.property(passes, ({ startMs, machines, read, coverage }) => {
        const floor = coveredFloor(startMs, coverage)!;
        for (const m of machines.filter((x) => x.heartbeatMs < floor)) {
          expect(read).toContain(m);
          expect(m.settles).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("saves either nothing or the covered floor, and never a lower one", () => {
    fc.assert(
      fc.property(passes, ({ startMs, coverage }) => {
        const next = coveredFloor(startMs, coverage);
        const saved = floorToSave(startMs, next, !coverage.complete);
        // A pass cut short by its page limit always hands its progress on to the next one.
        if (!coverage.complete && startMs !== null && next !== null && next > startMs) expect(saved).toBe(next);
        if (saved === null) return;
        expect(saved).toBe(next);
        if (startMs !== null) expect(saved).toBeGreaterThan(startMs);
        if (startMs !== null && coverage.complete) expect(saved).toBeGreaterThanOrEqual(startMs + FLOOR_WRITE_STEP_MS);
      }),
      { numRuns: 500 },
    );
  });
});
