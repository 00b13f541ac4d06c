import { formatFromUrl, needsMigration, planMigration, webhookShape } from "../../src/domain/legacy-webhooks";

// Webhook docs that deployed Owlette projects already hold, and what the migration makes of them.

const v1 = {
  name: "Ops",
  url: "https://ops.example.com/owlette",
  events: ["process.crashed", "machine.offline", "threshold.breached"],
  enabled: true,
  secret: "legacy-secret-1",
  createdAt: "2025-01-01T00:00:00Z",
  createdBy: "uid-1",
  lastTriggered: "2025-06-01T00:00:00Z",
  lastStatus: 200,
  failCount: 2,
};
const publicApi = {
  url: "https://hooks.example.com/in",
  events: ["process.restarted", "machine.online"],
  description: "Pager bridge",
  paused: false,
  signingSecret: "legacy-secret-2",
  failureCount: 4,
  lastDeliveryAt: "2025-06-02T00:00:00Z",
  lastDeliveryStatus: 500,
  deletedAt: null,
};
const ours = { name: "New", url: "https://x.example", events: ["process.crashed"], enabled: true, failCount: 0, signatureScheme: "owlette" };

describe("legacy webhook docs", () => {
  it("are told apart from this pipeline's", () => {
    expect(needsMigration(v1)).toBe(true);
    expect(needsMigration(publicApi)).toBe(true);
    expect(needsMigration(ours)).toBe(false);
    expect(webhookShape(ours)).toBe("deliverable");
    expect(webhookShape({ ...ours, enabled: false })).toBe("off");
    expect(webhookShape(v1)).toBe("legacy_active");
    expect(webhookShape(publicApi)).toBe("legacy_active");
    expect(webhookShape({ ...publicApi, paused: true })).toBe("off");
    expect(webhookShape({ ...publicApi, deletedAt: "2025-07-01T00:00:00Z" })).toBe("off");
    expect(webhookShape({ ...v1, enabled: false })).toBe("off");
    expect(webhookShape({ ...v1, enabled: false, disabledReason: "needs_migration" })).toBe("off");
  });

  it("a dashboard (v1) doc: secret out, sha256 scheme, fields kept, unknown events dropped with a note", () => {
    const plan = planMigration(v1);
    expect(plan).toMatchObject({
      action: "migrate",
      secret: "legacy-secret-1",
      format: "owlette",
      fields: {
        name: "Ops",
        events: ["process.crashed", "machine.offline"],
        enabled: true,
        disabledReason: null,
        failCount: 2,
        lastStatus: 200,
        lastDeliveryAtMs: Date.parse("2025-06-01T00:00:00Z"),
        signatureScheme: "sha256",
        method: "POST",
        headerNames: [],
      },
      removes: ["secret", "lastTriggered"],
    });
    expect(plan?.notes).toEqual(["event threshold.breached is not sent by this pipeline: dropped"]);
  });

  it("a public API doc: paused, signingSecret, failureCount, lastDeliveryStatus mapped; process.restarted is process.start_failed", () => {
    expect(planMigration(publicApi)).toMatchObject({
      secret: "legacy-secret-2",
      fields: { name: "Pager bridge", events: ["process.start_failed", "machine.online"], enabled: true, failCount: 4, lastStatus: 500 },
      removes: ["signingSecret", "paused", "failureCount", "lastDeliveryStatus"],
    });
    expect(planMigration({ ...publicApi, paused: true })?.fields).toMatchObject({ enabled: false, disabledReason: "paused" });
    expect(planMigration({ ...v1, enabled: false })?.fields).toMatchObject({ enabled: false, disabledReason: "manual" });
  });

  it("a doc the pipeline flagged keeps the state it had (the flag leaves `enabled` alone)", () => {
    expect(planMigration({ ...v1, disabledReason: "needs_migration", needsMigrationSince: "2026-01-01T00:00:00Z" })).toMatchObject({
      fields: { enabled: true, disabledReason: null },
      removes: expect.arrayContaining(["needsMigrationSince"]),
    });
  });

  it("a deleted doc is removed; a doc without a secret gets a new one, said in a note", () => {
    expect(planMigration({ ...publicApi, deletedAt: "2025-07-01T00:00:00Z" })?.action).toBe("delete");
    const plan = planMigration({ url: "https://x.example/h", events: ["process.crashed"], paused: false });
    expect(plan?.secret).toBeNull();
    expect(plan?.notes.join()).toMatch(/new one is made/);
  });

  it("Slack and Discord URLs get their native format, as deployed", () => {
    expect(formatFromUrl("https://hooks.slack.com/services/T1/B2/xyz")).toBe("slack");
    expect(formatFromUrl("https://discord.com/api/webhooks/1/tok")).toBe("discord");
    expect(formatFromUrl("https://discordapp.com/api/webhooks/1/tok/slack")).toBe("discord");
    expect(formatFromUrl("https://discord.com/channels/1")).toBe("owlette");
    expect(formatFromUrl("https://hooks.slack.com.evil.example/services/x")).toBe("owlette");
    expect(formatFromUrl("not a url")).toBe("owlette");
  });

  it("leaves this pipeline's docs alone", () => {
    expect(planMigration(ours)).toBeNull();
  });
});

describe("legacy values this pipeline's schema would refuse", () => {
  it("times become milliseconds (a Timestamp, an ISO string, Unix seconds), counts whole and non-negative", () => {
    expect(planMigration({ ...v1, lastTriggered: { toMillis: () => 42 } })?.fields.lastDeliveryAtMs).toBe(42);
    expect(planMigration({ ...v1, lastTriggered: 1_750_000_000 })?.fields.lastDeliveryAtMs).toBe(1_750_000_000_000);
    expect(planMigration({ ...v1, lastTriggered: "not a date" })?.fields.lastDeliveryAtMs).toBeNull();
    expect(planMigration({ ...v1, failCount: -3 })?.fields.failCount).toBe(0);
    expect(planMigration({ ...v1, failCount: 2.7 })?.fields.failCount).toBe(2);
  });
});
