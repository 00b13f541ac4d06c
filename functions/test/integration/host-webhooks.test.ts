import { randomBytes } from "node:crypto";
import { getApps, initializeApp } from "firebase-admin/app";
import { FieldValue, getFirestore, Timestamp } from "firebase-admin/firestore";
import { EmissionStore } from "../../src/data/emission-store";
import { ManagementStore } from "../../src/data/management-store";
import { Store } from "../../src/data/store";
import type { DeliveryTask } from "../../src/delivery/task-queue";
import { pickUpStrandedHostReports, STRANDED_AFTER_MS } from "../../src/pipeline/host-reports";
import { paths } from "../../src/data/paths";
import { suiteAgent } from "../../../scripts/lib/agent-auth";
import type { OwletteAgent } from "../../../scripts/lib/owlette-agent";
import type { Receiver } from "../../../scripts/lib/receiver";
import { createHostSenders } from "../../../integrations/owlette-host/webhookSender.server";
import { HOST_DISPLAY_EVENTS, HOST_SENDER_EVENTS } from "../../src/domain/host-vocabulary";
import { call, idToken } from "../support/api-client";
import { runCli } from "../support/cli";
import { silentLog, sleep, startSuite, uniqueId, waitFor } from "../support/emulator";
import { verifyRoostSignature, verifySha256Signature } from "../support/host-verifiers";
import { sweepFromScratch } from "../support/sweep";

// The Owlette host's webhook docs written exactly as its dashboard and public API write them
// (create, PATCH pause / resume / edit, rotation, soft delete), its sender's calls made through
// the drop-in, and what their receivers see, checked by verifiers written from the host's
// documented formats.

jest.setTimeout(180_000);

let store: Store;
let receiver: Receiver;
beforeAll(async () => ({ store, receiver } = await startSuite()));
afterAll(() => receiver.stop());

const ALWAYS_OK = () => 200;
const hostSecret = () => `whsec_${randomBytes(32).toString("hex")}`;

async function hostSite() {
  const siteId = uniqueId("host");
  const admin = `admin-${siteId}`;
  const member = `member-${siteId}`;
  await Promise.all([
    store.db.doc(paths.site(siteId)).set({ name: "Gallery", owner: admin }),
    store.db.doc(paths.user(admin)).set({ role: "admin", sites: [siteId] }),
    store.db.doc(paths.user(member)).set({ role: "member", sites: [siteId] }),
  ]);
  const hooks = store.db.collection(paths.webhooks(siteId));
  const at = (id: string) => receiver.at(`/host/${siteId}/${id}`);
  const url = (id: string) => {
    receiver.register(`/host/${siteId}/${id}`, "unused", ALWAYS_OK);
    return receiver.url(`/host/${siteId}/${id}`);
  };
  /** `POST /api/webhooks`, as the host's route writes the doc (both dashboard surfaces create this way). */
  const createApiDoc = async (id: string, events: string[], secret = hostSecret()) => {
    const target = url(id);
    await hooks.doc(id).set({
      schemaVersion: 1,
      url: target,
      hostname: new URL(target).hostname,
      events,
      description: `Hook ${id}`,
      signingSecret: secret,
      secretRotatedAt: null,
      createdAt: FieldValue.serverTimestamp(),
      updatedAt: FieldValue.serverTimestamp(),
      createdBy: admin,
      paused: false,
      deletedAt: null,
      lastDeliveryAt: null,
      lastDeliveryStatus: null,
      failureCount: 0,
    });
    return secret;
  };
  /** A doc the host's earlier dashboard (v1) wrote. */
  const createV1Doc = async (id: string, events: string[], secret = `v1-${randomBytes(8).toString("hex")}`) => {
    await hooks
      .doc(id)
      .set({ name: `Hook ${id}`, url: url(id), events, enabled: true, secret, createdAt: Timestamp.now(), createdBy: admin, lastStatus: 200, failCount: 0 });
    return secret;
  };
  /** `PATCH /api/webhooks/{id}`: only the fields sent, and `updatedAt`. */
  const patch = (id: string, fields: Record<string, unknown>) => hooks.doc(id).update({ ...fields, updatedAt: FieldValue.serverTimestamp() });
  const doc = async (id: string) => (await hooks.doc(id).get()).data() ?? {};
  const adopted = (id: string) => waitFor(`${id} adopted`, async () => ((await doc(id)).hostShape ? doc(id) : false), 5_000);
  return { siteId, admin, member, hooks, at, createApiDoc, createV1Doc, patch, doc, adopted };
}

/** A deployed agent's crash as the host sees it: the agent's log doc, and its alert handed over by the host's route. */
async function crashSeenByHost(agent: OwletteAgent, senders: ReturnType<typeof createHostSenders>, siteId: string, pid: number) {
  const details = `Process stopped unexpectedly (PID ${pid} no longer running)`;
  await agent.logEvent("process_crash", "error", { processName: "TouchDesigner", details });
  const machineId = agent.machinePath.split("/").pop() as string;
  return senders.fireWebhooks(siteId, "Gallery", "process.crashed", {
    machine: { id: machineId, name: machineId },
    process: { name: "TouchDesigner", error: details },
  });
}

describe("webhook docs the Owlette host writes", () => {
  it("are adopted within seconds of their write, and delivered in the conventions their receivers verify", async () => {
    const site = await hostSite();
    const senders = createHostSenders(store.db);
    const apiSecret = await site.createApiDoc("api", ["machine.offline", "machine.online"]);
    const v1Secret = await site.createV1Doc("v1", ["process.crashed", "machine.offline"]);
    // A public-API doc an admin subscribed to crashes through the pipeline, and two the admin switched to Slack and Discord.
    const apiCrashSecret = await site.createApiDoc("api-crash", ["process.crashed"]);
    await site.createV1Doc("slack", ["process.crashed"]);
    await site.createV1Doc("discord", ["process.crashed"]);
    const api = await site.adopted("api");
    const v1 = await site.adopted("v1");
    await site.adopted("api-crash");
    const admin = await idToken(site.admin);
    for (const format of ["slack", "discord"]) {
      await site.adopted(format);
      const switched = await call("updateWebhook", { siteId: site.siteId, webhookId: format, format }, admin);
      expect(switched.status).toBe(200);
    }
    // Nothing secret is left where members read.
    expect(JSON.stringify(api)).not.toContain(apiSecret);
    expect(JSON.stringify(v1)).not.toContain(v1Secret);
    expect(api).toMatchObject({
      hostShape: "api",
      signatureScheme: "roost",
      format: "owlette_api",
      enabled: true,
      paused: false,
      schemaVersion: 1,
      failureCount: 0,
    });
    expect(v1).toMatchObject({
      hostShape: "dashboard",
      signatureScheme: "owlette_v1",
      format: "owlette_v1",
      enabled: true,
      events: ["process.crashed", "machine.offline"],
    });
    expect((await store.db.doc(paths.webhookSecret(site.siteId, "api")).get()).get("current")).toBe(apiSecret);
    const listed = await call("listWebhooks", { siteId: site.siteId }, await idToken(site.member));
    expect(JSON.stringify(listed.body)).not.toContain(apiSecret);

    // A deployed agent's crash, reported by its log doc and by the host's alert route: one delivery.
    const agent = await suiteAgent(site.siteId, "GALLERY-PC1");
    await agent.heartbeat();
    await expect(crashSeenByHost(agent, senders, site.siteId, 4242)).resolves.toBe(4);
    await waitFor("the crash at every receiver", () => ["v1", "api-crash", "slack", "discord"].every((id) => site.at(id).length >= 1));
    await sleep(2500);
    for (const id of ["v1", "api-crash", "slack", "discord"]) expect(site.at(id)).toHaveLength(1);
    const [roost] = site.at("api-crash");
    expect(verifyRoostSignature(roost?.headers["roost-signature"] as string, roost?.body ?? "", apiCrashSecret)).toBe(true);
    expect(verifyRoostSignature(roost?.headers["roost-signature"] as string, roost?.body ?? "", apiCrashSecret, Math.floor(Date.now() / 1000) + 301)).toBe(
      false,
    );
    expect(roost?.headers["roost-event"]).toBe("process.crashed");
    expect(roost?.payload).toMatchObject({ event: "process.crashed", siteId: site.siteId, data: { machineId: "GALLERY-PC1", processName: "TouchDesigner" } });
    // Slack's and Discord's own bodies.
    const slack = JSON.parse(site.at("slack")[0]?.body ?? "{}");
    expect(slack.text).toContain("TouchDesigner");
    expect(slack.blocks?.[0]).toMatchObject({ type: "header" });
    const discord = JSON.parse(site.at("discord")[0]?.body ?? "{}");
    expect(discord.embeds?.[0]?.title).toEqual(expect.any(String));
    expect(discord.allowed_mentions).toEqual({ parse: [] });
    const [crash] = site.at("v1");
    expect(verifySha256Signature(crash?.headers["x-owlette-signature"] as string, crash?.body ?? "", v1Secret)).toBe(true);
    expect(crash?.headers["x-owlette-event"]).toBe("process.crashed");
    expect(crash?.payload).toMatchObject({
      event: "process.crashed",
      site: { id: site.siteId, name: "Gallery" },
      data: { machine: { id: "GALLERY-PC1" }, process: { name: "TouchDesigner", error: "Process stopped unexpectedly (PID 4242 no longer running)" } },
    });

    // The machine goes silent: machine.offline to both, each in its own convention.
    await store.db.doc(agent.machinePath).update({ lastHeartbeat: Timestamp.fromMillis(Date.now() - 240_000) });
    await sweepFromScratch(store, { staleAfterMs: 60_000 });
    await waitFor("the outage at both receivers", () => site.at("api").length === 1 && site.at("v1").length === 2);
    const [offline] = site.at("api");
    expect(verifyRoostSignature(offline?.headers["roost-signature"] as string, offline?.body ?? "", apiSecret)).toBe(true);
    expect(verifyRoostSignature(offline?.headers["roost-signature"] as string, `${offline?.body} `, apiSecret)).toBe(false);
    expect(offline?.payload).toMatchObject({ event: "machine.offline", siteId: site.siteId, data: { machineId: "GALLERY-PC1", siteId: site.siteId } });
    expect(offline?.payload?.id).toMatch(/^evt_/);
    expect(site.at("v1")[1]?.payload).toMatchObject({ event: "machine.offline", data: { machine: { id: "GALLERY-PC1" } } });
    expect((site.at("v1")[1]?.payload?.data?.machine as { lastSeen?: unknown } | undefined)?.lastSeen).toEqual(expect.any(String));
  });

  it("pause and resume, rotation, an edit and a soft delete written by the host are honoured", async () => {
    const site = await hostSite();
    const senders = createHostSenders(store.db);
    const v1Secret = await site.createV1Doc("v1", ["process.crashed"]);
    await site.adopted("v1");
    const agent = await suiteAgent(site.siteId, "STAGE-PC");
    await agent.heartbeat();

    // Paused in the host's dashboard (the admin list's toggle is PATCH {paused}): nothing is delivered.
    await site.patch("v1", { paused: true });
    await waitFor("the pause taken up", async () => (await site.doc("v1")).enabled === false);
    expect(await site.doc("v1")).toMatchObject({ enabled: false, disabledReason: "paused", paused: true });
    await crashSeenByHost(agent, senders, site.siteId, 1);
    await sleep(4000);
    expect(site.at("v1")).toHaveLength(0);
    // Resumed: delivered again.
    await site.patch("v1", { paused: false });
    await waitFor("the resume taken up", async () => (await site.doc("v1")).enabled === true);
    await crashSeenByHost(agent, senders, site.siteId, 2);
    await waitFor("a crash after the resume", () => site.at("v1").length === 1);
    expect((site.at("v1")[0]?.payload?.data?.process as { error?: string } | undefined)?.error).toContain("PID 2 ");

    // The host rotates (it finds no secret in the doc, so its previousSigningSecret is null): the
    // new secret signs `X-owlette-Signature`, and the replaced one's digest travels beside it in
    // `X-Owlette-Signature-Previous` during the grace (for a receiver updated to check both).
    const rotated = hostSecret();
    await site.patch("v1", {
      signingSecret: rotated,
      previousSigningSecret: null,
      previousSecretValidUntil: Date.now() + 86_400_000,
      secretRotatedAt: FieldValue.serverTimestamp(),
    });
    await waitFor("the rotation taken up", async () => !("signingSecret" in (await site.doc("v1"))));
    await crashSeenByHost(agent, senders, site.siteId, 3);
    await waitFor("a crash after the rotation", () => site.at("v1").length === 2);
    const after = site.at("v1")[1];
    expect(after?.headers["x-owlette-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySha256Signature(after?.headers["x-owlette-signature"] as string, after?.body ?? "", rotated)).toBe(true);
    expect(String(after?.headers["x-owlette-signature-previous"])).toContain(`sha256=`);
    expect(
      String(after?.headers["x-owlette-signature-previous"])
        .split(",")
        .some((v) => verifySha256Signature(v, after?.body ?? "", v1Secret)),
    ).toBe(true);

    // Soft-deleted by the host: nothing more is delivered, and the pipeline's API no longer shows it.
    await site.patch("v1", { deletedAt: FieldValue.serverTimestamp(), tombstoneExpiresAt: Timestamp.fromMillis(Date.now() + 30 * 86_400_000), paused: true });
    await waitFor("the delete taken up", async () => (await site.doc("v1")).enabled === false);
    await crashSeenByHost(agent, senders, site.siteId, 4);
    await sleep(4000);
    expect(site.at("v1")).toHaveLength(2);
    const listed = await call("listWebhooks", { siteId: site.siteId }, await idToken(site.admin));
    expect(listed.body.result.data).toEqual([]);
  });

  it("a failing receiver's health is written in the host's names in the same write as the pipeline's", async () => {
    const site = await hostSite();
    const senders = createHostSenders(store.db);
    await site.createApiDoc("api", ["process.crashed"]);
    receiver.register(`/host/${site.siteId}/api`, "unused", () => 503);
    await site.adopted("api");
    await senders.fireWebhooks(site.siteId, "Gallery", "process.crashed", { machine: { id: "PC-9", name: "PC-9" }, process: { name: "TD", error: "gone" } });
    const doc = await waitFor("the failure recorded", async () => ((await site.doc("api")).failCount === 1 ? site.doc("api") : false));
    expect(doc).toMatchObject({ failCount: 1, failureCount: 1, lastStatus: 503, lastDeliveryStatus: 503 });
    expect(doc).not.toHaveProperty("foreignWrite");
  });

  it("a Slack URL leaves the client-readable doc when the host writes it", async () => {
    const site = await hostSite();
    await site.hooks
      .doc("slack")
      .set({ name: "Slack", url: "https://hooks.slack.com/services/T000/B000/sekrit-token", events: ["machine.offline"], enabled: true, secret: "s1" });
    const doc = await site.adopted("slack");
    expect(doc).toMatchObject({ format: "slack", url: "https://hooks.slack.com/services/…" });
    expect(JSON.stringify(doc)).not.toContain("sekrit-token");
    expect((await store.db.doc(paths.webhookSecret(site.siteId, "slack")).get()).get("url")).toBe("https://hooks.slack.com/services/T000/B000/sekrit-token");
  });

  it("`cli webhooks migrate` adopts docs written before the deploy exactly as the write trigger does", async () => {
    const site = await hostSite();
    const secret = await site.createApiDoc("api", ["machine.offline"]);
    // Whichever runs first (the trigger or the CLI), the same transaction adopts it once.
    const applied = await runCli(["--json", "webhooks", "migrate", "--site", site.siteId, "--apply"]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).not.toContain(secret);
    const doc = await site.adopted("api");
    expect(doc).toMatchObject({ hostShape: "api", signatureScheme: "roost", format: "owlette_api", secretVersion: 1 });
    const again = JSON.parse((await runCli(["--json", "webhooks", "migrate", "--site", site.siteId])).stdout);
    expect(again.webhooks).toEqual([]);
  });
});

describe("the host's senders, replaced by the drop-in", () => {
  it("hands every event the host sends to the pipeline, and refuses an unknown one by name", async () => {
    const site = await hostSite();
    const senders = createHostSenders(store.db);
    const secret = await site.createV1Doc("all", [...HOST_SENDER_EVENTS]);
    await site.adopted("all");
    const agent = await suiteAgent(site.siteId, "KIOSK-01");
    await agent.heartbeat();
    const machine = { id: "KIOSK-01", name: "KIOSK-01" };
    const monitor = { friendlyName: "DELL P2415Q", id: "mon-1", port: "DP-1", edidHash: "e1" };
    // Each as the host's routes call it: its alert route, its offline check, its metric rules, its display routing.
    const calls: [string, Record<string, unknown>, number][] = [
      ["process.crashed", { machine, process: { name: "TouchDesigner", error: "Process stopped unexpectedly (PID 9 no longer running)" } }, 1],
      ["process.restarted", { machine, process: { name: "Unity", error: "file not found" } }, 1],
      ["machine.offline", { machine }, 1],
      ["machine.offline", { machine: { ...machine, lastSeen: new Date(Date.now() - 400_000).toISOString() } }, 1],
      ["machine.online", { machine }, 1],
      ["threshold.breached", { machine, alert: { ruleName: "CPU hot", metric: "cpu", value: 97, threshold: 90, operator: ">", severity: "warning" } }, 1],
      ...HOST_DISPLAY_EVENTS.map((e): [string, Record<string, unknown>, number] => [
        e,
        { machine, monitor, changes: ["resolution.width"], errorMessage: `${e} on DP-1` },
        1,
      ]),
    ];
    for (const [event, data, count] of calls) await expect(senders.fireWebhooks(site.siteId, "Gallery", event, data)).resolves.toBe(count);
    await expect(senders.fireWebhooks(site.siteId, "Gallery", "display.unplugged", { machine })).rejects.toThrow('unknown event "display.unplugged"');
    // The offline check's machine.offline and machine.online are the sweep's to report: 14 deliveries, not 16.
    const expected = ["process.crashed", "process.restarted", "machine.offline", "threshold.breached", ...HOST_DISPLAY_EVENTS].sort();
    await waitFor("every event", () => site.at("all").length >= expected.length, 60_000);
    await sleep(2000);
    const byEvent = Object.fromEntries(site.at("all").map((d) => [d.payload?.event as string, d]));
    expect(
      site
        .at("all")
        .map((d) => d.payload?.event)
        .sort(),
    ).toEqual(expected);
    for (const d of site.at("all")) {
      expect(verifySha256Signature(d.headers["x-owlette-signature"] as string, d.body, secret)).toBe(true);
      expect(d.headers["x-owlette-event"]).toBe(d.payload?.event);
    }
    expect(byEvent["process.restarted"]?.payload?.data).toMatchObject({ machine: { id: "KIOSK-01" }, process: { name: "Unity", error: "file not found" } });
    // A connection failure, as the host sent it: machine.offline with the machine alone.
    expect(byEvent["machine.offline"]?.payload?.data).toEqual({ machine: { id: "KIOSK-01", name: "KIOSK-01" } });
    expect(byEvent["threshold.breached"]?.payload?.data).toMatchObject({ machine: { id: "KIOSK-01" }, alert: { ruleName: "CPU hot", value: 97 } });
    expect(byEvent["display.drift"]?.payload?.data).toMatchObject({
      machine: { id: "KIOSK-01" },
      monitor: { friendlyName: "DELL P2415Q" },
      changes: ["resolution.width"],
    });
    // Each is kept in the delivery history like every event, under the pipeline's names.
    const deliveries = await store.db.collection(paths.deliveries(site.siteId, "all")).get();
    expect(deliveries.docs.map((d) => d.get("eventType")).sort()).toEqual(
      ["process.crashed", "process.start_failed", "connection_failure", "threshold.breached", ...HOST_DISPLAY_EVENTS].sort(),
    );
  });

  it("the test button goes through the pipeline, signed with the webhook's own secret", async () => {
    const site = await hostSite();
    const senders = createHostSenders(store.db);
    const secret = await site.createV1Doc("test", ["process.crashed"]);
    await site.adopted("test");
    // The host's route passes the doc's secret: gone from the doc now, so undefined.
    const byId = await senders.testWebhook(receiverUrl(site.siteId, "test"), undefined, { siteId: site.siteId, webhookId: "test" });
    expect(byId).toEqual({ status: 200 });
    const byUrl = await senders.testWebhook(receiverUrl(site.siteId, "test"), undefined);
    expect(byUrl).toEqual({ status: 200 });
    await waitFor("two tests", () => site.at("test").length === 2);
    for (const d of site.at("test")) {
      expect(d.headers["x-owlette-event"]).toBe("test");
      expect(verifySha256Signature(d.headers["x-owlette-signature"] as string, d.body, secret)).toBe(true);
    }
    expect(await site.doc("test")).toMatchObject({ lastStatus: 200 });
  });

  it("an event handed over while no trigger ran (the drop-in deployed before the pipeline) is picked up by the sweep, once", async () => {
    // A project of its own on the same emulator: no trigger of the suite fires there, as before a deploy.
    const app = getApps().find((a) => a.name === "stranded") ?? initializeApp({ projectId: "demo-owlette-stranded" }, "stranded");
    const db = getFirestore(app);
    const enqueued: DeliveryTask[] = [];
    const deps = {
      store: new Store(db),
      emissions: new EmissionStore(db),
      enqueue: async (task: DeliveryTask) => {
        enqueued.push(task);
        return "enqueued" as const;
      },
      now: () => new Date(),
      log: silentLog,
    };
    const siteId = uniqueId("stranded");
    await db.doc(paths.site(siteId)).set({ name: "Gallery", owner: "o" });
    const { id: webhookId } = await new ManagementStore(db).createWebhook(siteId, {
      name: "Ops",
      url: "https://ops.example.com/in",
      events: ["process.crashed"],
      createdBy: "t",
    });
    const senders = createHostSenders(db);
    const machine = { id: "PC-1", name: "PC-1" };
    await senders.fireWebhooks(siteId, "Gallery", "process.crashed", {
      machine,
      process: { name: "TD", error: "Process stopped unexpectedly (PID 7 no longer running)" },
    });
    await senders.fireWebhooks(siteId, "Gallery", "machine.offline", { machine: { ...machine, lastSeen: new Date().toISOString() } });
    const reports = db.collection(paths.hostReports(siteId));
    expect((await reports.get()).size).toBe(2);
    // Not yet stranded: a trigger may still be on it.
    expect(await pickUpStrandedHostReports(deps, new Date())).toBe(0);
    const later = new Date(Date.now() + STRANDED_AFTER_MS + 1_000);
    expect(await pickUpStrandedHostReports(deps, later)).toBe(2);
    expect(enqueued.map((t) => `${t.webhookId} ${t.event?.type}`)).toEqual([`${webhookId} process.crashed`]);
    expect((await reports.get()).size).toBe(0);
    // The same report again (its trigger ran late after all): recognised, not sent twice.
    const [first] = enqueued;
    await reports.doc("again").set({
      event: "process.crashed",
      siteName: "Gallery",
      data: { machine, process: { name: "TD", error: "Process stopped unexpectedly (PID 7 no longer running)" } },
      reportedAt: Timestamp.fromMillis(Date.now() - 600_000),
    });
    expect(await pickUpStrandedHostReports(deps, later)).toBe(1);
    // Its event is not made again; its delivery is enqueued again (a report sent again may follow
    // a handling that failed before its enqueue), under the same id and without the webhook's
    // read, so the attempt looks for its record first: one made stands.
    expect(new Set(enqueued.map((t) => t.eventId))).toEqual(new Set([first?.eventId]));
    expect(new Set(enqueued.map((t) => t.deliveryId)).size).toBe(1);
    expect(enqueued.slice(1).every((t) => t.webhook === undefined && t.attempt === 1)).toBe(true);
    expect(first?.eventId).toBeDefined();
  });

  it("another sender still writing an adopted doc is noticed, reported and undone", async () => {
    const site = await hostSite();
    await site.createV1Doc("v1", ["process.crashed"]);
    const before = await site.adopted("v1");
    // The host's fireWebhooks before its cutover: no `secret` in the doc, its HMAC throws, its catch writes this.
    await site.hooks.doc("v1").update({ lastTriggered: new Date(), lastStatus: 0, failCount: (before.failCount as number) + 1 });
    const doc = await waitFor("the foreign write noticed", async () => ((await site.doc("v1")).foreignWrite ? site.doc("v1") : false), 10_000);
    expect(doc).toMatchObject({
      failCount: 0,
      lastStatus: 200,
      foreignWrite: { fields: expect.arrayContaining(["failCount", "lastStatus", "lastTriggered"]), count: 1 },
    });
    const view = await call("getWebhook", { siteId: site.siteId, webhookId: "v1" }, await idToken(site.admin));
    expect(view.body.result.webhook.foreignWrite).toMatchObject({ count: 1 });
  });
});

function receiverUrl(siteId: string, id: string): string {
  return receiver.url(`/host/${siteId}/${id}`);
}
