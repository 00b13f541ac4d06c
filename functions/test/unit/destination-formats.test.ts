import { buildPayload, buildTestPayload, serializePayload, type EventPayload } from "../../src/domain/payload";
import { discordMessage, pagerDutyDedupKey, pagerDutyEvent, renderBody, slackMessage } from "../../src/domain/destination-formats";
import type { PayloadSource } from "../../src/domain/payload";

const site = { id: "nyc-office", name: "NYC Office" };
const at = new Date("2026-03-22T10:30:00Z");
const event = (detected: PayloadSource, id = "evt_1"): EventPayload => buildPayload({ id, detected, occurredAt: at, site });
const crash = event({
  type: "process.crashed",
  machineId: "DESKTOP-ABC123",
  machineName: "Gallery PC 1",
  fields: { processName: "TouchDesigner", errorMessage: "Process exited with code -1073741819", exitCode: -1073741819, processId: "td" },
});
const offline = event(
  {
    type: "machine.offline",
    machineId: "KIOSK-02",
    machineName: "Lobby <Kiosk> & co",
    fields: { reason: "heartbeat_stale", lastHeartbeat: "2026-03-22T10:26:00Z", offlineSince: "2026-03-22T10:30:00Z" },
  },
  "evt_2",
);
const online = event({ type: "machine.online", machineId: "KIOSK-02", machineName: "Lobby Kiosk", fields: {} }, "evt_3");

describe("Slack incoming-webhook format", () => {
  it("has fallback text and header, section (with fields) and context blocks", () => {
    const m = slackMessage(crash);
    expect(m.text).toBe("🔴 TouchDesigner crashed on Gallery PC 1 (NYC Office)");
    expect(m.blocks.map((b) => b.type)).toEqual(["header", "section", "context"]);
    expect(m.blocks[0]).toEqual({ type: "header", text: { type: "plain_text", text: "🔴 Process crashed", emoji: true } });
    const section = m.blocks[1] as { text: { type: string; text: string }; fields: { type: string; text: string }[] };
    expect(section.text).toEqual({ type: "mrkdwn", text: "TouchDesigner crashed on Gallery PC 1 (NYC Office)\n>Process exited with code -1073741819" });
    expect(section.fields).toContainEqual({ type: "mrkdwn", text: "*Exit code*\n-1073741819" });
    expect(section.fields.length).toBeLessThanOrEqual(10);
  });
  it("escapes Slack's control characters in agent text, in the notification text too", () => {
    const section = slackMessage(offline).blocks[1] as { text: { text: string } };
    expect(section.text.text).toContain("Lobby &lt;Kiosk&gt; &amp; co");
    expect(slackMessage(offline).text).toContain("Lobby &lt;Kiosk&gt; &amp; co");
    const mention = event({ type: "process.crashed", machineId: "m", machineName: "<!channel>", fields: { processName: "<https://evil.example|click>" } });
    expect(slackMessage(mention).text).not.toMatch(/<[!h]/);
  });
  it("keeps within Slack's block limits whatever the agent wrote", () => {
    const long = event({
      type: "process.crashed",
      machineId: "m",
      machineName: "x".repeat(5000),
      fields: { processName: "p", errorMessage: "e".repeat(5000) },
    });
    const m = slackMessage(long);
    const [header, section] = m.blocks as unknown as [{ text: { text: string } }, { text: { text: string }; fields: { text: string }[] }];
    expect(header.text.text.length).toBeLessThanOrEqual(150);
    expect(section.text.text.length).toBeLessThanOrEqual(3000);
    for (const f of section.fields) expect(f.text.length).toBeLessThanOrEqual(2000);
  });
});

describe("Discord webhook format", () => {
  it("has content, one embed with title, description, colour, fields, timestamp, and no mentions", () => {
    const m = discordMessage(crash);
    expect(m.content).toBe("🔴 **Process crashed**: TouchDesigner crashed on Gallery PC 1 (NYC Office)");
    expect(m.allowed_mentions).toEqual({ parse: [] });
    expect(m.embeds).toHaveLength(1);
    const [embed] = m.embeds;
    expect(embed).toMatchObject({ title: "Process crashed", color: 0xe74c3c, timestamp: "2026-03-22T10:30:00Z", footer: { text: "process.crashed · evt_1" } });
    expect(embed?.description).toContain("Process exited with code -1073741819");
    expect(embed?.fields).toContainEqual({ name: "Machine", value: "Gallery PC 1", inline: true });
  });
  it("keeps within Discord's limits", () => {
    const long = event({
      type: "connection_failure",
      machineId: "m",
      machineName: "@everyone ".repeat(500),
      fields: { errorCode: "E".repeat(3000), errorMessage: "x".repeat(9000) },
    });
    const m = discordMessage(long);
    expect(m.content.length).toBeLessThanOrEqual(2000);
    const [embed] = m.embeds;
    expect(embed!.description.length).toBeLessThanOrEqual(4096);
    for (const f of embed!.fields) expect(f.value.length).toBeLessThanOrEqual(1024);
    const total =
      embed!.title.length + embed!.description.length + embed!.footer.text.length + embed!.fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
    expect(total).toBeLessThanOrEqual(6000);
  });
});

describe("PagerDuty Events API v2 format", () => {
  it("triggers with routing key, dedup key and a payload", () => {
    expect(pagerDutyEvent(offline, "R0UTINGKEY0123456789abcdef012345")).toEqual({
      routing_key: "R0UTINGKEY0123456789abcdef012345",
      event_action: "trigger",
      dedup_key: "owlette/nyc-office/KIOSK-02/offline",
      payload: {
        summary: "Lobby <Kiosk> & co (NYC Office) stopped sending heartbeats",
        source: "Lobby <Kiosk> & co",
        severity: "critical",
        timestamp: "2026-03-22T10:30:00Z",
        group: "NYC Office",
        class: "machine.offline",
        custom_details: expect.objectContaining({ machineId: "KIOSK-02", eventId: "evt_2" }),
      },
      client: "Owlette",
    });
  });
  it("resolves a machine's offline incident when it comes back", () => {
    expect(pagerDutyEvent(online, "key12345")).toEqual({ routing_key: "key12345", event_action: "resolve", dedup_key: pagerDutyDedupKey(offline) });
  });
  it("opens one incident per flapping machine or process, which its stable event resolves, apart from its outages' and crashes'", () => {
    const flap = (type: "machine.flapping" | "machine.stable" | "process.flapping" | "process.stable", fields: Record<string, unknown>, id: string) =>
      event({ type, machineId: "KIOSK-02", machineName: "Lobby Kiosk", fields }, id);
    const machineFlapping = flap("machine.flapping", { flaps: 3, windowMinutes: 30 }, "evt_f1");
    const machineStable = flap("machine.stable", { suppressed: 7, stableAfterMinutes: 20 }, "evt_f2");
    expect(pagerDutyEvent(machineFlapping, "key12345")).toMatchObject({ event_action: "trigger", payload: { severity: "warning" } });
    expect(slackMessage(machineFlapping).text).toContain("Lobby Kiosk (NYC Office) went offline 3 times in 30 minutes");
    expect(pagerDutyEvent(machineStable, "key12345")).toEqual({
      routing_key: "key12345",
      event_action: "resolve",
      dedup_key: pagerDutyDedupKey(machineFlapping),
    });
    expect(slackMessage(machineStable).text).toContain("no outage in 20 minutes (7 events held back)");
    expect(pagerDutyDedupKey(machineFlapping)).not.toBe(pagerDutyDedupKey(offline));
    const processFlapping = flap("process.flapping", { processName: "TouchDesigner", processId: "p1", flaps: 5, windowMinutes: 15 }, "evt_f3");
    const processStable = flap("process.stable", { processName: "TouchDesigner", processId: "p1" }, "evt_f4");
    expect(pagerDutyDedupKey(processStable)).toBe(pagerDutyDedupKey(processFlapping));
    expect(pagerDutyEvent(processStable, "key12345")).toMatchObject({ event_action: "resolve" });
    expect(pagerDutyDedupKey({ ...processFlapping, data: { ...processFlapping.data, processId: "p2" } })).not.toBe(pagerDutyDedupKey(processFlapping));
    expect(discordMessage(processFlapping).content).toContain("TouchDesigner on Lobby Kiosk (NYC Office) crashed 5 times in 15 minutes");
  });
  it("groups repeated crashes of one process into one incident, and pages per process", () => {
    const again = { ...crash, id: "evt_9" };
    expect(pagerDutyDedupKey(again)).toBe(pagerDutyDedupKey(crash));
    expect(pagerDutyDedupKey({ ...crash, data: { ...crash.data, processId: "other" } })).not.toBe(pagerDutyDedupKey(crash));
    expect(pagerDutyEvent(crash, "key12345")).toMatchObject({ payload: { severity: "error", component: "TouchDesigner" } });
  });
});

describe("renderBody", () => {
  const stored = serializePayload(crash);
  it("sends the stored bytes untouched in the owlette format", () => {
    expect(renderBody("owlette", stored)).toBe(stored);
  });
  it("renders the other formats from the stored event", () => {
    expect(JSON.parse(renderBody("slack", stored))).toEqual(slackMessage(crash));
    expect(JSON.parse(renderBody("discord", stored))).toEqual(discordMessage(crash));
    expect(JSON.parse(renderBody("pagerduty", stored, { routingKey: "key12345" }))).toEqual(JSON.parse(JSON.stringify(pagerDutyEvent(crash, "key12345"))));
    expect(() => renderBody("pagerduty", stored)).toThrow(/routing key/);
  });
  it("renders the test event for every destination", () => {
    const test = serializePayload(buildTestPayload({ id: "evt_test", site, webhookId: "w1", at }));
    expect(JSON.parse(renderBody("slack", test)).text).toMatch(/Test event from NYC Office/);
    expect(JSON.parse(renderBody("pagerduty", test, { routingKey: "key12345" }))).toMatchObject({ event_action: "trigger", payload: { severity: "info" } });
  });
});
