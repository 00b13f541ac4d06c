import { processEvent } from "../../src/domain/detect-process-events";
import type { DetectedEvent } from "../../src/domain/detected-event";
import { decideInLedger, FLAPPING_KEY, ledgerKey, type Ledger } from "../../src/domain/emission-ledger";
import { Timestamp } from "firebase-admin/firestore";
import { EMISSION_LIMITS, HOUR_MS, limitsFor, SITE_OFFLINE_KEY, suppressionKey, windowOf } from "../../src/domain/emission-policy";
import {
  FLAPPING,
  flapDocId,
  flapKindOf,
  flappingEventId,
  isFlapping,
  processGivenUp,
  stabilityStep,
  stableEventId,
  worthCounting,
  type DecisionTrace,
} from "../../src/domain/flapping";
import { EVENT_TYPES } from "../../src/domain/event-catalog";
import { isRenewedMark, markOf, offlineEvent } from "../../src/domain/presence";

// Flapping: past a threshold, a machine's outages or a process's crashes are held back, told
// once, and the end of it told once.

const T0 = Date.parse("2026-03-22T10:05:00Z");
const MIN = 60_000;
const crash = (name: string): DetectedEvent => processEvent({ type: "process.crashed", machineId: "m1", processName: name });
const offline = (atMs: number): DetectedEvent => offlineEvent({ staleSince: { toMillis: () => atMs }, lastHeartbeat: null, name: null } as never, "m1");

function decide(ledger: Ledger | null, e: DetectedEvent, atMs = T0) {
  return decideInLedger(ledger, {
    limits: limitsFor(e),
    window: windowOf(atMs, HOUR_MS),
    subjectKey: suppressionKey(e),
    siteKey: e.type === "machine.offline" ? SITE_OFFLINE_KEY : null,
    atMs,
    flaps: flapKindOf(e.type) !== null,
  });
}

const trace = (t: Partial<DecisionTrace>): DecisionTrace => ({ heldForFlapping: false, refused: false, ...t });

describe("flapping: which events count, and when a look is worth it", () => {
  it("counts a machine's outages and a process's crashes and failed starts, nothing else", () => {
    expect(EVENT_TYPES.filter((t) => flapKindOf(t) !== null)).toEqual(["process.crashed", "process.start_failed", "machine.offline"]);
    expect(flapKindOf("machine.offline")).toBe("machine");
    expect(flapKindOf("process.start_failed")).toBe("process");
  });

  it("counts only when a limit refused the occurrence, and never for a subject flapping already", () => {
    expect(worthCounting(trace({}))).toBe(false);
    expect(worthCounting(trace({ refused: true }))).toBe(true);
    expect(worthCounting(trace({ heldForFlapping: true, refused: true }))).toBe(false);
  });

  it("a machine flaps at its 3rd outage within 30 minutes, a process at its 5th crash within 15", () => {
    expect([2, 3].map((n) => isFlapping("machine", n))).toEqual([false, true]);
    expect([4, 5].map((n) => isFlapping("process", n))).toEqual([false, true]);
    expect(FLAPPING.machine.windowMs).toBe(30 * MIN);
    expect(FLAPPING.process.windowMs).toBe(15 * MIN);
  });

  it("an outage limit of 1 an hour refuses every later one, a crash limit of 3 the 4th: those are counted, and the threshold falls on one", () => {
    let ledger: Ledger | null = null;
    const first = decide(ledger, offline(T0));
    ledger = first.next;
    expect(worthCounting(traceOf(first))).toBe(false);
    const second = decide(ledger, offline(T0 + MIN), T0 + MIN);
    expect(second.decision).toBe("suppressed");
    expect(worthCounting(traceOf(second))).toBe(true);
    // Within the 30-minute window, an hour's 1 page leaves every later outage refused: the 3rd is counted.
    expect(FLAPPING.machine.flaps).toBeGreaterThan(EMISSION_LIMITS.perMachinePresence);
    ledger = null;
    const looks = Array.from({ length: 5 }, () => {
      const a = decide(ledger, crash("TD"));
      ledger = a.next;
      return [a.decision, worthCounting(traceOf(a))];
    });
    expect(looks).toEqual([
      ["emitted", false],
      ["emitted", false],
      ["emitted", false],
      ["suppressed", true],
      ["suppressed", true],
    ]);
    expect(FLAPPING.process.flaps).toBeGreaterThan(EMISSION_LIMITS.perProcess);
  });
});

describe("a held page marked again is the same outage", () => {
  const doc = (staleSinceMs: number | null, lastHeartbeatMs: number) => ({
    lastHeartbeat: Timestamp.fromMillis(lastHeartbeatMs),
    ...(staleSinceMs === null ? {} : { staleSince: Timestamp.fromMillis(staleSinceMs) }),
  });
  it("tells a renewed mark (same last heartbeat) from a new silence, and says so on its event", () => {
    const renewed = markOf(doc(T0 + HOUR_MS, T0 - 5 * MIN))!;
    expect(isRenewedMark(doc(T0, T0 - 5 * MIN), renewed)).toBe(true);
    expect(isRenewedMark(doc(T0, T0 - 9 * MIN), renewed)).toBe(false);
    expect(isRenewedMark(doc(null, T0 - 5 * MIN), renewed)).toBe(false);
    expect(isRenewedMark(null, renewed)).toBe(false);
    expect(offlineEvent(renewed, "m1", true).repeat).toBe(true);
    expect(offlineEvent(renewed, "m1").repeat).toBeUndefined();
  });
});

function traceOf(a: ReturnType<typeof decide>): DecisionTrace {
  return { heldForFlapping: a.refused?.key === FLAPPING_KEY, refused: a.refused !== null };
}

describe("the ledger holds a flapping subject's events back", () => {
  const flappingOn = (e: DetectedEvent): Ledger => ({
    window: windowOf(T0, HOUR_MS),
    counts: {},
    pending: {},
    overflow: 0,
    flapping: { [ledgerKey(suppressionKey(e)!)]: { sinceMs: T0, machine: ledgerKey("m1") } },
  });

  it("refuses its events, spending nothing and counting each under its subject, to be said by the stable event", () => {
    const ledger = flappingOn(crash("TD"));
    const a = decide(ledger, crash("TD"));
    expect(a).toMatchObject({ decision: "suppressed", refused: { key: FLAPPING_KEY }, heldUnder: ledgerKey(suppressionKey(crash("TD"))!) });
    expect(a.next.counts).toEqual({});
    expect(a.next.pending[ledgerKey(suppressionKey(crash("TD"))!)]?.n).toBe(1);
    expect(worthCounting(traceOf(a))).toBe(false);
  });

  it("leaves the machine's other subjects, and events that do not count toward flapping, alone", () => {
    const ledger = flappingOn(crash("TD"));
    expect(decide(ledger, crash("Resolume")).decision).toBe("emitted");
    const online = decideInLedger(ledger, { limits: [], window: windowOf(T0, HOUR_MS), subjectKey: suppressionKey(crash("TD")), siteKey: null, atMs: T0 });
    expect(online.decision).toBe("emitted");
  });

  it("lets a flag hold no longer than an episode can last (a backstop for a lost episode)", () => {
    const ledger = flappingOn(crash("TD"));
    expect(decide(ledger, crash("TD"), T0 + FLAPPING.maxEpisodeMs - 1).refused?.key).toBe(FLAPPING_KEY);
    expect(decide(ledger, crash("TD"), T0 + FLAPPING.maxEpisodeMs).decision).toBe("emitted");
  });

  it("keeps the flags when the hour turns", () => {
    const ledger = flappingOn(offline(T0));
    const later = decide(ledger, offline(T0 + 2 * HOUR_MS), T0 + 2 * HOUR_MS);
    expect(later.decision).toBe("suppressed");
    expect(later.next.flapping).toEqual(ledger.flapping);
  });
});

describe("the end of an episode", () => {
  const now = T0 + HOUR_MS;
  const quiet = FLAPPING.stableAfterMs;

  it("waits while the machine is down (or its process given up), noting the look", () => {
    expect(stabilityStep({ nowMs: now, recent: 0, down: true })).toEqual({ kind: "wait", checkAtMs: now + FLAPPING.recheckMs, unquietAtMs: now });
  });

  it("waits while outages or crashes keep coming, noting the look (a machine's return time is known by its looks)", () => {
    expect(stabilityStep({ nowMs: now, recent: 1 })).toEqual({ kind: "wait", checkAtMs: now + FLAPPING.recheckMs, unquietAtMs: now });
  });

  it("ends when every look for 30 minutes found it up and quiet", () => {
    expect(quiet).toBe(30 * MIN);
    const seen = now - 5 * MIN;
    expect(stabilityStep({ nowMs: now, recent: 0, lastUnquietMs: seen })).toEqual({ kind: "wait", checkAtMs: seen + quiet });
    expect(stabilityStep({ nowMs: now, recent: 0, lastUnquietMs: now - quiet })).toEqual({ kind: "stable" });
    expect(stabilityStep({ nowMs: now, recent: 0 })).toEqual({ kind: "stable" });
  });

  it("is at least as long as the longest window: an episode just ended leaves no flap to count toward the next", () => {
    expect(quiet).toBeGreaterThanOrEqual(Math.max(FLAPPING.machine.windowMs, FLAPPING.process.windowMs));
  });

  it("reads the agent giving up on a process from the machine doc's rebootPending naming it", () => {
    expect(processGivenUp({ active: true, processName: "TD", reason: "relaunch limit" }, "TD")).toBe(true);
    expect(processGivenUp({ active: false, processName: "TD" }, "TD")).toBe(false);
    expect(processGivenUp({ active: true, processName: "Other" }, "TD")).toBe(false);
    expect(processGivenUp(undefined, "TD")).toBe(false);
    expect(processGivenUp({ active: true, processName: "TD" }, null)).toBe(false);
  });

  it("names each episode and its two events apart, the same on every try", () => {
    const doc = flapDocId("process", "m1", "TD");
    expect(doc).toBe(flapDocId("process", "m1", "TD"));
    expect(new Set([doc, flapDocId("machine", "m1", "TD"), flapDocId("process", "m2", "TD"), flapDocId("process", "m1", "TE")]).size).toBe(4);
    const id = flappingEventId(doc, T0);
    expect(id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(flappingEventId(doc, T0 + 1)).not.toBe(id);
    expect(stableEventId(id)).not.toBe(id);
  });
});
