import { FieldValue } from "firebase-admin/firestore";
import { admissionFields, readLedger, refusalFields, refusalUpdate } from "../../src/data/ledger-doc";
import { connectionFailure } from "../../src/domain/detect-machine-events";
import { processEvent } from "../../src/domain/detect-process-events";
import type { DetectedEvent } from "../../src/domain/detected-event";
import {
  decideInLedger,
  emptyLedger,
  LEDGER_FULL_KEY,
  ledgerKey,
  MAX_LEDGER_KEYS,
  MAX_PENDING_KEYS,
  PENDING_KEPT_MS,
  type Ledger,
  type LedgerAnswer,
} from "../../src/domain/emission-ledger";
import { EMISSION_LIMITS, HOUR_MS, limitsFor, SITE_OFFLINE_KEY, suppressionKey, windowOf, type SiteLimits } from "../../src/domain/emission-policy";
import { offlineEvent } from "../../src/domain/presence";

const T0 = Date.parse("2026-03-22T10:05:00Z");

const crash = (machineId: string, processName: string): DetectedEvent => processEvent({ type: "process.crashed", machineId, processName });
const offline = (machineId: string): DetectedEvent => offlineEvent({ staleSince: { toMillis: () => T0 }, lastHeartbeat: null, name: null } as never, machineId);

/** A site deciding events one after another, as the store does: each answer's ledger is the next one's. */
function site(limits: SiteLimits = {}) {
  let ledger: Ledger | null = null;
  return {
    decide(e: DetectedEvent, atMs = T0): LedgerAnswer {
      const answer = decideInLedger(ledger, {
        limits: limitsFor(e, limits),
        window: windowOf(atMs, HOUR_MS),
        subjectKey: suppressionKey(e),
        siteKey: e.type === "machine.offline" ? SITE_OFFLINE_KEY : null,
        atMs,
      });
      ledger = answer.next;
      return answer;
    },
    get ledger() {
      return ledger as Ledger;
    },
  };
}

describe("the emission ledger: every limit of a site in one doc", () => {
  it("3 crashes of a process an hour; the rest held back and said by the next one out, in the next window", () => {
    const s = site();
    const decisions = Array.from({ length: 5 }, () => s.decide(crash("m1", "TouchDesigner")).decision);
    expect(decisions).toEqual(["emitted", "emitted", "emitted", "suppressed", "suppressed"]);
    // Another process of the machine is not held back by this one.
    expect(s.decide(crash("m1", "Resolume")).decision).toBe("emitted");
    const next = s.decide(crash("m1", "TouchDesigner"), T0 + HOUR_MS);
    expect(next).toMatchObject({ decision: "emitted", suppressedBefore: 2 });
    // Said once.
    expect(s.decide(crash("m1", "TouchDesigner"), T0 + HOUR_MS).suppressedBefore).toBe(0);
  });

  it("20 events of a machine an hour, all processes together; a refused event spends nothing", () => {
    const s = site();
    const out = Array.from({ length: 25 }, (_, i) => s.decide(crash("m1", `p${i}`)));
    expect(out.filter((a) => a.decision === "emitted")).toHaveLength(EMISSION_LIMITS.perMachine);
    expect(out[20]?.refused?.key).toBe("machine|m1");
    // The refused processes took no slot of their own: the ledger grew only with what went out.
    expect(Object.keys(s.ledger.counts)).not.toContain(ledgerKey("process|m1|p24"));
    expect(s.ledger.pending[ledgerKey("process|m1|p24")]?.n).toBe(1);
  });

  it("a site's budget leaves each other machine its reserved event", () => {
    const s = site({ eventsPerHour: 40 });
    // Two machines at their own limit spend the site's budget (20 each; the first of each from its reserve).
    for (const m of ["m1", "m2", "m3"]) for (let i = 0; i < 20; i++) s.decide(crash(m, `p${i}`));
    const late = s.decide(crash("m4", "p0"));
    expect(late.decision).toBe("emitted");
    expect(s.decide(crash("m4", "p1"))).toMatchObject({ decision: "suppressed", refused: { key: "site" } });
  });

  it("machine.offline: one page a machine an hour; over the site's bound counted and said by the site's next page", () => {
    const s = site({ offlinePerHour: 2 });
    expect(s.decide(offline("m1")).decision).toBe("emitted");
    expect(s.decide(offline("m1"))).toMatchObject({ decision: "suppressed", refused: { key: "presence|m1" } });
    expect(s.decide(offline("m2")).decision).toBe("emitted");
    expect(s.decide(offline("m3"))).toMatchObject({ decision: "counted", refused: { key: SITE_OFFLINE_KEY } });
    expect(s.decide(offline("m4")).decision).toBe("counted");
    expect(s.decide(offline("m5"), T0 + HOUR_MS)).toMatchObject({ decision: "emitted", siteSuppressed: 2 });
  });

  it("connection failures: 3 a machine an hour", () => {
    const s = site();
    const failure = connectionFailure({ machineId: "m1", errorCode: 7, errorMessage: "refused" });
    expect(Array.from({ length: 4 }, () => s.decide(failure).decision)).toEqual(["emitted", "emitted", "emitted", "suppressed"]);
  });

  it("a new window drops the old counts and keeps held-back counts for 30 days", () => {
    const s = site();
    for (let i = 0; i < 4; i++) s.decide(crash("m1", "A"));
    s.decide(crash("m2", "B"), T0 + HOUR_MS);
    expect(s.ledger.window).toBe(windowOf(T0, HOUR_MS) + 1);
    expect(Object.keys(s.ledger.counts)).not.toContain(ledgerKey("process|m1|A"));
    expect(s.ledger.pending[ledgerKey("process|m1|A")]?.n).toBe(1);
    s.decide(crash("m2", "B"), T0 + PENDING_KEPT_MS + HOUR_MS);
    expect(s.ledger.pending[ledgerKey("process|m1|A")]).toBeUndefined();
  });

  it("a late decision counts in the ledger's current window", () => {
    const s = site();
    s.decide(crash("m1", "A"), T0 + HOUR_MS);
    const late = decideInLedger(s.ledger, {
      limits: limitsFor(crash("m1", "A")),
      window: windowOf(T0, HOUR_MS),
      subjectKey: "process|m1|A",
      siteKey: null,
      atMs: T0 + HOUR_MS,
    });
    expect(late.next.window).toBe(windowOf(T0, HOUR_MS) + 1);
    expect(late.next.counts[ledgerKey("process|m1|A")]).toBe(2);
  });

  it("bounded: a full ledger holds an event back; distinct held-back subjects past their bound go to overflow", () => {
    const full: Ledger = { ...emptyLedger(windowOf(T0, HOUR_MS)), counts: Object.fromEntries(Array.from({ length: MAX_LEDGER_KEYS }, (_, i) => [`k${i}`, 1])) };
    const q = { limits: limitsFor(crash("m1", "A")), window: full.window, subjectKey: "process|m1|A", siteKey: null, atMs: T0 };
    expect(decideInLedger(full, q)).toMatchObject({ decision: "suppressed", refused: { key: LEDGER_FULL_KEY } });
    const crowded: Ledger = {
      ...emptyLedger(full.window),
      counts: { [ledgerKey("machine|m1")]: EMISSION_LIMITS.perMachine },
      pending: Object.fromEntries(Array.from({ length: MAX_PENDING_KEYS }, (_, i) => [`k${i}`, { n: 1, atMs: T0 }])),
    };
    const answer = decideInLedger(crowded, q);
    expect(answer.decision).toBe("suppressed");
    expect(answer.next.overflow).toBe(1);
    expect(Object.keys(answer.next.pending)).toHaveLength(MAX_PENDING_KEYS);
  });

  it("an event without limits (machine.online) leaves the ledger as it was", () => {
    const answer = decideInLedger(null, { limits: [], window: 1, subjectKey: null, siteKey: null, atMs: T0 });
    expect(answer).toMatchObject({ decision: "emitted", refused: null, suppressedBefore: 0, siteSuppressed: 0 });
  });
});

describe("the ledger doc", () => {
  it("reads what decisions wrote; anything unreadable reads as nothing rather than failing the decision", () => {
    const s = site();
    s.decide(crash("m1", "A"));
    const fields = admissionFields(null, s.ledger);
    expect(readLedger({ ...fields, held: {} })).toEqual(s.ledger);
    expect(readLedger(undefined)).toBeNull();
    expect(readLedger({ held: { a: { n: 1, atMs: 5 } } })).toEqual({ window: -1, counts: {}, pending: { a: { n: 1, atMs: 5 } }, overflow: 0, flapping: {} });
    expect(
      readLedger({
        window: 3,
        counts: "{not json",
        held: { a: { n: "1" }, b: { n: 2, atMs: 5 } },
        overflow: "7",
        flapping: { f: { sinceMs: 9, machine: "m" }, g: { sinceMs: "9" }, h: null },
      }),
    ).toEqual({
      window: 3,
      counts: {},
      pending: { b: { n: 2, atMs: 5 } },
      overflow: 0,
      flapping: { f: { sinceMs: 9, machine: "m" } },
    });
  });

  it("a refusal writes one increment; an event out removes the counts it said and no others", () => {
    const s = site();
    for (let i = 0; i < 3; i++) s.decide(crash("m1", "A"));
    const before = s.ledger;
    const refused = s.decide(crash("m1", "A"));
    const k = ledgerKey("process|m1|A");
    expect(refusalFields(before, refused)).toEqual({ held: { [k]: { n: FieldValue.increment(1), atMs: T0 } } });
    // A count left unsaid past 30 days starts again at 1, written as such (an increment would add to the stale count).
    const now = T0 + PENDING_KEPT_MS + 1;
    const full: Ledger = { ...emptyLedger(windowOf(now, HOUR_MS)), counts: { [k]: 3 }, pending: { [k]: { n: 5, atMs: T0 } } };
    const restarted = decideInLedger(full, { limits: limitsFor(crash("m1", "A")), window: full.window, subjectKey: "process|m1|A", siteKey: null, atMs: now });
    expect(restarted.decision).toBe("suppressed");
    expect(refusalFields(full, restarted)).toEqual({ held: { [k]: { n: 1, atMs: now } } });
    // As a conditioned update (a decider that is not the claimant): by field path, other subjects' counts kept.
    expect(refusalUpdate(before, refused)).toEqual({ [`held.${k}.n`]: FieldValue.increment(1), [`held.${k}.atMs`]: T0 });
    expect(refusalUpdate(full, restarted)).toEqual({ [`held.${k}.n`]: 1, [`held.${k}.atMs`]: now });
    // Nothing to count: the hour written again, so the condition still holds the refusal to the ledger as read.
    expect(refusalUpdate(full, { heldUnder: null, next: full })).toEqual({ window: full.window });
    const held = s.ledger;
    s.decide(crash("m2", "B"));
    expect(Object.keys(admissionFields(held, s.ledger)).filter((f) => f.startsWith("held."))).toEqual([]);
    s.decide(crash("m1", "A"), T0 + HOUR_MS);
    expect(admissionFields(held, s.ledger)[`held.${k}`]).toEqual(FieldValue.delete());
  });
});
