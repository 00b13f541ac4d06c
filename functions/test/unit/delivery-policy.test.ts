import { checkDestinationUrl } from "../../src/domain/destination-url";
import { DEFAULT_RETRY_SCHEDULE_SECONDS, MAX_RETRY_AFTER_SECONDS, nextAttemptDelay, parseRetryAfter, parseRetrySchedule } from "../../src/domain/retry-policy";
import fc from "fast-check";
import { cutByFastLane, isSlow, laneDeadlineMs } from "../../src/domain/delivery-lanes";
import {
  AUTO_DISABLE_AFTER,
  failureKey,
  failureKeyTime,
  healthAfterAttempt,
  healthWriteFor,
  streakAfterSuccess,
  streakDecision,
  type WebhookHealth,
} from "../../src/domain/webhook-health";

const NOW = Date.parse("2026-03-22T10:30:00Z");
const healthy: WebhookHealth = { enabled: true, failCount: 0, lastStatus: 200 };

describe("healthWriteFor: what an outcome writes on the webhook doc, blind", () => {
  it("counts a failure with its key and status", () => {
    expect(healthWriteFor(healthy, { ok: false, lastStatus: 500 }, "k1", new Date(NOW))).toEqual({
      kind: "fail",
      key: "k1",
      lastStatus: 500,
      at: new Date(NOW),
      gone: false,
    });
    expect(healthWriteFor(healthy, { ok: false, gone: true, lastStatus: 410 }, "k1", new Date(NOW))).toMatchObject({ kind: "fail", gone: true });
  });

  it("resets after failures or on a new status, and writes nothing for a success that changes nothing", () => {
    expect(healthWriteFor({ ...healthy, failCount: 7, lastStatus: 503 }, { ok: true, lastStatus: 200 }, "k", new Date(NOW))).toEqual({
      kind: "reset",
      lastStatus: 200,
      at: new Date(NOW),
    });
    expect(healthWriteFor({ ...healthy, lastStatus: 204 }, { ok: true, lastStatus: 200 }, "k", new Date(NOW))?.kind).toBe("reset");
    expect(healthWriteFor(healthy, { ok: true, lastStatus: 200 }, "k", new Date(NOW))).toBeNull();
    expect(healthWriteFor({ ...healthy, enabled: false, failCount: 3 }, { ok: true, lastStatus: 200 }, "k", new Date(NOW))).toBeNull();
  });

  it("costs nothing on the webhook doc for 1,000 successes in a row, at any rate", () => {
    let state: WebhookHealth = { enabled: true, failCount: 3, lastStatus: 503 };
    let writes = 0;
    for (let i = 0; i < 1000; i++) {
      const w = healthWriteFor(state, { ok: true, lastStatus: 200 }, "k", new Date(NOW + i * 3_600_000));
      if (w?.kind === "reset") {
        writes++;
        state = { ...state, failCount: 0, lastStatus: w.lastStatus };
      }
    }
    expect(writes).toBe(1); // the reset at the first success
  });
});

describe("streakDecision: the rank of a failure in the streak, read back after its append", () => {
  const streak = (n: number) => Array.from({ length: n }, (_, i) => failureKey(NOW + i, `dlv_${i}`, 1));
  const on = { enabled: true, disabledReason: null };

  it(`counts the first ${AUTO_DISABLE_AFTER - 1}, disables at ${AUTO_DISABLE_AFTER}, not before`, () => {
    const keys = streak(12);
    expect(streakDecision({ ...on, failStreak: keys.slice(0, 9) }, keys[8] as string)).toBe("counted");
    expect(streakDecision({ ...on, failStreak: keys.slice(0, 10) }, keys[9] as string)).toBe("disable");
    // The one at the limit died before acting: the next one does it.
    expect(streakDecision({ ...on, failStreak: keys.slice(0, 11) }, keys[10] as string)).toBe("disable");
  });

  it("takes back outcomes that arrive after the webhook was switched off, keeps the limit's ten", () => {
    const keys = streak(12);
    const off = { enabled: false, disabledReason: "auto", failStreak: keys };
    expect(streakDecision(off, keys[9] as string)).toBe("counted");
    expect(streakDecision(off, keys[10] as string)).toBe("uncount");
    expect(streakDecision({ ...off, disabledReason: "paused" }, keys[2] as string)).toBe("uncount");
    expect(streakDecision({ ...off, disabledReason: "gone" }, keys[0] as string)).toBe("uncount");
  });

  it("does nothing for a failure the streak no longer holds (a success or re-enable reset it)", () => {
    expect(streakDecision({ ...on, failStreak: [] }, "k")).toBe("gone");
  });

  it("any interleaving of 100 concurrent failures disables once and keeps exactly the limit", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 99 }), { minLength: 100, maxLength: 100 }), (order) => {
        // Appends land in some order; each failure then reads the doc back at some later moment.
        const keys = Array.from({ length: 100 }, (_, i) => failureKey(NOW, `dlv_${i}`, 1));
        const doc = { enabled: true, disabledReason: null as string | null, failStreak: [] as string[], failCount: 0 };
        const appended = [...new Set(order.map((i) => keys[i] as string))].concat(keys).filter((k, i, a) => a.indexOf(k) === i);
        const pending: string[] = [];
        let disables = 0;
        const settle = (key: string) => {
          const d = streakDecision(doc, key);
          if (d === "disable" && doc.enabled) {
            disables++;
            doc.enabled = false;
            doc.disabledReason = "auto";
            doc.failStreak = doc.failStreak.slice(0, AUTO_DISABLE_AFTER);
            doc.failCount = AUTO_DISABLE_AFTER;
          } else if (d === "uncount") {
            doc.failStreak = doc.failStreak.filter((k) => k !== key);
            doc.failCount--;
          }
        };
        for (const [i, key] of appended.entries()) {
          doc.failStreak = [...doc.failStreak, key];
          doc.failCount++;
          pending.push(key);
          // Read-backs lag the appends by a varying amount.
          while (pending.length > (order[i] ?? 0) % 7) settle(pending.shift() as string);
        }
        while (pending.length) settle(pending.shift() as string);
        expect(disables).toBe(1);
        expect(doc.failCount).toBe(AUTO_DISABLE_AFTER);
        expect(doc.failStreak).toHaveLength(AUTO_DISABLE_AFTER);
      }),
      { numRuns: 200 },
    );
  });

  it("at the limit, drops the failures that came before a success that did not reset the doc", () => {
    const keys = [failureKey(NOW, "a", 1), failureKey(NOW + 10, "b", 1), failureKey(NOW + 30, "c", 1)];
    expect(streakAfterSuccess(keys, NOW + 20)).toEqual([keys[2]]);
    expect(streakAfterSuccess(keys, null)).toEqual(keys);
    expect(failureKeyTime(keys[1] as string)).toBe(NOW + 10);
  });
});

describe("delivery lanes", () => {
  const config = { deliveryTimeoutMs: 10_000, fastLaneDeadlineMs: 2_000 };
  it("cuts a fast-lane request at the fast lane's deadline, a slow-lane one at the full timeout", () => {
    expect(laneDeadlineMs("fast", config)).toBe(2_000);
    expect(laneDeadlineMs("slow", config)).toBe(10_000);
    expect(laneDeadlineMs("fast", { ...config, fastLaneDeadlineMs: 20_000 })).toBe(10_000);
  });
  it("moves only fast-lane timeouts, and only when the fast deadline is the shorter", () => {
    expect(cutByFastLane("fast", "timeout", config)).toBe(true);
    expect(cutByFastLane("slow", "timeout", config)).toBe(false);
    expect(cutByFastLane("fast", "connection_refused", config)).toBe(false);
    expect(cutByFastLane("fast", "timeout", { ...config, fastLaneDeadlineMs: 10_000 })).toBe(false);
  });
  it("knows a webhook marked slow until its mark expires", () => {
    expect(isSlow(NOW + 1, NOW)).toBe(true);
    expect(isSlow(NOW, NOW)).toBe(false);
    expect(isSlow(null, NOW)).toBe(false);
  });
});

describe("healthAfterAttempt (outcomes parked by an earlier version)", () => {
  it("counts, disables at the limit or on 410, resets on success, leaves a disabled webhook alone", () => {
    expect(healthAfterAttempt({ ...healthy, failCount: 9 }, { ok: false, lastStatus: 500 }, NOW)).toMatchObject({
      failCount: 10,
      enabled: false,
      disabledReason: "auto",
    });
    expect(healthAfterAttempt({ ...healthy, failCount: 8 }, { ok: false, lastStatus: 500 }, NOW)).not.toHaveProperty("enabled");
    expect(healthAfterAttempt(healthy, { ok: false, gone: true, lastStatus: 410 }, NOW)).toMatchObject({ enabled: false, disabledReason: "gone" });
    expect(healthAfterAttempt({ ...healthy, failCount: 4 }, { ok: true, lastStatus: 200 }, NOW)).toMatchObject({ failCount: 0 });
    expect(healthAfterAttempt({ ...healthy, enabled: false, failCount: 10 }, { ok: false, lastStatus: 500 }, NOW)).toBeNull();
  });
});

describe("retry schedule", () => {
  it("runs attempts at 0, 1 min, 5 min, 30 min and 2 h by default", () => {
    const noJitter = { random: () => 0.5 };
    const delays = [1, 2, 3, 4, 5].map((attempt) => nextAttemptDelay(DEFAULT_RETRY_SCHEDULE_SECONDS, attempt, noJitter));
    expect(delays).toEqual([60, 300, 1800, 7200, null]);
  });

  it("adds at most 10% jitter either way", () => {
    expect(nextAttemptDelay(DEFAULT_RETRY_SCHEDULE_SECONDS, 1, { random: () => 0 })).toBe(54);
    expect(nextAttemptDelay(DEFAULT_RETRY_SCHEDULE_SECONDS, 1, { random: () => 0.999999 })).toBe(66);
    expect(nextAttemptDelay(DEFAULT_RETRY_SCHEDULE_SECONDS, 4, { random: () => 0 })).toBe(6480);
    for (let i = 0; i < 200; i++) {
      const d = nextAttemptDelay(DEFAULT_RETRY_SCHEDULE_SECONDS, 2) as number;
      expect(d).toBeGreaterThanOrEqual(270);
      expect(d).toBeLessThanOrEqual(330);
    }
  });

  it("honours Retry-After when it asks for later, up to an hour", () => {
    const mid = { random: () => 0.5 };
    expect(nextAttemptDelay(DEFAULT_RETRY_SCHEDULE_SECONDS, 1, { ...mid, retryAfterSeconds: 120 })).toBe(120);
    expect(nextAttemptDelay(DEFAULT_RETRY_SCHEDULE_SECONDS, 1, { ...mid, retryAfterSeconds: 5 })).toBe(60);
    expect(nextAttemptDelay(DEFAULT_RETRY_SCHEDULE_SECONDS, 1, { ...mid, retryAfterSeconds: 86_400 })).toBe(MAX_RETRY_AFTER_SECONDS);
    expect(nextAttemptDelay(DEFAULT_RETRY_SCHEDULE_SECONDS, 5, { ...mid, retryAfterSeconds: 10 })).toBeNull();
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("120", NOW)).toBe(120);
    expect(parseRetryAfter(new Date(NOW + 90_500).toUTCString(), NOW)).toBe(90);
    expect(parseRetryAfter(new Date(NOW - 10_000).toUTCString(), NOW)).toBe(0);
    expect(parseRetryAfter("soon", NOW)).toBeNull();
    expect(parseRetryAfter(undefined, NOW)).toBeNull();
  });

  it("parses a configured schedule and refuses a bad one", () => {
    expect(parseRetrySchedule("0, 5,10")).toEqual([0, 5, 10]);
    for (const bad of ["", "0,,5", "a,1", "-1", "1.5", "0,9999999999"]) {
      expect(() => parseRetrySchedule(bad)).toThrow(/retry schedule/);
    }
  });
});

describe("checkDestinationUrl", () => {
  it.each([
    ["https://hooks.example.com/owlette", true, true],
    ["https://hooks.example.com/owlette", false, true],
    ["http://hooks.example.com/owlette", true, false],
    ["http://127.0.0.1:8080/hook", true, true],
    ["http://localhost:8080/hook", true, true],
    ["http://[::1]:8080/hook", true, true],
    ["http://127.0.0.1:8080/hook", false, false],
    ["https://user:pass@hooks.example.com/", false, false],
    ["ftp://hooks.example.com/", true, false],
    ["not a url", true, false],
    ["javascript:alert(1)", true, false],
  ])("%s (local http allowed: %s) -> %s", (url, allowLocalHttp, ok) => {
    expect(checkDestinationUrl(url, { allowLocalHttp }).ok).toBe(ok);
  });
});
