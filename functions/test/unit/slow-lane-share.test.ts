import fc from "fast-check";
import { reserveStart, slowLaneSiteShare, type SharePolicy } from "../../src/domain/slow-lane-share";

const POLICY: SharePolicy = { share: 5, timeoutMs: 10_000 };
const T0 = 1_700_000_000_000;

/** Reserves one start per request time, in order, as the store's transactions do. */
function startsFor(requestsMs: number[], policy = POLICY): number[] {
  let tat: number | null = null;
  return requestsMs.map((at) => {
    const r = reserveStart(tat, at, policy);
    tat = r.tatMs;
    return r.startMs;
  });
}

describe("a site's share of the slow lane", () => {
  it("is a quarter of the lane's dispatches, at least one", () => {
    expect(slowLaneSiteShare(20)).toBe(5);
    expect(slowLaneSiteShare(4)).toBe(1);
    expect(slowLaneSiteShare(1)).toBe(1);
    expect(slowLaneSiteShare(0)).toBe(1);
  });

  it("starts a burst of `share` at once, then one every deadline / share", () => {
    const starts = startsFor(Array.from({ length: 8 }, () => T0));
    expect(starts.map((s) => s - T0)).toEqual([0, 0, 0, 0, 0, 2_000, 4_000, 6_000]);
  });

  it("a site that has been quiet starts at once again", () => {
    let tat: number | null = null;
    for (let i = 0; i < 8; i++) tat = reserveStart(tat, T0, POLICY).tatMs;
    // Reserved up to T0 + 16 s: just after, the next start still waits its turn...
    expect(reserveStart(tat, T0 + 1_000, POLICY).startMs).toBe(T0 + 8_000);
    // ...a minute later the burst is whole again: five at once, then the pace.
    const later = T0 + 60_000;
    const starts: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = reserveStart(tat, later, POLICY);
      starts.push(r.startMs - later);
      tat = r.tatMs;
    }
    expect(starts).toEqual([0, 0, 0, 0, 0, 2_000]);
  });

  it("never starts before it is asked", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 120_000 }), { minLength: 1, maxLength: 60 }), (offsets) => {
        const requests = offsets.sort((a, b) => a - b).map((o) => T0 + o);
        startsFor(requests).forEach((start, i) => expect(start).toBeGreaterThanOrEqual(requests[i]!));
      }),
    );
  });

  it("whatever a site asks for, it starts at most 2 x share attempts within any one deadline: the rest of the lane stays free", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 60_000 }), { minLength: 1, maxLength: 120 }), (share, offsets) => {
        const policy = { share, timeoutMs: 10_000 };
        const requests = offsets.sort((a, b) => a - b).map((o) => T0 + o);
        const starts = startsFor(requests, policy).sort((a, b) => a - b);
        // An attempt started at s holds its dispatch until s + timeout at the latest.
        for (const s of starts) {
          const overlapping = starts.filter((x) => x <= s && x > s - policy.timeoutMs).length;
          expect(overlapping).toBeLessThanOrEqual(2 * share);
        }
      }),
    );
  });
});
