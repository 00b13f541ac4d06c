import { checkDestinationUrl } from "../../src/domain/destination-url";
import {
  DEFAULT_RETRY_SCHEDULE_SECONDS,
  MAX_RETRY_AFTER_SECONDS,
  nextAttemptDelay,
  parseRetryAfter,
  parseRetrySchedule,
} from "../../src/domain/retry-policy";
import { AUTO_DISABLE_AFTER, healthAfterAttempt, LAST_DELIVERY_REFRESH_MS, type WebhookHealth } from "../../src/domain/webhook-health";

const NOW = Date.parse("2026-03-22T10:30:00Z");
const healthy: WebhookHealth = { enabled: true, failCount: 0, lastStatus: 200, lastDeliveryAtMs: NOW - 1000 };

describe("healthAfterAttempt", () => {
  it("counts a failure and records its status", () => {
    expect(healthAfterAttempt(healthy, { ok: false, lastStatus: 500 }, NOW)).toEqual({
      failCount: 1,
      lastStatus: 500,
      lastDeliveryAt: new Date(NOW),
    });
    expect(healthAfterAttempt({ ...healthy, failCount: 3 }, { ok: false, lastStatus: "timeout" }, NOW)).toMatchObject({
      failCount: 4,
      lastStatus: "timeout",
    });
  });

  it(`disables at ${AUTO_DISABLE_AFTER} consecutive failures, not before`, () => {
    const at9 = healthAfterAttempt({ ...healthy, failCount: 8 }, { ok: false, lastStatus: 500 }, NOW);
    expect(at9).not.toHaveProperty("enabled");
    expect(healthAfterAttempt({ ...healthy, failCount: 9 }, { ok: false, lastStatus: 500 }, NOW)).toEqual({
      failCount: 10,
      lastStatus: 500,
      lastDeliveryAt: new Date(NOW),
      enabled: false,
      disabledReason: "auto",
    });
  });

  it("resets the count on a 2xx", () => {
    expect(healthAfterAttempt({ ...healthy, failCount: 7, lastStatus: 503 }, { ok: true, lastStatus: 200 }, NOW)).toEqual({
      failCount: 0,
      lastStatus: 200,
      lastDeliveryAt: new Date(NOW),
    });
  });

  it("leaves the webhook doc alone for a success that changes nothing", () => {
    expect(healthAfterAttempt(healthy, { ok: true, lastStatus: 200 }, NOW)).toBeNull();
    const due = { ...healthy, lastDeliveryAtMs: NOW - LAST_DELIVERY_REFRESH_MS };
    expect(healthAfterAttempt(due, { ok: true, lastStatus: 200 }, NOW)).not.toBeNull();
    expect(healthAfterAttempt({ ...healthy, lastStatus: 204 }, { ok: true, lastStatus: 200 }, NOW)).not.toBeNull();
    expect(healthAfterAttempt({ ...healthy, lastDeliveryAtMs: null }, { ok: true, lastStatus: 200 }, NOW)).not.toBeNull();
  });

  it("disables at once on 410 Gone", () => {
    expect(healthAfterAttempt(healthy, { ok: false, gone: true, lastStatus: 410 }, NOW)).toEqual({
      failCount: 1,
      lastStatus: 410,
      lastDeliveryAt: new Date(NOW),
      enabled: false,
      disabledReason: "gone",
    });
  });

  it("costs the webhook doc a handful of writes for 1,000 successful deliveries", () => {
    // One delivery every 100 ms for 100 s, starting from a failing webhook.
    let state: WebhookHealth = { enabled: true, failCount: 3, lastStatus: 503, lastDeliveryAtMs: NOW - 5_000 };
    let writes = 0;
    for (let i = 0; i < 1000; i++) {
      const at = NOW + i * 100;
      const update = healthAfterAttempt(state, { ok: true, lastStatus: 200 }, at);
      if (update) {
        writes++;
        state = { ...state, failCount: update.failCount, lastStatus: update.lastStatus, lastDeliveryAtMs: at };
      }
    }
    expect(writes).toBe(2); // the reset at the first success, one refresh of lastDeliveryAt a minute later
  });

  it("does not count attempts against a webhook that is already disabled", () => {
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
