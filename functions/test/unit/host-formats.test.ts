import { DISPLAY_EVENT_TYPES, SUBSCRIBABLE_EVENT_TYPES } from "../../src/domain/event-catalog";
import {
  discordMessage,
  FORMATS,
  pagerDutyDedupKey,
  pagerDutyEvent,
  renderBody,
  slackMessage,
  summary,
  urlIsSecret,
} from "../../src/domain/destination-formats";
import { buildPayload, buildTestPayload, serializePayload, type EventPayload, type PayloadSource } from "../../src/domain/payload";

// The host's two bodies, rendered from the pipeline's stored event: the exact bytes for every
// event type, keys in order (receivers written against the host may hash or diff them).

const site = { id: "nyc-office", name: "NYC Office" };
const at = new Date("2026-03-22T10:30:00Z");
const stored = (detected: PayloadSource, id = "evt_1") => serializePayload(buildPayload({ id, detected, occurredAt: at, site }));
const parsed = (body: string) => JSON.parse(body) as EventPayload;
const machine = { machineId: "DESKTOP-ABC123", machineName: "Gallery PC 1" };

const crash = stored({
  type: "process.crashed",
  ...machine,
  fields: {
    processName: "TouchDesigner",
    errorMessage: "Process stopped unexpectedly (PID 4242 no longer running)",
    screenshotUrl: "https://cdn.example.com/s.png",
  },
});
const startFailed = stored({
  type: "process.start_failed",
  ...machine,
  fields: { processName: "Notch", errorMessage: "[WinError 2] The system cannot find the file specified" },
});
const offline = stored({
  type: "machine.offline",
  ...machine,
  fields: { reason: "heartbeat_stale", lastHeartbeat: "2026-03-22T10:26:00Z", offlineSince: "2026-03-22T10:29:30Z" },
});
const online = stored({ type: "machine.online", ...machine, fields: { offlineSince: "2026-03-22T10:29:30Z", lastHeartbeat: "2026-03-22T10:30:00Z" } });
const connection = stored({ type: "connection_failure", ...machine, fields: { errorCode: "FIRESTORE_UNAVAILABLE", errorMessage: "Waiting 23s before retry" } });
const alert = { ruleName: "High CPU", metric: "cpu", value: 97.5, threshold: 90, operator: ">", severity: "critical" };
const threshold = stored({ type: "threshold.breached", ...machine, fields: { alert } });
const monitor = { friendlyName: "DELL U2720Q", id: "MON-1", port: "DP-1", edidHash: "a1b2c3" };
const displayFields = {
  monitor,
  changes: ["resolution 3840x2160 -> 1920x1080", "refresh 60 -> 30 Hz"],
  errorMessage: "layout not applied",
  layoutId: "show-a",
};
const test = serializePayload(buildTestPayload({ id: "evt_test", site, webhookId: "wh_1", at }));

const v1 = (body: string) => renderBody("owlette_v1", body);
const api = (body: string) => renderBody("owlette_api", body);
const v1Machine = { id: "DESKTOP-ABC123", name: "Gallery PC 1" };
const apiMachine = { machineId: "DESKTOP-ABC123", siteId: "nyc-office", name: "Gallery PC 1" };
const v1Envelope = (event: string, data: unknown, id = "evt_1") => JSON.stringify({ event, timestamp: "2026-03-22T10:30:00Z", site, data, id });
const apiEnvelope = (event: string, data: unknown, id = "evt_1") =>
  JSON.stringify({ id, event, occurredAt: "2026-03-22T10:30:00Z", siteId: "nyc-office", data });

describe("the formats list", () => {
  it("offers the host's two bodies beside the others; their URLs are not credentials", () => {
    expect(FORMATS).toEqual(["owlette", "slack", "discord", "pagerduty", "owlette_v1", "owlette_api"]);
    expect(urlIsSecret("owlette_v1")).toBe(false);
    expect(urlIsSecret("owlette_api")).toBe(false);
  });
});

describe("owlette_v1: the host dashboard's sender body", () => {
  it("process.crashed: machine and process {name, error}", () => {
    expect(v1(crash)).toBe(
      v1Envelope("process.crashed", {
        machine: v1Machine,
        process: { name: "TouchDesigner", error: "Process stopped unexpectedly (PID 4242 no longer running)" },
      }),
    );
  });
  it("process.start_failed: under the host's name, process.restarted", () => {
    expect(v1(startFailed)).toBe(
      v1Envelope("process.restarted", { machine: v1Machine, process: { name: "Notch", error: "[WinError 2] The system cannot find the file specified" } }),
    );
  });
  it("a process event without a message: error is the empty string, as the host sent it", () => {
    const bare = stored({ type: "process.crashed", ...machine, fields: { processName: "TouchDesigner" } });
    expect(v1(bare)).toBe(v1Envelope("process.crashed", { machine: v1Machine, process: { name: "TouchDesigner", error: "" } }));
  });
  it("machine.offline: lastSeen is the last heartbeat", () => {
    expect(v1(offline)).toBe(v1Envelope("machine.offline", { machine: { ...v1Machine, lastSeen: "2026-03-22T10:26:00Z" } }));
  });
  it("machine.online: the machine and when it went offline", () => {
    expect(v1(online)).toBe(v1Envelope("machine.online", { machine: v1Machine, offlineSince: "2026-03-22T10:29:30Z" }));
    const noSince = stored({ type: "machine.online", ...machine, fields: {} });
    expect(v1(noSince)).toBe(v1Envelope("machine.online", { machine: v1Machine }));
  });
  it("a flapping machine: machine.offline, then machine.online when stable, the pipeline's fields beside the machine", () => {
    const flapping = stored({ type: "machine.flapping", ...machine, fields: { flaps: 3, windowMinutes: 30 } });
    expect(v1(flapping)).toBe(v1Envelope("machine.offline", { machine: v1Machine, flaps: 3, windowMinutes: 30 }));
    const stable = stored({ type: "machine.stable", ...machine, fields: { stableAfterMinutes: 30 } });
    expect(v1(stable)).toBe(v1Envelope("machine.online", { machine: v1Machine, stableAfterMinutes: 30 }));
  });
  it("a process crashing in a loop: a process.crashed whose error says the loop", () => {
    const flapping = stored({ type: "process.flapping", ...machine, fields: { processName: "TouchDesigner", flaps: 5, windowMinutes: 15 } });
    expect(JSON.parse(v1(flapping))).toMatchObject({
      event: "process.crashed",
      data: {
        machine: v1Machine,
        process: { name: "TouchDesigner", error: "Crashed 5 times in 15 minutes; further crashes are held back until it is stable" },
        flaps: 5,
      },
    });
  });
  it("connection_failure: as the host sent it, a machine.offline with the machine alone", () => {
    expect(v1(connection)).toBe(v1Envelope("machine.offline", { machine: v1Machine }));
  });
  it("threshold.breached: the machine and the host's alert", () => {
    expect(v1(threshold)).toBe(v1Envelope("threshold.breached", { machine: v1Machine, alert }));
  });
  it.each([...DISPLAY_EVENT_TYPES])("%s: the machine and the agent's display data", (type) => {
    expect(v1(stored({ type, ...machine, fields: displayFields }))).toBe(v1Envelope(type, { machine: v1Machine, ...displayFields }));
  });
  it("webhook.test: the message", () => {
    expect(v1(test)).toBe(v1Envelope("webhook.test", { message: parsed(test).data.message }, "evt_test"));
  });
  it("carries the held-back count last, whatever the event", () => {
    const held = stored({ type: "process.crashed", ...machine, fields: { processName: "TouchDesigner", errorMessage: "boom", suppressed: 4 } });
    expect(v1(held)).toBe(v1Envelope("process.crashed", { machine: v1Machine, process: { name: "TouchDesigner", error: "boom" }, suppressed: 4 }));
    const heldDisplay = stored({ type: "display.drift", ...machine, fields: { suppressed: 2, changes: ["x"] } });
    expect(v1(heldDisplay)).toBe(v1Envelope("display.drift", { machine: v1Machine, changes: ["x"], suppressed: 2 }));
  });
  it("names the machine by its id when the stored event has no name", () => {
    const body = JSON.stringify({ ...parsed(connection), data: { machineId: "KIOSK-2" } });
    expect(JSON.parse(v1(body)).data).toEqual({ machine: { id: "KIOSK-2", name: "KIOSK-2" } });
  });
});

describe("owlette_api: the host's public API envelope", () => {
  it("process.crashed: data flat, every field the pipeline sent", () => {
    expect(api(crash)).toBe(
      apiEnvelope("process.crashed", {
        ...apiMachine,
        processName: "TouchDesigner",
        errorMessage: "Process stopped unexpectedly (PID 4242 no longer running)",
        screenshotUrl: "https://cdn.example.com/s.png",
      }),
    );
  });
  it("process.start_failed: under the pipeline's name", () => {
    expect(api(startFailed)).toBe(
      apiEnvelope("process.start_failed", { ...apiMachine, processName: "Notch", errorMessage: "[WinError 2] The system cannot find the file specified" }),
    );
  });
  it("machine.offline: lastHeartbeat and offlineSince, as documented, and the reason", () => {
    expect(api(offline)).toBe(
      apiEnvelope("machine.offline", { ...apiMachine, reason: "heartbeat_stale", lastHeartbeat: "2026-03-22T10:26:00Z", offlineSince: "2026-03-22T10:29:30Z" }),
    );
  });
  it("machine.online", () => {
    expect(api(online)).toBe(apiEnvelope("machine.online", { ...apiMachine, offlineSince: "2026-03-22T10:29:30Z", lastHeartbeat: "2026-03-22T10:30:00Z" }));
  });
  it("connection_failure", () => {
    expect(api(connection)).toBe(
      apiEnvelope("connection_failure", { ...apiMachine, errorCode: "FIRESTORE_UNAVAILABLE", errorMessage: "Waiting 23s before retry" }),
    );
  });
  it("threshold.breached", () => {
    expect(api(threshold)).toBe(apiEnvelope("threshold.breached", { ...apiMachine, alert }));
  });
  it.each([...DISPLAY_EVENT_TYPES])("%s", (type) => {
    expect(api(stored({ type, ...machine, fields: displayFields }))).toBe(apiEnvelope(type, { ...apiMachine, ...displayFields }));
  });
  it("webhook.test: no machine, the site's id and the message", () => {
    expect(api(test)).toBe(apiEnvelope("webhook.test", { siteId: "nyc-office", webhookId: "wh_1", message: parsed(test).data.message }, "evt_test"));
  });
  it("carries the held-back count", () => {
    const held = stored({ type: "connection_failure", ...machine, fields: { errorCode: "E", suppressed: 3 } });
    expect(api(held)).toBe(apiEnvelope("connection_failure", { ...apiMachine, errorCode: "E", suppressed: 3 }));
  });
});

describe("every subscribable event renders in both host formats", () => {
  it.each([...SUBSCRIBABLE_EVENT_TYPES])("%s keeps the event id, signed in the body", (type) => {
    const body = stored({ type, ...machine, fields: { processName: "p" } }, "evt_x");
    expect(JSON.parse(v1(body)).id).toBe("evt_x");
    expect(JSON.parse(api(body)).id).toBe("evt_x");
  });
});

describe("Slack, Discord and PagerDuty renderings of the host's events", () => {
  const thresholdEvent = parsed(threshold);
  const removed = parsed(stored({ type: "display.monitor_removed", ...machine, fields: displayFields }));

  it("a threshold says the rule, the metric and the value against its limit", () => {
    expect(summary(thresholdEvent)).toBe('Threshold "High CPU" breached on Gallery PC 1 (NYC Office): cpu 97.5 (threshold > 90)');
    const section = slackMessage(thresholdEvent).blocks[1] as { fields: { text: string }[] };
    expect(section.fields.map((f) => f.text)).toEqual(
      expect.arrayContaining(["*Rule*\nHigh CPU", "*Metric*\ncpu", "*Value*\n97.5 (threshold &gt; 90)", "*Severity*\ncritical"]),
    );
    expect(slackMessage(thresholdEvent).blocks[0]).toEqual({ type: "header", text: { type: "plain_text", text: "🟠 Threshold breached", emoji: true } });
  });

  it("a display event names the monitor and its port, and lists the changes", () => {
    expect(summary(removed)).toBe("Monitor removed on Gallery PC 1 (NYC Office): DELL U2720Q on DP-1");
    const embed = discordMessage(removed).embeds[0];
    expect(embed?.title).toBe("Monitor removed");
    expect(embed?.fields).toEqual(
      expect.arrayContaining([
        { name: "Monitor", value: "DELL U2720Q on DP-1", inline: true },
        { name: "Changes", value: "• resolution 3840x2160 -> 1920x1080\n• refresh 60 -> 30 Hz", inline: true },
      ]),
    );
    expect(embed?.description).toContain("layout not applied");
  });

  it.each([...DISPLAY_EVENT_TYPES])("%s reads as a sentence, with or without a monitor", (type) => {
    const bare = parsed(stored({ type, ...machine, fields: {} }));
    expect(summary(bare)).toMatch(/^[A-Z][^.]* on Gallery PC 1 \(NYC Office\)$/);
    expect(slackMessage(bare).text).toContain("Gallery PC 1");
  });

  it("escapes the host's text for Slack", () => {
    const hostile = parsed(stored({ type: "display.drift", ...machine, fields: { monitor: { friendlyName: "<!channel>", port: "<x>" }, changes: ["<@U1>"] } }));
    expect(JSON.stringify(slackMessage(hostile))).not.toMatch(/<[!@x]/);
  });

  it("pages PagerDuty with the rule's severity, one incident per rule and machine", () => {
    const page = pagerDutyEvent(thresholdEvent, "key12345");
    expect(page).toMatchObject({
      event_action: "trigger",
      dedup_key: "owlette/nyc-office/DESKTOP-ABC123/threshold/High CPU",
      payload: { severity: "critical", component: "cpu" },
    });
    const odd = parsed(stored({ type: "threshold.breached", ...machine, fields: { alert: { ...alert, severity: "sev1" } } }));
    expect(pagerDutyEvent(odd, "key12345")).toMatchObject({ payload: { severity: "warning" } });
    expect(pagerDutyDedupKey(odd)).toBe(pagerDutyDedupKey(thresholdEvent));
  });

  it("pages PagerDuty once per kind of display trouble and monitor", () => {
    expect(pagerDutyDedupKey(removed)).toBe("owlette/nyc-office/DESKTOP-ABC123/display.monitor_removed/MON-1");
    expect(pagerDutyEvent(removed, "key12345")).toMatchObject({
      payload: { severity: "warning", component: "DELL U2720Q on DP-1", class: "display.monitor_removed" },
    });
    const added = parsed(stored({ type: "display.monitor_added", ...machine, fields: displayFields }));
    expect(pagerDutyEvent(added, "key12345")).toMatchObject({ event_action: "trigger", payload: { severity: "info" } });
  });
});
