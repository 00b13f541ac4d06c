import { connectionFailure } from "../../src/domain/detect-machine-events";
import { processEvent } from "../../src/domain/detect-process-events";
import {
  EMISSION_LIMITS,
  heldPageDue,
  HOUR_MS,
  joinOccurrence,
  limitsFor,
  occurrenceEventId,
  occurrenceId,
  occurrenceKeptMs,
  PAIRING_WINDOW_MS,
  firstRefusal,
  SITE_OFFLINE_KEY,
  windowOf,
  type LimitSpec,
  type OccurrenceState,
} from "../../src/domain/emission-policy";
import { holdSeconds, HOLD_LIMIT } from "../../src/domain/event-order";
import { inPlannedDowntime, isStale, PLANNED_DOWNTIME_GRACE_MS } from "../../src/domain/staleness";

const T = Date.parse("2026-03-22T10:00:00Z");
const crash = processEvent({ type: "process.crashed", machineId: "m1", processName: "TD", errorMessage: "PID 1" });

describe("occurrences", () => {
  const stored = (channels: OccurrenceState["channels"], over: Partial<OccurrenceState> = {}): OccurrenceState => ({
    eventId: "evt_1",
    firstAtMs: T,
    channels,
    reports: ["logs/a"],
    decision: "emitted",
    ...over,
  });

  it.each<[string, OccurrenceState | null, Parameters<typeof joinOccurrence>[1], string]>([
    ["nothing stored", null, { channel: "log", reportId: "logs/a", atMs: T }, "new"],
    ["the same log doc again (redelivered trigger)", stored({ log: true }), { channel: "log", reportId: "logs/a", atMs: T + 5000 }, "replay"],
    ["its alert, after the log", stored({ log: true }), { channel: "alert", reportId: null, atMs: T + 200 }, "pair"],
    ["its log, after the alert", stored({ alert: true }, { reports: [] }), { channel: "log", reportId: "logs/a", atMs: T + 200 }, "pair"],
    ["its alert, five hours late from the resend queue", stored({ log: true }), { channel: "alert", reportId: null, atMs: T + 5 * HOUR_MS }, "pair"],
    ["the alert sent again", stored({ log: true, alert: true }), { channel: "alert", reportId: null, atMs: T + 60_000 }, "resend"],
    ["another log doc with the same message (start failures repeat)", stored({ log: true }), { channel: "log", reportId: "logs/b", atMs: T + 60_000 }, "new"],
    ["the same content after the pairing window", stored({ log: true }), { channel: "alert", reportId: null, atMs: T + PAIRING_WINDOW_MS + 1 }, "new"],
  ])("%s: %s", (_name, state, report, expected) => {
    expect(joinOccurrence(state, report)).toBe(expected);
  });

  it("are named by what happened, not by who reported it", () => {
    const fromAlert = processEvent({ type: "process.crashed", machineId: "m1", processName: "TD", errorMessage: "PID 1" });
    expect(occurrenceId(fromAlert)).toBe(occurrenceId(crash));
    expect(occurrenceId({ ...crash, machineId: "m2" })).not.toBe(occurrenceId(crash));
    expect(occurrenceId({ ...crash, type: "process.start_failed" })).not.toBe(occurrenceId(crash));
    expect(occurrenceEventId("occ_1", "logs/a")).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(occurrenceEventId("occ_1", "logs/a")).toBe(occurrenceEventId("occ_1", "logs/a"));
    expect(occurrenceEventId("occ_1", "logs/b")).not.toBe(occurrenceEventId("occ_1", "logs/a"));
  });
});

describe("how long an occurrence is kept", () => {
  it("a report's, twice the pairing window; an outage's, 30 days: its machine.online may come days later", () => {
    expect(occurrenceKeptMs({ subject: "TouchDesigner" })).toBe(2 * PAIRING_WINDOW_MS);
    expect(occurrenceKeptMs({ subject: "connection" })).toBe(2 * PAIRING_WINDOW_MS);
    expect(occurrenceKeptMs({ subject: "presence" })).toBe(30 * 24 * HOUR_MS);
  });
});

describe("emission limits", () => {
  it("process events: 3 an hour per machine and process (as deployed), crashes and start failures together", () => {
    const [perProcess, perMachine, perSite] = limitsFor(crash);
    expect(perProcess).toEqual({ scope: "subject", key: "process|m1|TD", limit: 3, windowMs: HOUR_MS });
    expect(limitsFor({ ...crash, type: "process.start_failed" })[0]?.key).toBe(perProcess?.key);
    expect(perMachine).toMatchObject({ scope: "machine", limit: EMISSION_LIMITS.perMachine });
    expect(perSite).toMatchObject({ scope: "site", limit: EMISSION_LIMITS.perSite });
  });

  it("connection failures: 3 an hour per machine; machine.offline: 1 an hour, 100 a site (or its own bound); machine.online follows its offline", () => {
    const failure = connectionFailure({ machineId: "m1", errorCode: "E", errorMessage: "x" });
    expect(limitsFor(failure)[0]).toMatchObject({ key: "connection|m1", limit: 3 });
    const offline = { ...crash, type: "machine.offline" as const, subject: "presence" };
    expect(limitsFor(offline)).toEqual([
      { scope: "subject", key: "presence|m1", limit: 1, windowMs: HOUR_MS },
      { scope: "site", key: SITE_OFFLINE_KEY, limit: 100, windowMs: HOUR_MS },
    ]);
    expect(limitsFor(offline, { offlinePerHour: 20 })[1]).toMatchObject({ key: SITE_OFFLINE_KEY, limit: 20 });
    expect(limitsFor({ ...crash, type: "machine.online", subject: "presence" })).toEqual([]);
  });

  it("says which limit refused: a machine's own page, or the site's bound", async () => {
    const offline = { ...crash, type: "machine.offline" as const, subject: "presence" };
    const granting = (refuse: string | null) => (l: LimitSpec) => l.key !== refuse;
    expect(firstRefusal(limitsFor(offline), granting(null))).toBeNull();
    expect(firstRefusal(limitsFor(offline), granting("presence|m1"))).toMatchObject({ key: "presence|m1" });
    expect(firstRefusal(limitsFor(offline), granting(SITE_OFFLINE_KEY))).toMatchObject({ scope: "site", key: SITE_OFFLINE_KEY });
  });

  it("a held machine.offline comes due when its window turns", () => {
    expect(heldPageDue(new Date("2026-03-22T10:05:00Z")).toISOString()).toBe("2026-03-22T11:00:00.000Z");
    expect(heldPageDue(new Date("2026-03-22T10:59:59Z")).toISOString()).toBe("2026-03-22T11:00:00.000Z");
  });

  it("windows are fixed hours", () => {
    expect(windowOf(T, HOUR_MS)).toBe(windowOf(T + HOUR_MS - 1, HOUR_MS));
    expect(windowOf(T + HOUR_MS, HOUR_MS)).toBe(windowOf(T, HOUR_MS) + 1);
  });
});

describe("offline detection against the deployed agents' cadences", () => {
  const THRESHOLD = 210_000;
  const PASS_MS = 10_000; // 6 sweep passes a minute

  /** Beats every `cadence` s (one of them `late` s late), then silence; sweeps every 15 s. When is it first stale? */
  function firstMarked(cadenceS: number, opts: { lateS?: number; dieAfterBeats?: number } = {}): number | null {
    const beats: number[] = [];
    let t = T;
    for (let i = 0; i < (opts.dieAfterBeats ?? 40); i++) {
      t += cadenceS * 1000 + (i === 5 ? (opts.lateS ?? 0) * 1000 : 0);
      beats.push(t);
    }
    const end = t + (opts.dieAfterBeats ? 600_000 : 0);
    for (let now = T + 1000; now <= end; now += PASS_MS) {
      const last = [...beats].reverse().find((b) => b <= now) ?? T;
      if (isStale({ online: true, lastHeartbeatMs: last }, now, THRESHOLD)) return now - last;
    }
    return null;
  }

  it.each([5, 30, 120])("a %i s cadence with one beat 65 s late is never marked", (cadence) => {
    expect(firstMarked(cadence, { lateS: 65 })).toBeNull();
  });

  it("an idle agent's beat 185 s after the last is not marked", () => {
    expect(firstMarked(120, { lateS: 65 })).toBeNull();
  });

  it.each([5, 30, 120])("a dead machine with a %i s cadence is marked within 4 minutes of its last beat", (cadence) => {
    const after = firstMarked(cadence, { dieAfterBeats: 3 });
    expect(after).not.toBeNull();
    expect(after).toBeGreaterThan(THRESHOLD);
    expect(after).toBeLessThanOrEqual(THRESHOLD + PASS_MS);
    expect(after).toBeLessThan(240_000);
  });

  it("an announced reboot or shutdown holds the page while its instant is within 15 minutes", () => {
    const now = T;
    const at = (offsetMs: number) => Math.floor((now + offsetMs) / 1000);
    expect(inPlannedDowntime({ rebooting: true, rebootScheduledAt: at(30_000) }, now)).toBe(true);
    expect(inPlannedDowntime({ rebooting: true, rebootScheduledAt: at(-PLANNED_DOWNTIME_GRACE_MS + 1000) }, now)).toBe(true);
    expect(inPlannedDowntime({ rebooting: true, rebootScheduledAt: at(-PLANNED_DOWNTIME_GRACE_MS - 1000) }, now)).toBe(false);
    expect(inPlannedDowntime({ shuttingDown: true, shutdownScheduledAt: at(60_000) }, now)).toBe(true);
    expect(inPlannedDowntime({ rebooting: false, rebootScheduledAt: at(30_000) }, now)).toBe(false);
    expect(inPlannedDowntime({ rebooting: true, rebootScheduledAt: null }, now)).toBe(false);
    expect(inPlannedDowntime({ rebooting: "true", rebootScheduledAt: at(30_000) }, now)).toBe(false);
    expect(inPlannedDowntime({ rebooting: true, rebootScheduledAt: String(at(30_000)) }, now)).toBe(false);
    const silent = { online: true, lastHeartbeatMs: now - 240_000 };
    expect(isStale({ ...silent, rebooting: true, rebootScheduledAt: at(-200_000) }, now, 210_000)).toBe(false);
    expect(isStale(silent, now, 210_000)).toBe(true);
    expect(isStale({ ...silent, online: false }, now, 210_000)).toBe(false);
  });
});

describe("paired events keep their order per webhook", () => {
  const question = (delivery: { status: string; nextAttemptAtMs: number | null } | null, fannedOutTo: string[] | null = ["w1"]) => ({ fannedOutTo, delivery });

  it("sends the answer when its question went elsewhere, nowhere, or has settled", () => {
    expect(holdSeconds("w1", question(null, ["w2"]), 0, T)).toBeNull();
    expect(holdSeconds("w1", question(null, null), 0, T)).toBeNull();
    for (const status of ["succeeded", "failed", "skipped"]) expect(holdSeconds("w1", question({ status, nextAttemptAtMs: null }), 0, T)).toBeNull();
  });

  it("holds the answer while its question is unsent or retrying, until just after the question's next attempt", () => {
    expect(holdSeconds("w1", question(null), 0, T)).toBe(2);
    expect(holdSeconds("w1", question({ status: "pending", nextAttemptAtMs: T + 60_000 }), 0, T)).toBe(62);
    expect(holdSeconds("w1", question({ status: "pending", nextAttemptAtMs: T + 7_200_000 }), 3, T)).toBe(600);
  });

  it("gives up holding after HOLD_LIMIT holds", () => {
    expect(holdSeconds("w1", question(null), HOLD_LIMIT, T)).toBeNull();
  });
});
