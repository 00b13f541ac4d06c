import { defaultSinceMs, localInputValue, recoveryText, type RecoveryView } from "../../../console/src/recovery-text";
import { failingNotice } from "../../../console/src/model";

// The console's recover dialog and its progress line (console/src/recover.ts).

const NOW = Date.parse("2026-12-07T12:00:00Z");

describe("where a recovery starts by default", () => {
  it("at the first failure of the streak that switched the webhook off", () => {
    const first = NOW - 3 * 3_600_000;
    expect(defaultSinceMs([`${first}:dlv_a:1`, `${first + 60_000}:dlv_a:2`], NOW)).toBe(first);
    // Keys land in the order they were recorded, not always of their times: the earliest counts.
    expect(defaultSinceMs([`${first + 60_000}:dlv_b:1`, `${first}:dlv_a:1`, "garbage"], NOW)).toBe(first);
  });

  it("a day back without a streak, or with keys it cannot read; never before the history kept", () => {
    expect(defaultSinceMs([], NOW)).toBe(NOW - 86_400_000);
    expect(defaultSinceMs(undefined, NOW)).toBe(NOW - 86_400_000);
    expect(defaultSinceMs(["garbage"], NOW)).toBe(NOW - 86_400_000);
    expect(defaultSinceMs([`${NOW + 5000}:dlv_a:1`], NOW)).toBe(NOW - 86_400_000);
    expect(defaultSinceMs([`${NOW - 40 * 86_400_000}:dlv_a:1`], NOW)).toBe(NOW - 30 * 86_400_000 + 60_000);
  });

  it("a datetime-local value is the moment in the browser's zone, to the minute", () => {
    const ms = Date.parse("2026-12-07T08:30:45Z");
    expect(new Date(localInputValue(ms)).getTime()).toBe(Date.parse("2026-12-07T08:30:00Z"));
    expect(localInputValue(ms)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/);
  });
});

describe("what the console says of a recovery", () => {
  const base: RecoveryView = {
    id: "rcv_1",
    since: "",
    status: "running",
    reason: null,
    total: 4,
    sent: 1,
    alreadyDelivered: 0,
    answered: 0,
    rejected: 0,
    unavailable: 0,
    remaining: 3,
  };

  it("while running, when done, and when there was nothing to do", () => {
    expect(recoveryText(base)).toBe("Re-sending: 1 of 4…");
    expect(recoveryText({ ...base, status: "done", sent: 3, alreadyDelivered: 1, remaining: 0 })).toBe("Re-sent 3 of 4 (1 delivered meanwhile).");
    expect(recoveryText({ ...base, status: "done", sent: 2, unavailable: 2, remaining: 0 })).toBe("Re-sent 2 of 4 (2 expired or unavailable).");
    expect(recoveryText({ ...base, status: "done", sent: 2, answered: 1, rejected: 1, remaining: 0 })).toBe(
      "Re-sent 2 of 4 (1 offline already answered by online, 1 refused by the receiver).",
    );
    expect(recoveryText({ ...base, status: "done", total: 0, sent: 0, remaining: 0 })).toBe("Nothing to re-send: everything since then was delivered.");
  });

  it("why it stopped, and what to do", () => {
    expect(recoveryText({ ...base, status: "stopped", reason: "send_failed" })).toBe(
      "Stopped after 1 of 4: the receiver failed again. Fix it, then re-send from the same time: what was delivered is not sent again.",
    );
    expect(recoveryText({ ...base, status: "stopped", reason: "webhook_disabled" })).toBe("Stopped after 1 of 4: the webhook was switched off.");
  });
});

describe("the failing notice", () => {
  const w = { name: "Chat relay", enabled: true, failCount: 5, lastStatus: 503 as number | string | null };
  it("from the streak told to the site, while the webhook is on", () => {
    expect(failingNotice(w)).toBe("Chat relay is failing: 5 deliveries in a row failed (last: 503). It is switched off after 10; check its receiver.");
    expect(failingNotice({ ...w, failCount: 7, lastStatus: "unreachable" })).toContain("7 deliveries in a row failed (last: unreachable)");
  });
  it("not below the streak, nor for a webhook off (its own notice says that)", () => {
    expect(failingNotice({ ...w, failCount: 4 })).toBeNull();
    expect(failingNotice({ ...w, enabled: false, failCount: 10 })).toBeNull();
  });
});
