import { legacyReturn } from "../../src/domain/legacy-mark";

const ts = (ms: number) => ({ toMillis: () => ms });
const T0 = Date.parse("2026-12-01T10:00:00Z");

/** A machine doc as the earlier sweep left it: its agent silent since T0, marked at T0 + 215 s. */
const marked = { online: false, lastHeartbeat: ts(T0), name: "Kiosk", offlineReason: "heartbeat_stale", offlineSince: ts(T0 + 215_000) };

describe("a mark an earlier version of the sweep wrote on the machine doc", () => {
  it("is answered when the agent comes back: the agent's merge leaves the old fields in place", () => {
    const back = { ...marked, online: true, lastHeartbeat: ts(T0 + 3_600_000) };
    expect(legacyReturn(marked, back)).toEqual({ staleSince: marked.offlineSince, lastHeartbeat: marked.lastHeartbeat, name: "Kiosk" });
  });

  it("is answered once: later heartbeats, and the removal of the old fields, are no return", () => {
    const back = { ...marked, online: true, lastHeartbeat: ts(T0 + 3_600_000) };
    expect(legacyReturn(back, { ...back, lastHeartbeat: ts(T0 + 3_630_000) })).toBeNull();
    const cleaned = { online: true, lastHeartbeat: ts(T0 + 3_600_000), name: "Kiosk" };
    expect(legacyReturn(back, cleaned)).toBeNull();
  });

  it("is no return while the machine is still silent, nor for a doc the earlier sweep never marked", () => {
    expect(legacyReturn(marked, { ...marked, agent_version: "2.12.12" })).toBeNull();
    expect(legacyReturn(marked, { ...marked, online: true })).toBeNull(); // no newer heartbeat
    const stopped = { online: false, lastHeartbeat: ts(T0) };
    expect(legacyReturn(stopped, { online: true, lastHeartbeat: ts(T0 + 60_000) })).toBeNull();
    expect(
      legacyReturn({ ...marked, offlineReason: "shutdown" }, { ...marked, offlineReason: "shutdown", online: true, lastHeartbeat: ts(T0 + 60_000) }),
    ).toBeNull();
    expect(legacyReturn(null, marked)).toBeNull();
  });
});
