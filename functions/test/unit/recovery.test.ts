import {
  afterItem,
  isAbandoned,
  isRejection,
  needsResend,
  questionsOf,
  RECOVERY,
  recoveryPlan,
  recoveryWindow,
  statusOf,
  stepHasTime,
  waitBeforeNext,
  type RecoveryProgress,
} from "../../src/domain/recovery";
import { inputSchemas, parseInput } from "../../src/api/inputs";

// Recover since (issue 24, item 4): which window, which deliveries, in what order, at what pace,
// and how a recovery moves on or stops.

const NOW = Date.parse("2026-12-07T12:00:00Z");
const DAY = 86_400_000;

describe("recoveryWindow", () => {
  it("takes a past since within the history; until defaults to now and is never later", () => {
    expect(recoveryWindow({ since: new Date(NOW - DAY) }, NOW)).toEqual({ sinceMs: NOW - DAY, untilMs: NOW });
    expect(recoveryWindow({ since: new Date(NOW - DAY), until: new Date(NOW - 1000) }, NOW)).toEqual({ sinceMs: NOW - DAY, untilMs: NOW - 1000 });
    expect(recoveryWindow({ since: new Date(NOW - DAY), until: new Date(NOW + DAY) }, NOW)).toEqual({ sinceMs: NOW - DAY, untilMs: NOW });
  });

  it("refuses a since in the future or older than the history, and an until not after since, naming each field", () => {
    expect(recoveryWindow({ since: new Date(NOW + 1) }, NOW)).toEqual({ problems: [{ path: "since", reason: "must be in the past" }] });
    expect(recoveryWindow({ since: new Date(NOW - 31 * DAY) }, NOW)).toEqual({
      problems: [{ path: "since", reason: "must be within the last 30 days (the delivery history kept)" }],
    });
    expect(recoveryWindow({ since: new Date(NOW - DAY), until: new Date(NOW - DAY) }, NOW)).toEqual({
      problems: [{ path: "until", reason: "must be later than since" }],
    });
    expect(recoveryWindow({ since: new Date(NOW - 40 * DAY), until: new Date(NOW - 41 * DAY) }, NOW)).toMatchObject({
      problems: [{ path: "since" }, { path: "until" }],
    });
  });

  it("the API takes RFC 3339 times with an offset only, and names the bad field", () => {
    const schemas = inputSchemas({ allowLocalHttp: false });
    const ok = parseInput(schemas.recover, { siteId: "s", webhookId: "w", since: "2026-12-07T08:00:00+01:00" });
    expect(ok.since.toISOString()).toBe("2026-12-07T07:00:00.000Z");
    for (const since of ["2026-12-07", "yesterday", "2026-12-07T08:00:00", 1_765_000_000_000, null]) {
      expect(() => parseInput(schemas.recover, { siteId: "s", webhookId: "w", since })).toThrow(
        expect.objectContaining({ code: "invalid_argument", details: [expect.objectContaining({ path: "since" })] }),
      );
    }
    expect(() => parseInput(schemas.recover, { siteId: "s", webhookId: "w" })).toThrow(
      expect.objectContaining({ details: [expect.objectContaining({ path: "since" })] }),
    );
    expect(() => parseInput(schemas.recover, { siteId: "s", webhookId: "w", since: "2026-12-07T08:00:00Z", limit: 3 })).toThrow(
      expect.objectContaining({ code: "invalid_argument" }),
    );
  });
});

describe("what recover re-sends", () => {
  it("an event never sent (missed while off), a failed delivery, one skipped while off; nothing delivered, pending or skipped for good", () => {
    expect(needsResend(null)).toBe(true);
    expect(needsResend({ status: "failed" })).toBe(true);
    expect(needsResend({ status: "skipped", skippedReason: "webhook_disabled" })).toBe(true);
    expect(needsResend({ status: "skipped", skippedReason: "webhook_paused" })).toBe(true);
    expect(needsResend({ status: "skipped", skippedReason: "webhook_deleted" })).toBe(false);
    expect(needsResend({ status: "skipped", skippedReason: "event_missing" })).toBe(false);
    expect(needsResend({ status: "succeeded" })).toBe(false);
    expect(needsResend({ status: "pending" })).toBe(false);
  });

  it("plans each event once, oldest first, ties by id: every plan of a window is the same", () => {
    const plan = recoveryPlan([
      { eventId: "evt_c", type: "process.crashed", occurredAtMs: 300, delivery: { status: "failed" } },
      { eventId: "evt_a", type: "process.crashed", occurredAtMs: 100, delivery: null },
      { eventId: "evt_ok", type: "process.crashed", occurredAtMs: 50, delivery: { status: "succeeded" } },
      { eventId: "evt_b2", type: "process.crashed", occurredAtMs: 200, delivery: { status: "skipped", skippedReason: "webhook_disabled" } },
      { eventId: "evt_b1", type: "process.crashed", occurredAtMs: 200, delivery: null },
      { eventId: "evt_c", type: "process.crashed", occurredAtMs: 300, delivery: { status: "failed" } },
    ]);
    expect(plan).toEqual(["evt_a", "evt_b1", "evt_b2", "evt_c"]);
  });
});

describe("a recovery's progress", () => {
  const start: RecoveryProgress = { cursor: 0, total: 5, sent: 0, alreadyDelivered: 0, answered: 0, rejected: 0, unavailable: 0 };

  it("moves past what was sent, delivered meanwhile, answered already, refused by the receiver or unavailable, and is done at the end", () => {
    let p = afterItem(start, "sent").progress;
    p = afterItem(p, "already_delivered").progress;
    p = afterItem(p, "answered").progress;
    p = afterItem(p, "rejected").progress;
    p = afterItem(p, "unavailable").progress;
    expect(p).toEqual({ cursor: 5, total: 5, sent: 1, alreadyDelivered: 1, answered: 1, rejected: 1, unavailable: 1 });
    expect(statusOf(p, null)).toBe("done");
    expect(statusOf({ ...p, cursor: 2 }, null)).toBe("running");
  });

  it("a receiver's refusal of one event is a 4xx about it; one refusing every request, asking again later, or gone is not", () => {
    for (const s of [400, 405, 413, 415, 422]) expect(isRejection(s)).toBe(true);
    for (const s of [null, 200, 401, 403, 404, 408, 409, 410, 425, 429, 500, 503]) expect(isRejection(s)).toBe(false);
  });

  it("a question (machine.offline) in the plan is checked against its answer; nothing else is", () => {
    const candidates = [
      { eventId: "evt_q", type: "machine.offline", occurredAtMs: 1, delivery: null },
      { eventId: "evt_c", type: "process.crashed", occurredAtMs: 2, delivery: null },
      { eventId: "evt_done", type: "machine.offline", occurredAtMs: 3, delivery: { status: "succeeded" as const } },
    ];
    expect(questionsOf(candidates, recoveryPlan(candidates))).toEqual(["evt_q"]);
  });

  it("a step takes another item only while one more re-send fits its budget", () => {
    expect(stepHasTime(0, 0, 10_000)).toBe(true);
    expect(stepHasTime(0, RECOVERY.stepBudgetMs - 25_000, 10_000)).toBe(true);
    expect(stepHasTime(0, RECOVERY.stepBudgetMs - 24_999, 10_000)).toBe(false);
    expect(stepHasTime(0, 0, 60_000)).toBe(true);
  });

  it("stops at a failed send, a webhook switched off or deleted, without moving past it", () => {
    for (const outcome of ["send_failed", "webhook_disabled", "webhook_deleted"] as const) {
      const after = afterItem({ ...start, cursor: 1, sent: 1 }, outcome);
      expect(after).toEqual({ progress: { ...start, cursor: 1, sent: 1 }, stop: outcome });
      expect(statusOf(after.progress, after.stop)).toBe("stopped");
    }
  });

  it("keeps its pace: no two re-sends start closer than 1 / perSecond", () => {
    expect(waitBeforeNext(null, 1_000)).toBe(0);
    expect(waitBeforeNext(1_000, 1_050)).toBe(1000 / RECOVERY.perSecond - 50);
    expect(waitBeforeNext(1_000, 5_000)).toBe(0);
    expect(waitBeforeNext(1_000, 1_000, 1)).toBe(1000);
  });

  it("a running recovery that has not moved for 10 minutes is abandoned; one that moved is not", () => {
    expect(isAbandoned(NOW - RECOVERY.abandonedAfterMs - 1, NOW)).toBe(true);
    expect(isAbandoned(NOW - 60_000, NOW)).toBe(false);
  });
});
