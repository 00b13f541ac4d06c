import { discordMessage, pagerDutyDedupKey, pagerDutyEvent, renderBody, slackMessage } from "../../src/domain/destination-formats";
import { disableNotice, disableNoticePayload, failingNotice, failingNoticePayload } from "../../src/domain/webhook-notices";
import { FAILING_STREAK } from "../../src/domain/webhook-health";
import { isSubscribableEventType } from "../../src/domain/event-catalog";

// webhook.disabled: the site's other webhooks learn at once that one of them was switched off
// by its failures (issue 24, item 5).

const on = { name: "Ops receiver", url: "https://hooks.slack.com/services/T000/B000/secret", enabled: true, failCount: 9, lastStatus: 500 };
const SITE = { id: "site-a", name: "Gallery" };

describe("disableNotice", () => {
  it("is the write that switched a webhook off for its failures or its receiver's 410", () => {
    expect(disableNotice("w1", on, { ...on, enabled: false, disabledReason: "auto", failCount: 10 })).toEqual({
      webhookId: "w1",
      webhookName: "Ops receiver",
      reason: "auto",
      failCount: 10,
      lastStatus: 500,
    });
    expect(disableNotice("w1", on, { ...on, enabled: false, disabledReason: "gone", lastStatus: 410 })).toMatchObject({ reason: "gone", lastStatus: 410 });
    // A host doc not adopted yet has no `enabled` before: it was on.
    expect(disableNotice("w1", { name: "x" }, { name: "x", enabled: false, disabledReason: "auto" })).toMatchObject({ reason: "auto" });
  });

  it("is nothing for a switch-off by people, a write to a webhook already off, a switch-on, or a delete", () => {
    expect(disableNotice("w1", on, { ...on, enabled: false, disabledReason: "manual" })).toBeNull();
    expect(disableNotice("w1", on, { ...on, enabled: false, disabledReason: "paused" })).toBeNull();
    expect(disableNotice("w1", on, { ...on, enabled: false, disabledReason: "deleted" })).toBeNull();
    const off = { ...on, enabled: false, disabledReason: "auto" };
    expect(disableNotice("w1", off, { ...off, lastStatus: 503 })).toBeNull();
    expect(disableNotice("w1", off, { ...off, enabled: true, disabledReason: null })).toBeNull();
    expect(disableNotice("w1", on, undefined)).toBeNull();
    // A host write switching a doc on, then off again, leaves the earlier reason and count: not a new switch-off.
    const stale = { ...on, enabled: true, disabledReason: "auto", failCount: 10 };
    expect(disableNotice("w1", stale, { ...stale, enabled: false })).toBeNull();
  });
});

describe("the webhook.disabled payload and its renderings", () => {
  const payload = disableNoticePayload({
    id: "evt_1",
    site: SITE,
    notice: { webhookId: "w1", webhookName: "Ops receiver", reason: "auto", failCount: 10, lastStatus: 500 },
    at: new Date("2026-12-07T10:00:00Z"),
  });

  it("is the usual envelope about a webhook, never with its URL (a URL can hold a credential)", () => {
    expect(payload).toEqual({
      id: "evt_1",
      event: "webhook.disabled",
      timestamp: "2026-12-07T10:00:00Z",
      site: SITE,
      data: { webhookId: "w1", webhookName: "Ops receiver", reason: "auto", failCount: 10, lastStatus: 500 },
    });
    expect(JSON.stringify(payload)).not.toContain("hooks.slack.com");
    expect(isSubscribableEventType("webhook.disabled")).toBe(true);
  });

  it("renders for Slack, Discord and PagerDuty: what was switched off, why, and that it gets nothing until re-enabled", () => {
    expect(slackMessage(payload).text).toBe(
      '⛔ Webhook "Ops receiver" of Gallery was switched off after 10 failed deliveries: it gets no events until re-enabled',
    );
    expect(discordMessage(payload).embeds[0]?.fields).toEqual(expect.arrayContaining([{ name: "Webhook", value: "Ops receiver", inline: true }]));
    const gone = { ...payload, data: { ...payload.data, reason: "gone", lastStatus: 410 } };
    expect(slackMessage(gone).text).toContain("(its receiver answered 410 Gone)");
    // One PagerDuty incident per webhook, a warning.
    expect(pagerDutyDedupKey(payload)).toBe("owlette/site-a/webhook/w1/disabled");
    expect(pagerDutyEvent(payload, "key12345")).toMatchObject({ event_action: "trigger", payload: { severity: "warning" } });
    // The host dashboard's body has no such event: the pipeline's fields as they are.
    expect(JSON.parse(renderBody("owlette_v1", JSON.stringify(payload)))).toMatchObject({ data: payload.data });
  });
});

// webhook.failing: halfway to the switch-off, while the webhook still works (issue 24, item 5).
describe("failingNotice", () => {
  const keys = (n: number) => Array.from({ length: n }, (_, i) => `${1_000 + i}:dlv_${i}:1`);
  const at = (streak: number, extra: Record<string, unknown> = {}) => ({ ...on, failCount: streak, failStreak: keys(streak), lastStatus: 503, ...extra });

  it("is the write that takes an enabled webhook's streak to FAILING_STREAK, named by the streak's first failure", () => {
    expect(failingNotice("w1", at(FAILING_STREAK - 1), at(FAILING_STREAK))).toEqual({
      webhookId: "w1",
      webhookName: "Ops receiver",
      failCount: FAILING_STREAK,
      lastStatus: 503,
      streak: "1000:dlv_0:1",
    });
    // Past it, the streak goes on without another notice; a success ends it and the next streak is told again.
    expect(failingNotice("w1", at(FAILING_STREAK), at(FAILING_STREAK + 1))).toBeNull();
    expect(failingNotice("w1", at(FAILING_STREAK), at(0))).toBeNull();
    expect(failingNotice("w1", at(0), at(1))).toBeNull();
    expect(failingNotice("w1", at(FAILING_STREAK - 1, { lastStatus: "unreachable" }), at(FAILING_STREAK, { lastStatus: "unreachable" }))?.lastStatus).toBe(
      "unreachable",
    );
  });

  it("is nothing for another sender's count, the write taking it back out, or a host doc's adoption carrying its count over", () => {
    // The host's sender, still running, counts one more on its own: the streak is unchanged.
    expect(failingNotice("w1", at(4), { ...at(4), failCount: 5 })).toBeNull();
    // The pipeline takes it back out, then counts its own fifth: that one is told.
    expect(failingNotice("w1", { ...at(4), failCount: 5 }, at(4))).toBeNull();
    expect(failingNotice("w1", at(4), at(5))).not.toBeNull();
    // A public-API doc of the host, adopted with the 7 failures it counted.
    const hostDoc = { name: "Ops receiver", url: "https://example.com/h", events: ["process.crashed"], active: true, failureCount: 7, secret: "s" };
    expect(failingNotice("w1", hostDoc, { ...hostDoc, ...at(7), hostShape: "api" })).toBeNull();
  });

  it("is nothing for a webhook off or paused, a create, a delete, or a streak that is not a list", () => {
    expect(failingNotice("w1", at(4), at(5, { enabled: false, disabledReason: "manual" }))).toBeNull();
    expect(failingNotice("w1", at(4), at(5, { paused: true }))).toBeNull();
    expect(failingNotice("w1", null, at(5))).toBeNull();
    expect(failingNotice("w1", at(4), null)).toBeNull();
    expect(failingNotice("w1", at(4), at(5, { failStreak: "5" }))).toBeNull();
  });

  it("is sent to the others without the webhook's URL, and renders for Slack, Discord and PagerDuty", () => {
    const notice = failingNotice("w1", at(4), at(5))!;
    expect(notice.streak).toBe("1000:dlv_0:1");
    const payload = failingNoticePayload({ id: "evt_f", site: SITE, notice, at: new Date("2026-12-07T10:00:00Z") });
    expect(payload).toEqual({
      id: "evt_f",
      event: "webhook.failing",
      timestamp: "2026-12-07T10:00:00Z",
      site: SITE,
      data: { webhookId: "w1", webhookName: "Ops receiver", failCount: 5, lastStatus: 503, disabledAfter: 10 },
    });
    expect(JSON.stringify(payload)).not.toContain("hooks.slack.com");
    expect(isSubscribableEventType("webhook.failing")).toBe(true);
    const text = JSON.stringify('Webhook "Ops receiver" of Gallery failed 5 deliveries in a row (last: 503): it is switched off after 10').slice(1, -1);
    expect(JSON.stringify(slackMessage(payload))).toContain(text);
    expect(JSON.stringify(discordMessage(payload))).toContain(text);
    // One PagerDuty incident per streak: a later streak pages again.
    expect(pagerDutyDedupKey(payload)).toBe("owlette/site-a/webhook/w1/failing/evt_f");
    expect(pagerDutyEvent(payload, "rk")).toMatchObject({ event_action: "trigger", dedup_key: "owlette/site-a/webhook/w1/failing/evt_f" });
    expect(renderBody("owlette", JSON.stringify(payload), {})).toBe(JSON.stringify(payload));
  });
});
