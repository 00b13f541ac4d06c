import { DISPLAY_EVENT_TYPES, EVENT_TYPES, FLAP_EVENT_TYPES, SUBSCRIBABLE_EVENT_TYPES, type EventType } from "../../src/domain/event-catalog";
import { HOST_DISPLAY_EVENTS, HOST_SENDER_EVENTS, hostEventName, subscribes, subscriptionNames } from "../../src/domain/host-vocabulary";

// The host's names for events beside the pipeline's: which it sent, and which webhook docs may hold.

const DISPLAY = [
  "display.monitor_removed",
  "display.apply_failed",
  "display.auto_revert_fired",
  "display.sync_lost",
  "display.drift",
  "display.monitor_swapped",
  "display.mosaic_disabled",
  "display.apply_refused_mosaic",
  "display.monitor_added",
  "display.apply_succeeded",
];

describe("the host's event lists", () => {
  it("names the 10 display events, each a subscribable catalog type", () => {
    expect([...HOST_DISPLAY_EVENTS]).toEqual(DISPLAY);
    expect([...DISPLAY_EVENT_TYPES]).toEqual(DISPLAY);
    for (const name of DISPLAY) expect(SUBSCRIBABLE_EVENT_TYPES).toContain(name);
    expect(SUBSCRIBABLE_EVENT_TYPES).toContain("threshold.breached");
    expect(SUBSCRIBABLE_EVENT_TYPES).not.toContain("webhook.test");
  });

  it("lists what the host's sender is called with, each once", () => {
    expect([...HOST_SENDER_EVENTS].sort()).toEqual(
      ["process.crashed", "process.restarted", "machine.offline", "machine.online", "threshold.breached", ...DISPLAY].sort(),
    );
    expect(new Set(HOST_SENDER_EVENTS).size).toBe(HOST_SENDER_EVENTS.length);
  });

  it("has a catalog type behind every name the host sent", () => {
    const sent = new Set(EVENT_TYPES.map(hostEventName));
    for (const name of HOST_SENDER_EVENTS) expect(sent).toContain(name);
  });
});

describe("hostEventName", () => {
  it("gives the dashboard-v1 name: process.restarted for a start failure, machine.offline for a connection failure", () => {
    expect(hostEventName("process.start_failed")).toBe("process.restarted");
    expect(hostEventName("connection_failure")).toBe("machine.offline");
  });

  it("names a flapping machine's events as the outage and the return the host's receivers know, a process's loop as a crash", () => {
    expect(hostEventName("machine.flapping")).toBe("machine.offline");
    expect(hostEventName("machine.stable")).toBe("machine.online");
    expect(hostEventName("process.flapping")).toBe("process.crashed");
    expect(hostEventName("process.stable")).toBe("process.stable");
  });

  const renamed = ["process.start_failed", "connection_failure", "machine.flapping", "machine.stable", "process.flapping"];
  it.each(EVENT_TYPES.filter((t) => !renamed.includes(t)))("leaves %s as it is", (type) => {
    expect(hostEventName(type)).toBe(type);
  });
});

describe("subscriptionNames", () => {
  it("adds the host's name where it differs", () => {
    expect(subscriptionNames("process.start_failed")).toEqual(["process.start_failed", "process.restarted"]);
    expect(subscriptionNames("connection_failure")).toEqual(["connection_failure", "machine.offline"]);
  });

  it("adds the names that imply a flapping machine's or process's events", () => {
    expect(subscriptionNames("machine.flapping")).toEqual(["machine.flapping", "machine.offline"]);
    // A dashboard-v1 doc knows it as machine.online: that name subscribes it there.
    expect(subscriptionNames("machine.stable")).toEqual(["machine.stable", "machine.online", "machine.offline"]);
    const crashes = ["process.crashed", "process.start_failed", "process.restarted"];
    expect(subscriptionNames("process.flapping")).toEqual(["process.flapping", ...crashes]);
    expect(subscriptionNames("process.stable")).toEqual(["process.stable", ...crashes]);
  });

  const withOthers = ["process.start_failed", "connection_failure", ...FLAP_EVENT_TYPES];
  it.each(EVENT_TYPES.filter((t) => !withOthers.includes(t)))("is the type alone for %s", (type) => {
    expect(subscriptionNames(type)).toEqual([type]);
  });
});

describe("subscribes(events, type, format)", () => {
  const formats = ["owlette", "owlette_v1", "owlette_api", "slack", "discord", "pagerduty"];

  it.each(formats)("takes a type listed under its own name (%s)", (format) => {
    for (const type of SUBSCRIBABLE_EVENT_TYPES) {
      expect(subscribes([type], type, format)).toBe(true);
      expect(subscribes(["process.crashed", type], type, format)).toBe(true);
    }
  });

  it.each(formats)("takes a start failure under the host's process.restarted in any format (%s): no pipeline type has that name", (format) => {
    expect(subscribes(["process.restarted"], "process.start_failed", format)).toBe(true);
    expect(subscribes(["process.restarted"], "process.crashed", format)).toBe(false);
  });

  it("takes a connection failure under machine.offline only in the dashboard-v1 format", () => {
    expect(subscribes(["machine.offline"], "connection_failure", "owlette_v1")).toBe(true);
    for (const format of formats.filter((f) => f !== "owlette_v1")) {
      expect(subscribes(["machine.offline"], "connection_failure", format)).toBe(false);
    }
    // machine.offline itself, in every format.
    for (const format of formats) expect(subscribes(["machine.offline"], "machine.offline", format)).toBe(true);
  });

  it.each(formats)("takes a flapping machine's events with machine.offline, a flapping process's with either crash type (%s)", (format) => {
    const dashboard = format === "owlette_v1";
    expect(subscribes(["machine.offline"], "machine.flapping", format)).toBe(true);
    // A host receiver gets no event under a name it did not list: machine.stable goes as machine.online, where that is listed.
    expect(subscribes(["machine.offline"], "machine.stable", format)).toBe(!dashboard);
    expect(subscribes(["machine.online"], "machine.stable", format)).toBe(dashboard);
    for (const type of ["machine.flapping", "machine.stable"] as const) expect(subscribes(["connection_failure"], type, format)).toBe(false);
    expect(subscribes(["machine.online"], "machine.flapping", format)).toBe(false);
    for (const name of ["process.crashed", "process.start_failed", "process.restarted"]) {
      expect(subscribes([name], "process.flapping", format)).toBe(true);
      expect(subscribes([name], "process.stable", format)).toBe(!dashboard);
    }
    for (const type of ["process.flapping", "process.stable"] as const) expect(subscribes(["machine.offline"], type, format)).toBe(false);
    expect(subscribes(["process.stable"], "process.stable", format)).toBe(true);
  });

  it("takes nothing that is not listed", () => {
    const all: EventType[] = [...EVENT_TYPES];
    for (const type of all) {
      expect(subscribes([], type, "owlette_v1")).toBe(false);
      expect(subscribes(["disk.full", "PROCESS.CRASHED"], type, "owlette_v1")).toBe(false);
    }
    expect(subscribes(["process.crashed"], "process.start_failed", "owlette_v1")).toBe(false);
    expect(subscribes(["machine.online"], "connection_failure", "owlette_v1")).toBe(false);
    expect(subscribes(["connection_failure"], "machine.offline", "owlette_v1")).toBe(false);
    expect(subscribes(["process.start_failed"], "process.crashed", "owlette_v1")).toBe(false);
  });

  it("agrees with subscriptionNames: only a listed name can subscribe", () => {
    for (const type of EVENT_TYPES) {
      for (const format of formats) {
        const names = subscriptionNames(type);
        for (const name of ["process.restarted", "machine.offline", ...EVENT_TYPES]) {
          if (subscribes([name], type, format)) expect(names).toContain(name);
        }
      }
    }
  });
});
