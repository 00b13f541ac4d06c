import { DISPLAY_EVENT_TYPES } from "../../src/domain/event-catalog";
import type { DetectedEvent } from "../../src/domain/detected-event";
import { EMISSION_LIMITS, HOUR_MS, limitsFor, suppressionKey } from "../../src/domain/emission-policy";

// Threshold and display events come from the host's agents: limits of the agents' sizes, under keys of their own.

const event = (type: DetectedEvent["type"], subject: string): DetectedEvent => ({ type, machineId: "m1", fields: {}, subject, content: "c" });

describe("emission limits of the host's events", () => {
  it.each(["threshold.breached", ...DISPLAY_EVENT_TYPES] as const)(
    "%s: 3 an hour per machine and subject, then budgets of their own per machine and site",
    (type) => {
      const [subject, machine, site] = limitsFor(event(type, "High CPU"), { eventsPerHour: 50 });
      expect(subject).toEqual({ scope: "subject", key: "host|m1|High CPU", limit: 3, windowMs: HOUR_MS });
      expect(machine).toEqual({ scope: "machine", key: "host-machine|m1", limit: EMISSION_LIMITS.perMachine, windowMs: HOUR_MS });
      expect(site).toEqual({ scope: "site", key: "host-site", limit: 50, windowMs: HOUR_MS });
    },
  );

  it("never spend a process's slots or the budget a machine's crash needs, and count held-back events per subject", () => {
    const display = event("display.drift", "TD");
    const crash = event("process.crashed", "TD");
    const keys = (e: DetectedEvent) => limitsFor(e).flatMap((l) => [l.key, ...(l.reserve ? [l.reserve.key] : [])]);
    expect(keys(display).filter((k) => keys(crash).includes(k))).toEqual([]);
    expect(suppressionKey(display)).toBe("host|m1|TD");
    expect(limitsFor(event("display.drift", "MON-2"))[0]?.key).toBe("host|m1|MON-2");
  });
});
