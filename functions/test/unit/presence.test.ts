import { AGENT_LIMITS, machineDocSchema, parseAgentDoc, type MachineDoc } from "../../src/domain/agent-docs";
import {
  dueStep,
  isBackFrom,
  isNewMark,
  markOf,
  mayBeReturning,
  offlineEvent,
  onlineEvent,
  presenceDocSchema,
  RETURN_CLEAR_GRACE_MS,
  STALE_REASON,
  sweepStep,
  type Mark,
  type PresenceDoc,
  type SweptMachine,
} from "../../src/domain/presence";
import { PLANNED_DOWNTIME_GRACE_MS } from "../../src/domain/staleness";

const ts = (ms: number) => ({ toMillis: () => ms });
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.parse("2026-03-22T10:00:00Z");
/** The deployed default, STALE_AFTER_SECONDS = 210. */
const THRESHOLD = 210_000;
/** A sweep pass five minutes after the machine's last heartbeat (T0): it is stale. */
const NOW = T0 + 300_000;
const STALE_SINCE = T0 + 215_000;
/** Announced instants are Unix seconds, as deployed agents write them. */
const seconds = (ms: number) => ms / 1000;

function machineDoc(fields: Record<string, unknown>): MachineDoc {
  const parsed = parseAgentDoc(machineDocSchema, fields);
  if (!parsed.ok || !parsed.value) throw new Error(`bad fixture: ${JSON.stringify(parsed)}`);
  return parsed.value;
}

/** What the sweep reads of a machine that went silent at T0, overridden per case. */
function machine(over: Partial<SweptMachine> = {}): SweptMachine {
  return { online: true, lastHeartbeatMs: T0, rebooting: false, rebootScheduledAt: null, shuttingDown: false, shutdownScheduledAt: null, ...over };
}

/** The presence doc of a machine marked stale at STALE_SINCE, its last heartbeat T0. */
function marked(over: Partial<PresenceDoc> = {}): PresenceDoc {
  return { lastHeartbeat: ts(T0), staleSince: ts(STALE_SINCE), name: "Gallery PC 1", ...over };
}

/** The presence doc of a machine deferred at T0 inside an announced reboot. */
function deferred(over: Partial<PresenceDoc> = {}): PresenceDoc {
  return { lastHeartbeat: ts(T0), dueAt: ts(NOW), name: "Gallery PC 1", ...over };
}

describe("presenceDocSchema", () => {
  it("reads what the sweep writes: a heartbeat, and a mark instant, a due instant and a name when set", () => {
    expect(presenceDocSchema.safeParse({ lastHeartbeat: ts(T0) }).success).toBe(true);
    expect(presenceDocSchema.safeParse({ lastHeartbeat: ts(T0), staleSince: ts(STALE_SINCE), dueAt: ts(NOW), name: "Gallery PC 1" }).success).toBe(true);
    expect(presenceDocSchema.safeParse({ lastHeartbeat: ts(T0), staleSince: null, dueAt: null, name: null }).success).toBe(true);
    expect(presenceDocSchema.safeParse({ lastHeartbeat: ts(T0), name: "x".repeat(AGENT_LIMITS.name) }).success).toBe(true);
  });

  it("refuses a name longer than an agent may write, a missing heartbeat and timestamps that are not Timestamps", () => {
    expect(presenceDocSchema.safeParse({ lastHeartbeat: ts(T0), name: "x".repeat(AGENT_LIMITS.name + 1) }).success).toBe(false);
    expect(presenceDocSchema.safeParse({ staleSince: ts(STALE_SINCE) }).success).toBe(false);
    expect(presenceDocSchema.safeParse({ lastHeartbeat: null }).success).toBe(false);
    expect(presenceDocSchema.safeParse({ lastHeartbeat: T0 }).success).toBe(false);
    expect(presenceDocSchema.safeParse({ lastHeartbeat: ts(T0), staleSince: iso(STALE_SINCE) }).success).toBe(false);
    expect(presenceDocSchema.safeParse({ lastHeartbeat: ts(T0), dueAt: { toMillis: NOW } }).success).toBe(false);
  });
});

describe("markOf", () => {
  it("is the mark of a marked doc, held or not, and nothing for a deferred doc or no doc", () => {
    const doc = marked({ dueAt: ts(NOW) });
    expect(markOf(doc)).toEqual({ staleSince: doc.staleSince, lastHeartbeat: doc.lastHeartbeat, name: "Gallery PC 1" });
    expect(markOf(deferred())).toBeNull();
    expect(markOf(null)).toBeNull();
  });
});

describe("offlineEvent and onlineEvent", () => {
  const mark: Mark = { staleSince: ts(STALE_SINCE), lastHeartbeat: ts(T0), name: "Gallery PC 1" };

  it("keeps the reason receivers read", () => {
    expect(STALE_REASON).toBe("heartbeat_stale");
  });

  it("reports a mark as one machine.offline, named and dated by its instant", () => {
    expect(offlineEvent(mark, "m1")).toEqual({
      type: "machine.offline",
      machineId: "m1",
      machineName: "Gallery PC 1",
      fields: { reason: "heartbeat_stale", lastHeartbeat: iso(T0), offlineSince: iso(STALE_SINCE) },
      subject: "presence",
      content: `offline:${STALE_SINCE}`,
      occurredAt: new Date(STALE_SINCE),
    });
    expect(offlineEvent({ ...mark, name: null }, "m1").machineName).toBeUndefined();
  });

  it("answers the mark with machine.online, carrying the exact machine.offline it answers", () => {
    const event = onlineEvent(mark, "m1", "Gallery PC 1", ts(T0 + 600_000));
    expect(event).toEqual({
      type: "machine.online",
      machineId: "m1",
      machineName: "Gallery PC 1",
      fields: { offlineSince: iso(STALE_SINCE), lastHeartbeat: iso(T0 + 600_000) },
      subject: "presence",
      content: `online:${STALE_SINCE}`,
      answers: offlineEvent(mark, "m1"),
    });
    // Dated by the write that reported the return, not by the mark.
    expect(event).not.toHaveProperty("occurredAt");
  });

  it("answers the offline as it was reported even when the machine was renamed meanwhile", () => {
    // The answer is matched to the offline occurrence by its fields: it must be the same event, old name included.
    const event = onlineEvent(mark, "m1", "Gallery PC 1 (renamed)", null);
    expect(event.machineName).toBe("Gallery PC 1 (renamed)");
    expect(event.fields).toEqual({ offlineSince: iso(STALE_SINCE), lastHeartbeat: null });
    expect(event.answers).toEqual(offlineEvent(mark, "m1"));
    expect(event.answers?.machineName).toBe("Gallery PC 1");
  });
});

describe("isNewMark", () => {
  it("is the mark when a machine is first marked, from no doc or from a deferred one", () => {
    const after = marked();
    expect(isNewMark(null, after)).toEqual(markOf(after));
    expect(isNewMark(deferred(), after)).toEqual(markOf(after));
  });

  it("is the new mark when a held page is marked again with a new instant", () => {
    const renewed = marked({ staleSince: ts(NOW + 3_600_000) });
    expect(isNewMark(marked({ dueAt: ts(NOW + 3_600_000) }), renewed)).toEqual(markOf(renewed));
  });

  it("is nothing when the mark's instant is unchanged: a page held, a hold lifted, a write again", () => {
    expect(isNewMark(marked(), marked({ dueAt: ts(NOW + 3_600_000) }))).toBeNull();
    expect(isNewMark(marked({ dueAt: ts(NOW) }), marked())).toBeNull();
    // Two Timestamp objects for one instant, as two reads of the doc give.
    expect(isNewMark(marked(), marked({ staleSince: ts(STALE_SINCE) }))).toBeNull();
  });

  it("is nothing for a deferred doc, which has no instant of silence yet, and for a deletion", () => {
    expect(isNewMark(null, deferred())).toBeNull();
    expect(isNewMark(deferred(), deferred({ dueAt: ts(NOW + 60_000) }))).toBeNull();
    expect(isNewMark(marked(), null)).toBeNull();
    expect(isNewMark(deferred(), null)).toBeNull();
    expect(isNewMark(null, null)).toBeNull();
  });
});

describe("mayBeReturning", () => {
  const beat = (ms: number, fields: Record<string, unknown> = {}) => machineDoc({ online: true, lastHeartbeat: ts(ms), name: "Gallery PC 1", ...fields });

  it("reads when the agent starts again after a clean stop, however soon: the stop's fresh heartbeat hides the silence before it", () => {
    const stopped = beat(T0, { online: false });
    expect(mayBeReturning(stopped, beat(T0 + 20_000), T0 + 21_000, THRESHOLD)).toBe(true);
    // The stop itself is no return.
    expect(mayBeReturning(beat(T0 - 400_000), stopped, T0 + 1_000, THRESHOLD)).toBe(false);
  });

  it.each([5_000, 30_000, 120_000])("costs no read for on-time heartbeats every %i ms under the 210 s threshold", (cadence) => {
    // The write lands a couple of seconds after the heartbeat it carries.
    expect(mayBeReturning(beat(T0), beat(T0 + cadence), T0 + cadence + 2_000, THRESHOLD)).toBe(false);
  });

  it("reads after a silence of at least the threshold or 150 s, whichever is shorter", () => {
    expect(mayBeReturning(beat(T0), beat(T0 + 150_000), T0 + 150_000, THRESHOLD)).toBe(true);
    expect(mayBeReturning(beat(T0), beat(T0 + 149_000), T0 + 149_999, THRESHOLD)).toBe(false);
    expect(mayBeReturning(beat(T0), beat(T0 + 600_000), T0 + 600_000, THRESHOLD)).toBe(true);
    // A threshold under 150 s: any silence the sweep could have marked reads.
    expect(mayBeReturning(beat(T0), beat(T0 + 100_000), T0 + 100_000, 100_000)).toBe(true);
    expect(mayBeReturning(beat(T0), beat(T0 + 99_000), T0 + 99_999, 100_000)).toBe(false);
  });

  it("judges the silence by when the write landed, so a return carrying an old heartbeat still reads", () => {
    // An agent that comes back with a queued write: the heartbeat is close to the previous one, the write is not.
    expect(mayBeReturning(beat(T0), beat(T0 + 5_000), T0 + 600_000, THRESHOLD)).toBe(true);
  });

  it("costs no read when the write is no return", () => {
    // The agent's own clean stop.
    expect(mayBeReturning(beat(T0), beat(T0 + 600_000, { online: false }), T0 + 600_000, THRESHOLD)).toBe(false);
    expect(mayBeReturning(beat(T0), machineDoc({ lastHeartbeat: ts(T0 + 600_000) }), T0 + 600_000, THRESHOLD)).toBe(false);
    // A new machine, or one that never had a heartbeat: nothing the sweep could have marked.
    expect(mayBeReturning(null, beat(T0 + 600_000), T0 + 600_000, THRESHOLD)).toBe(false);
    expect(mayBeReturning(machineDoc({ online: true }), beat(T0 + 600_000), T0 + 600_000, THRESHOLD)).toBe(false);
    // The host's cron stamping health on a silent machine: the heartbeat is unchanged.
    const stamped = beat(T0, { health: { status: "offline" } });
    expect(mayBeReturning(beat(T0), stamped, T0 + 600_000, THRESHOLD)).toBe(false);
    // A heartbeat older than the one before, or none at all.
    expect(mayBeReturning(beat(T0), beat(T0 - 1_000), T0 + 600_000, THRESHOLD)).toBe(false);
    expect(mayBeReturning(beat(T0), machineDoc({ online: true }), T0 + 600_000, THRESHOLD)).toBe(false);
    // A deletion.
    expect(mayBeReturning(beat(T0), null, T0 + 600_000, THRESHOLD)).toBe(false);
  });

  it("with a 15 s demo threshold, reads after 15 s of silence and not for 5 s heartbeats", () => {
    expect(mayBeReturning(beat(T0), beat(T0 + 5_000), T0 + 5_500, 15_000)).toBe(false);
    expect(mayBeReturning(beat(T0), beat(T0 + 15_000), T0 + 15_000, 15_000)).toBe(true);
    expect(mayBeReturning(beat(T0), beat(T0 + 14_000), T0 + 14_999, 15_000)).toBe(false);
  });

  it("reads for every return the sweep could have marked: a mark needs a silence past the threshold", () => {
    for (const threshold of [15_000, 100_000, THRESHOLD, 3_600_000]) {
      // The earliest the sweep may mark, and the earliest write after it.
      const markedAt = T0 + threshold + 1;
      expect(mayBeReturning(beat(T0), beat(markedAt + 1), markedAt + 1, threshold)).toBe(true);
    }
  });
});

describe("isBackFrom", () => {
  const mark = { lastHeartbeat: ts(T0) };

  it("is a heartbeat newer than the mark's", () => {
    expect(isBackFrom(mark, ts(T0 + 1))).toBe(true);
    expect(isBackFrom(mark, ts(T0 + 600_000))).toBe(true);
  });

  it("is not the mark's own heartbeat, an older one, or none", () => {
    expect(isBackFrom(mark, ts(T0))).toBe(false);
    expect(isBackFrom(mark, ts(T0 - 1))).toBe(false);
    expect(isBackFrom(mark, null)).toBe(false);
    expect(isBackFrom(mark, undefined)).toBe(false);
  });
});

describe("sweepStep", () => {
  const step = (m: SweptMachine, presence: PresenceDoc | null = null) => sweepStep(m, presence, NOW, THRESHOLD);

  describe("mark", () => {
    it("marks a machine online and silent past the threshold", () => {
      expect(step(machine())).toEqual({ kind: "mark" });
      expect(step(machine({ lastHeartbeatMs: NOW - THRESHOLD - 1 }))).toEqual({ kind: "mark" });
    });

    it("marks a deferred machine whose announcement has run out: a deferred doc is no mark", () => {
      const ranOut = machine({ rebooting: true, rebootScheduledAt: seconds(NOW - PLANNED_DOWNTIME_GRACE_MS - 1_000) });
      expect(step(ranOut, deferred())).toEqual({ kind: "mark" });
    });

    it("ignores an instant whose flag is not set, and one announced too far ahead", () => {
      expect(step(machine({ rebooting: false, rebootScheduledAt: seconds(NOW) }))).toEqual({ kind: "mark" });
      expect(step(machine({ shuttingDown: true, shutdownScheduledAt: seconds(NOW + PLANNED_DOWNTIME_GRACE_MS + 1_000) }))).toEqual({ kind: "mark" });
    });

    it("marks again a machine whose mark is for an earlier silence and whose return was missed long ago", () => {
      // Its return's trigger gave up: the old mark is stale news, this silence is a new outage.
      const earlier = marked({ lastHeartbeat: ts(T0 - 3_600_000), staleSince: ts(T0 - 3_000_000) });
      expect(sweepStep(machine(), earlier, T0 + RETURN_CLEAR_GRACE_MS, THRESHOLD)).toEqual({ kind: "mark" });
      expect(sweepStep(machine(), earlier, T0 + RETURN_CLEAR_GRACE_MS + 60_000, THRESHOLD)).toEqual({ kind: "mark" });
    });
  });

  describe("defer", () => {
    const GRACE_END = PLANNED_DOWNTIME_GRACE_MS + 1_000;

    it("defers a machine silent inside an announced reboot until the announcement stops explaining it", () => {
      const scheduled = NOW - 60_000;
      expect(step(machine({ rebooting: true, rebootScheduledAt: seconds(scheduled) }))).toEqual({ kind: "defer", untilMs: scheduled + GRACE_END });
    });

    it("defers a machine silent inside an announced shutdown, scheduled a little ahead", () => {
      const scheduled = NOW + 120_000;
      expect(step(machine({ shuttingDown: true, shutdownScheduledAt: seconds(scheduled) }))).toEqual({ kind: "defer", untilMs: scheduled + GRACE_END });
    });

    it("defers until the later of two announced instants", () => {
      const reboot = NOW - 300_000;
      const shutdown = NOW + 300_000;
      const both = machine({ rebooting: true, rebootScheduledAt: seconds(reboot), shuttingDown: true, shutdownScheduledAt: seconds(shutdown) });
      expect(step(both)).toEqual({ kind: "defer", untilMs: shutdown + GRACE_END });
      const swapped = machine({ rebooting: true, rebootScheduledAt: seconds(shutdown), shuttingDown: true, shutdownScheduledAt: seconds(reboot) });
      expect(step(swapped)).toEqual({ kind: "defer", untilMs: shutdown + GRACE_END });
    });

    it("defers only as long as the announcements active now explain the silence", () => {
      // A shutdown announced two hours ahead is no explanation now: the reboot's window decides.
      const reboot = NOW - 60_000;
      const farShutdown = machine({ rebooting: true, rebootScheduledAt: seconds(reboot), shuttingDown: true, shutdownScheduledAt: seconds(NOW + 7_200_000) });
      expect(step(farShutdown)).toEqual({ kind: "defer", untilMs: reboot + GRACE_END });
      // An instant whose flag is off (a cancelled shutdown) does not stretch the window either.
      const cancelled = machine({ rebooting: true, rebootScheduledAt: seconds(reboot), shuttingDown: false, shutdownScheduledAt: seconds(NOW + 600_000) });
      expect(step(cancelled)).toEqual({ kind: "defer", untilMs: reboot + GRACE_END });
    });

    it("defers to an instant after now even at the edge of the grace", () => {
      const scheduled = NOW - PLANNED_DOWNTIME_GRACE_MS;
      const result = step(machine({ rebooting: true, rebootScheduledAt: seconds(scheduled) }));
      expect(result).toEqual({ kind: "defer", untilMs: NOW + 1_000 });
    });
  });

  describe("none", () => {
    it("does nothing when a heartbeat landed after the query, or the machine is silent for less than the threshold", () => {
      expect(step(machine({ lastHeartbeatMs: NOW - 10_000 }))).toEqual({ kind: "none" });
      expect(step(machine({ lastHeartbeatMs: NOW - THRESHOLD }))).toEqual({ kind: "none" });
    });

    it("does nothing when the agent stopped cleanly, or has no heartbeat", () => {
      expect(step(machine({ online: false }))).toEqual({ kind: "none" });
      expect(step(machine({ online: null }))).toEqual({ kind: "none" });
      expect(step(machine({ lastHeartbeatMs: null }))).toEqual({ kind: "none" });
      // Also when announced: a shutdown that ran its course is no outage.
      expect(step(machine({ online: false, shuttingDown: true, shutdownScheduledAt: seconds(NOW) }))).toEqual({ kind: "none" });
    });

    it("does nothing when the machine is marked already for this silence, held or not", () => {
      expect(step(machine(), marked())).toEqual({ kind: "none" });
      expect(step(machine(), marked({ dueAt: ts(NOW + 3_600_000) }))).toEqual({ kind: "none" });
      expect(sweepStep(machine(), marked(), NOW + 86_400_000, THRESHOLD)).toEqual({ kind: "none" });
    });
  });

  describe("retry", () => {
    const earlier = marked({ lastHeartbeat: ts(T0 - 3_600_000), staleSince: ts(T0 - 3_000_000) });

    it("waits for the next pass while a return from an earlier silence is being cleared", () => {
      // Silent again, but its last heartbeat is the return the machine trigger is still answering.
      expect(step(machine(), earlier)).toEqual({ kind: "retry" });
      expect(step(machine({ lastHeartbeatMs: NOW - RETURN_CLEAR_GRACE_MS + 1 }), earlier)).toEqual({ kind: "retry" });
      // A heartbeat that landed after the query, newer than the mark's.
      expect(step(machine({ lastHeartbeatMs: NOW - 1_000 }), earlier)).toEqual({ kind: "retry" });
    });

    it("marks instead once the return is older than the grace", () => {
      expect(step(machine({ lastHeartbeatMs: NOW - RETURN_CLEAR_GRACE_MS }), earlier)).toEqual({ kind: "mark" });
      expect(step(machine({ lastHeartbeatMs: NOW - RETURN_CLEAR_GRACE_MS - 60_000 }), earlier)).toEqual({ kind: "mark" });
    });

    it("in the sweep presence mode, answers a beaten mark first however old the return: no trigger answered it", () => {
      const sweepMode = (m: SweptMachine, presence: PresenceDoc | null) => sweepStep(m, presence, NOW, THRESHOLD, true);
      expect(sweepMode(machine({ lastHeartbeatMs: NOW - RETURN_CLEAR_GRACE_MS - 60_000 }), earlier)).toEqual({ kind: "retry" });
      expect(sweepMode(machine(), earlier)).toEqual({ kind: "retry" });
      // Nothing else changes: a mark of this very silence, a new silence, a clean stop.
      expect(sweepMode(machine(), marked())).toEqual({ kind: "none" });
      expect(sweepMode(machine(), null)).toEqual({ kind: "mark" });
      expect(sweepMode(machine({ online: false }), null)).toEqual({ kind: "none" });
    });
  });
});

describe("dueStep", () => {
  const due = (m: SweptMachine | null, presence: PresenceDoc) => dueStep(m, presence, NOW, THRESHOLD);

  it("drops the doc of a machine that is gone", () => {
    expect(due(null, marked({ dueAt: ts(NOW) }))).toEqual({ kind: "drop" });
    expect(due(null, deferred())).toEqual({ kind: "drop" });
  });

  describe("a held page", () => {
    const held = marked({ dueAt: ts(NOW) });

    it("is marked again when the machine is still silent: a new outage report, paged now", () => {
      expect(due(machine(), held)).toEqual({ kind: "mark" });
      // Long after the threshold, too: a held page is delayed, never lost.
      expect(dueStep(machine(), held, NOW + 86_400_000, THRESHOLD)).toEqual({ kind: "mark" });
    });

    it("loses its hold when the machine came back, or stopped cleanly: the mark stays for the return to clear", () => {
      expect(due(machine({ lastHeartbeatMs: T0 + 400_000 }), held)).toEqual({ kind: "unhold" });
      expect(due(machine({ online: false }), held)).toEqual({ kind: "unhold" });
      expect(due(machine({ online: false, lastHeartbeatMs: T0 + 400_000 }), held)).toEqual({ kind: "unhold" });
    });
  });

  describe("a deferred machine", () => {
    it("is marked when still silent and the announcement has run out", () => {
      const ranOut = machine({ rebooting: true, rebootScheduledAt: seconds(NOW - PLANNED_DOWNTIME_GRACE_MS - 1_000) });
      expect(due(ranOut, deferred())).toEqual({ kind: "mark" });
      expect(due(machine(), deferred())).toEqual({ kind: "mark" });
    });

    it("is deferred again when a new announcement covers its silence", () => {
      const scheduled = NOW + 120_000;
      const again = machine({ shuttingDown: true, shutdownScheduledAt: seconds(scheduled) });
      expect(due(again, deferred())).toEqual({ kind: "defer", untilMs: scheduled + PLANNED_DOWNTIME_GRACE_MS + 1_000 });
    });

    it("is dropped when the machine came back, even if silent again: the sweep's query finds it by its new heartbeat", () => {
      expect(due(machine({ lastHeartbeatMs: NOW - 5_000 }), deferred())).toEqual({ kind: "drop" });
      expect(due(machine({ lastHeartbeatMs: T0 + 60_000 }), deferred())).toEqual({ kind: "drop" });
    });

    it("is dropped when the agent shut down cleanly as announced", () => {
      expect(due(machine({ online: false, shuttingDown: true, shutdownScheduledAt: seconds(T0) }), deferred())).toEqual({ kind: "drop" });
    });
  });
});
