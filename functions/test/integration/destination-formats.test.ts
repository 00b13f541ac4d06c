import { FieldValue } from "firebase-admin/firestore";
import { paths } from "../../src/data/paths";
import type { Store } from "../../src/data/store";
import type { Receiver } from "../../../scripts/lib/receiver";
import { call, idToken, rest } from "../support/api-client";
import { hoursAgo, startSuite, uniqueId, waitFor } from "../support/emulator";
import { sweepOne } from "../support/sweep";

jest.setTimeout(90_000);

let store: Store;
let receiver: Receiver;

beforeAll(async () => ({ store, receiver } = await startSuite()));
afterAll(() => receiver.stop());

const ROUTING_KEY = "R0UTINGKEY0123456789abcdef012345";

async function siteWithKey() {
  const siteId = uniqueId("fmt");
  const admin = `admin-${siteId}`;
  await store.db.doc(paths.site(siteId)).set({ name: "Formats Site", owner: admin });
  await store.db.doc(paths.user(admin)).set({ role: "admin", sites: [siteId] });
  const key = (await call("createApiKey", { siteId, name: "fmt", access: "write" }, await idToken(admin))).body.result.key as string;
  return { siteId, key };
}

async function hook(site: { siteId: string; key: string }, format: string, events: string[], extra: Record<string, unknown> = {}) {
  const path = `/fmt/${format}/${site.siteId}`;
  const res = await rest("POST", "/v1/webhooks", { key: site.key, body: { name: format, url: receiver.url(path), events, format, ...extra } });
  expect(res.status).toBe(201);
  receiver.register(path, res.body.secret, () => (format === "pagerduty" ? 202 : 200));
  return { id: res.body.webhook.id as string, path, webhook: res.body.webhook };
}

describe("native destination formats on local receivers", () => {
  it("sends a crash as a Slack message, a Discord message and a PagerDuty trigger", async () => {
    const site = await siteWithKey();
    const slack = await hook(site, "slack", ["process.crashed"]);
    const discord = await hook(site, "discord", ["process.crashed"]);
    const pd = await hook(site, "pagerduty", ["process.crashed"], { routingKey: ROUTING_KEY });
    expect(pd.webhook.format).toBe("pagerduty");
    // Slack and Discord URLs carry their token: shown redacted, kept server-side.
    expect(slack.webhook.url).toBe(`${new URL(receiver.url(slack.path)).origin}/…`);
    const stored = (await store.db.doc(paths.webhook(site.siteId, slack.id)).get()).get("url");
    expect(stored).toBe(slack.webhook.url);
    expect(JSON.stringify((await rest("GET", "/v1/webhooks", { key: site.key })).body)).not.toContain(slack.path);

    const ref = store.db.doc(`${paths.machine(site.siteId, "m1")}/processes/td`);
    await store.db.doc(paths.machine(site.siteId, "m1")).set({ name: "Gallery PC 1" });
    await ref.set({ name: "TouchDesigner", status: "running" });
    await ref.set({ name: "TouchDesigner", status: "crashed", exitCode: 3, updatedAt: FieldValue.serverTimestamp() });
    await waitFor("all three destinations", () => [slack, discord, pd].every((h) => receiver.at(h.path).length === 1));

    const [s] = receiver.at(slack.path);
    expect(s?.payload).toMatchObject({ text: "🔴 TouchDesigner crashed on Gallery PC 1 (Formats Site)" });
    expect((s?.payload as unknown as { blocks: { type: string }[] }).blocks.map((b) => b.type)).toEqual(["header", "section", "context"]);
    const [d] = receiver.at(discord.path);
    expect(d?.payload).toMatchObject({ content: expect.stringContaining("**Process crashed**"), allowed_mentions: { parse: [] } });
    expect((d?.payload as unknown as { embeds: unknown[] }).embeds).toHaveLength(1);
    const [p] = receiver.at(pd.path);
    expect(p?.payload).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: "trigger",
      dedup_key: `owlette/${site.siteId}/m1/process/td`,
      payload: { severity: "error", source: "Gallery PC 1", class: "process.crashed" },
    });
    // Switching the format back keeps the URL a credential (it was one); only a new URL shows.
    const back = await rest("PATCH", `/v1/webhooks/${discord.id}`, { key: site.key, body: { format: "owlette" } });
    expect(back.body.webhook).toMatchObject({ format: "owlette", url: `${new URL(receiver.url(discord.path)).origin}/…` });
    const replaced = await rest("PATCH", `/v1/webhooks/${discord.id}`, { key: site.key, body: { url: receiver.url(`${discord.path}-new`) } });
    expect(replaced.body.webhook).toMatchObject({ format: "owlette", url: receiver.url(`${discord.path}-new`) });
    // Signed like any delivery, and the 202 PagerDuty answers counts as delivered.
    expect([s, d, p].every((x) => x?.verified)).toBe(true);
    const [record] = (await store.db.collection(paths.deliveries(site.siteId, pd.id)).get()).docs.map((x) => x.data());
    expect(record?.status).toBe("succeeded");
  });

  it("resolves the PagerDuty incident of a machine when it comes back online", async () => {
    const site = await siteWithKey();
    const pd = await hook(site, "pagerduty", ["machine.offline", "machine.online"], { routingKey: ROUTING_KEY });
    const ref = store.db.doc(paths.machine(site.siteId, "kiosk"));
    await ref.set({ online: true, machineId: "kiosk", name: "Kiosk", lastHeartbeat: hoursAgo(1) });
    expect(await sweepOne(store, ref)).toBe("mark");
    await waitFor("the trigger", () => receiver.at(pd.path).length === 1);
    await ref.set({ online: true, lastHeartbeat: FieldValue.serverTimestamp() }, { merge: true });
    await waitFor("the resolve", () => receiver.at(pd.path).length === 2);
    const [trigger, resolve] = receiver.at(pd.path).map((x) => x.payload as unknown as { event_action: string; dedup_key: string });
    expect(trigger).toMatchObject({ event_action: "trigger", dedup_key: `owlette/${site.siteId}/kiosk/offline` });
    expect(resolve).toEqual({ routing_key: ROUTING_KEY, event_action: "resolve", dedup_key: trigger?.dedup_key });
  });

  it("requires the routing key for pagerduty and never shows it", async () => {
    const site = await siteWithKey();
    const missing = await rest("POST", "/v1/webhooks", {
      key: site.key,
      body: { name: "pd", url: "https://events.pagerduty.com/v2/enqueue", events: ["machine.offline"], format: "pagerduty" },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toContainEqual({ path: "routingKey", reason: expect.stringMatching(/required with format pagerduty/) });
    const pd = await hook(site, "pagerduty", ["machine.offline"], { routingKey: ROUTING_KEY });
    const shown = [await rest("GET", `/v1/webhooks/${pd.id}`, { key: site.key }), await rest("GET", "/v1/webhooks", { key: site.key })];
    for (const res of shown) expect(JSON.stringify(res.body)).not.toContain(ROUTING_KEY);
    expect(JSON.stringify((await store.db.doc(paths.webhook(site.siteId, pd.id)).get()).data())).not.toContain(ROUTING_KEY);
    const tested = await rest("POST", `/v1/webhooks/${pd.id}/test`, { key: site.key });
    expect(tested.body.result).toMatchObject({ ok: true, status: 202 });
    expect(receiver.at(pd.path)[0]?.payload).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: "trigger",
      payload: { severity: "info", class: "webhook.test" },
    });
  });
});
