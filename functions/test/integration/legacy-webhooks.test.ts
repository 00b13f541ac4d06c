import { Timestamp } from "firebase-admin/firestore";
import { crashProcess } from "../../../scripts/lib/agents";
import { paths } from "../../src/data/paths";
import type { Store } from "../../src/data/store";
import type { Receiver } from "../../../scripts/lib/receiver";
import { call, idToken } from "../support/api-client";
import { runCli } from "../support/cli";
import { sleep, startSuite, uniqueId, waitFor } from "../support/emulator";

// Webhook docs that deployed Owlette projects already hold: never skipped silently before the
// migration, moved by `cli webhooks migrate` (a dry run first), delivered after it.

jest.setTimeout(120_000);

let store: Store;
let receiver: Receiver;
beforeAll(async () => ({ store, receiver } = await startSuite()));
afterAll(() => receiver.stop());

const crash = (siteId: string, processId: string) =>
  crashProcess(store.db, { siteId, machineId: "m1", processId }, { name: "TouchDesigner", errorMessage: `crash ${processId}` });

describe("webhook docs an earlier Owlette wrote", () => {
  it("are flagged instead of skipped silently, migrated by the CLI after a dry run, then delivered with the secret receivers already have", async () => {
    const siteId = uniqueId("legacy");
    const admin = `admin-${siteId}`;
    await store.db.doc(paths.site(siteId)).set({ name: "Legacy", owner: admin });
    await store.db.doc(paths.user(admin)).set({ role: "admin", sites: [siteId] });
    const hooks = store.db.collection(paths.webhooks(siteId));
    // The dashboard (v1) shape and the public API shape, active, paused and deleted.
    await hooks.doc("v1").set({
      name: "Ops",
      url: receiver.url(`/legacy/${siteId}/v1`),
      events: ["process.crashed"],
      enabled: true,
      secret: "v1-legacy-secret",
      createdAt: Timestamp.now(),
      createdBy: admin,
      lastStatus: 200,
      failCount: 0,
      lastTriggered: "2025-06-01T00:00:00Z",
    });
    await hooks.doc("api").set({
      url: receiver.url(`/legacy/${siteId}/api`),
      events: ["process.crashed"],
      description: "Bridge",
      paused: false,
      signingSecret: "api-legacy-secret",
      failureCount: 3,
      deletedAt: null,
    });
    await hooks.doc("paused").set({ url: receiver.url(`/legacy/${siteId}/paused`), events: ["process.crashed"], paused: true, signingSecret: "s" });
    await hooks
      .doc("deleted")
      .set({ url: receiver.url(`/legacy/${siteId}/deleted`), events: ["process.crashed"], paused: false, signingSecret: "s", deletedAt: Timestamp.now() });
    for (const [id, secret] of [
      ["v1", "v1-legacy-secret"],
      ["api", "api-legacy-secret"],
      ["paused", "s"],
      ["deleted", "s"],
    ]) {
      receiver.register(`/legacy/${siteId}/${id}`, secret as string);
    }
    const received = (id: string) => receiver.at(`/legacy/${siteId}/${id}`);
    const doc = async (id: string) => (await hooks.doc(id).get()).data();

    // Before the migration: an event shows on the two active docs why nothing is delivered.
    await crash(siteId, "p1");
    await waitFor("the flags", async () => (await doc("v1"))?.disabledReason === "needs_migration" && (await doc("api"))?.disabledReason === "needs_migration");
    // enabled stays as the earlier Owlette wrote it: it may still deliver from this doc meanwhile.
    expect(await doc("v1")).toMatchObject({ enabled: true, disabledReason: "needs_migration", secret: "v1-legacy-secret" });
    expect(await doc("paused")).not.toHaveProperty("disabledReason");
    expect(await doc("deleted")).not.toHaveProperty("disabledReason");
    // The management API refuses to change one until it is migrated.
    const refused = await call("enableWebhook", { siteId, webhookId: "v1" }, await idToken(admin));
    expect(refused.body.error).toMatchObject({ status: "FAILED_PRECONDITION", details: { code: "conflict" } });
    expect(refused.body.error?.message).toContain("webhooks migrate");

    // The dry run says what it would do and writes nothing.
    const dry = await runCli(["--json", "webhooks", "migrate", "--site", siteId]);
    expect(dry.code).toBe(0);
    const planned = JSON.parse(dry.stdout);
    expect(planned.dryRun).toBe(true);
    expect(planned.webhooks.map((w: { webhook: string; action: string; enabled: boolean }) => `${w.webhook} ${w.action} ${w.enabled}`).sort()).toEqual([
      "api migrate true",
      "deleted delete false",
      "paused migrate false",
      "v1 migrate true",
    ]);
    expect(dry.stdout).not.toContain("legacy-secret");
    expect(await doc("v1")).toHaveProperty("secret", "v1-legacy-secret");

    const applied = await runCli(["--json", "webhooks", "migrate", "--site", siteId, "--apply"]);
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout).webhooks.every((w: { applied: boolean }) => w.applied)).toBe(true);
    const v1 = await doc("v1");
    expect(v1).toMatchObject({ enabled: true, disabledReason: null, signatureScheme: "sha256", format: "owlette", failCount: 0, events: ["process.crashed"] });
    expect(v1).not.toHaveProperty("secret");
    expect(v1).not.toHaveProperty("needsMigrationSince");
    expect((v1?.lastDeliveryAt as Timestamp).toMillis()).toBe(Date.parse("2025-06-01T00:00:00Z"));
    expect(await doc("api")).toMatchObject({ name: "Bridge", enabled: true, failCount: 3, signatureScheme: "sha256" });
    expect(await doc("api")).not.toHaveProperty("signingSecret");
    expect(await doc("paused")).toMatchObject({ enabled: false, disabledReason: "paused" });
    expect(await doc("deleted")).toBeUndefined();
    expect((await store.db.doc(paths.webhookSecret(siteId, "v1")).get()).get("current")).toBe("v1-legacy-secret");

    // After it: delivered, signed sha256=<hex> with the secret the receiver already had.
    await crash(siteId, "p2");
    await waitFor("both deliveries", () => received("v1").length === 1 && received("api").length === 1);
    await sleep(2000);
    for (const id of ["v1", "api"]) {
      const [delivery] = received(id);
      expect(delivery?.verified).toBe(true);
      expect(delivery?.headers["x-owlette-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
    }
    expect(received("paused")).toHaveLength(0);
    expect(received("deleted")).toHaveLength(0);

    // A second run finds nothing left to do.
    const again = JSON.parse((await runCli(["--json", "webhooks", "migrate", "--site", siteId])).stdout);
    expect(again.webhooks).toEqual([]);
  });

  it("moves a Slack webhook's URL (its token) out of the client-readable doc", async () => {
    const siteId = uniqueId("legacy-slack");
    await store.db.doc(paths.webhook(siteId, "slack")).set({
      name: "Slack",
      url: "https://hooks.slack.com/services/T000/B000/sekrit-token",
      events: ["machine.offline"],
      enabled: true,
      secret: "slack-legacy-secret",
    });
    const applied = await runCli(["--json", "webhooks", "migrate", "--site", siteId, "--apply"]);
    expect(applied.code).toBe(0);
    const data = (await store.db.doc(paths.webhook(siteId, "slack")).get()).data();
    expect(data).toMatchObject({ format: "slack", enabled: true });
    expect(JSON.stringify(data)).not.toContain("sekrit-token");
    expect((await store.db.doc(paths.webhookSecret(siteId, "slack")).get()).get("url")).toBe("https://hooks.slack.com/services/T000/B000/sekrit-token");
  });
});
