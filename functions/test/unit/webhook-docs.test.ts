import { webhookDocSchema } from "../../src/data/webhook-docs";

// The webhook doc as an attempt and the fan-out read it: defensively, so a doc the pipeline did
// not quite write as it meant to is still delivered to.

describe("the webhook doc as read", () => {
  const doc = { name: "Ops", url: "https://ops.example.com", events: ["process.crashed"], enabled: true };
  it("reads a failure count below 0 (a failure taken back twice) as 0, not as an unreadable doc", () => {
    expect(webhookDocSchema.parse({ ...doc, failCount: -1 }).failCount).toBe(0);
    expect(webhookDocSchema.parse({ ...doc, failCount: 3 }).failCount).toBe(3);
    expect(webhookDocSchema.parse(doc).failCount).toBe(0);
    expect(webhookDocSchema.safeParse({ ...doc, failCount: 1.5 }).success).toBe(false);
  });
  it("carries the host's fields that stop deliveries", () => {
    expect(webhookDocSchema.parse({ ...doc, paused: true, hostShape: "api" })).toMatchObject({ paused: true, hostShape: "api" });
  });
});
