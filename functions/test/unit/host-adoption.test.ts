import { planUpkeep, REMOVE, upkeepNeeded, type SecretState, type UpkeepPlan } from "../../src/domain/host-adoption";
import { formatFromUrl, needsAdoption, webhookShape } from "../../src/domain/webhook-shape";

// The Owlette host's webhook docs as its dashboard (v1) and its public API write them, and what
// the pipeline makes of each write: written here from the host's documented fields.

const NOW = Date.parse("2026-12-07T12:00:00Z");
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
  schemaVersion: 1,
  url: "https://hooks.example.com/in",
  hostname: "hooks.example.com",
  events: ["machine.offline", "machine.online"],
  description: "Pager bridge",
  signingSecret: "whsec_host_1",
  secretRotatedAt: null,
  paused: false,
  deletedAt: null,
  lastDeliveryAt: null,
  lastDeliveryStatus: null,
  failureCount: 0,
};
const ours = { name: "New", url: "https://x.example", events: ["process.crashed"], enabled: true, failCount: 0, failStreak: [], signatureScheme: "owlette" };

let made = 0;
const plan = (
  doc: Record<string, unknown>,
  opts: { before?: Record<string, unknown> | null; written?: Record<string, unknown> | null; secret?: SecretState | null } = {},
) =>
  planUpkeep({
    doc,
    before: opts.before ?? null,
    written: opts.written ?? null,
    secret: opts.secret ?? null,
    nowMs: NOW,
    generateSecret: () => `whsec_made_${++made}`,
  });

/** The doc after a plan, as the data layer writes it. */
function apply(doc: Record<string, unknown>, p: UpkeepPlan | null): Record<string, unknown> {
  const out = { ...doc };
  for (const [k, v] of Object.entries(p?.webhook ?? {})) {
    if (v === REMOVE) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Adopts a host doc; returns the adopted doc and its secret doc. */
function adopt(doc: Record<string, unknown>) {
  const p = plan(doc);
  return { doc: apply(doc, p), secret: p?.secret ?? null, plan: p };
}

describe("webhook docs of the host, told apart", () => {
  it("by their fields, before and after adoption", () => {
    expect(needsAdoption(v1)).toBe(true);
    expect(needsAdoption(publicApi)).toBe(true);
    expect(needsAdoption(ours)).toBe(false);
    expect(webhookShape(ours)).toBe("deliverable");
    expect(webhookShape({ ...ours, enabled: false })).toBe("off");
    expect(webhookShape({ ...ours, paused: true })).toBe("off");
    expect(webhookShape(v1)).toBe("legacy_active");
    expect(webhookShape(publicApi)).toBe("legacy_active");
    expect(webhookShape({ ...publicApi, paused: true })).toBe("off");
    expect(webhookShape({ ...publicApi, deletedAt: "2025-07-01T00:00:00Z" })).toBe("off");
    expect(webhookShape({ ...v1, enabled: false })).toBe("off");
    expect(webhookShape(adopt(v1).doc)).toBe("deliverable");
    expect(webhookShape(adopt(publicApi).doc)).toBe("deliverable");
  });
  it("Slack and Discord URLs get their native format, as the host's sender picked it", () => {
    expect(formatFromUrl("https://hooks.slack.com/services/T/B/X")).toBe("slack");
    expect(formatFromUrl("https://discord.com/api/webhooks/1/abc")).toBe("discord");
    expect(formatFromUrl("https://example.com/api/webhooks/1")).toBe("owlette");
    expect(formatFromUrl("not a url")).toBe("owlette");
  });
});

describe("adoption", () => {
  it("a dashboard (v1) doc: its secret server-only, its receivers' scheme and body, its fields and event names kept", () => {
    const { doc, secret, plan: p } = adopt(v1);
    expect(p?.findings).toEqual(expect.arrayContaining(["adopted", "secret_moved"]));
    expect(secret).toEqual({ current: "legacy-secret-1", previous: [] });
    expect(doc).not.toHaveProperty("secret");
    expect(doc).toMatchObject({
      hostShape: "dashboard",
      name: "Ops",
      events: v1.events,
      enabled: true,
      disabledReason: null,
      failCount: 2,
      lastStatus: 200,
      signatureScheme: "owlette_v1",
      format: "owlette_v1",
      method: "POST",
      createdBy: "uid-1",
      secretVersion: 1,
    });
    expect(doc.failStreak).toHaveLength(2);
    expect((doc.lastDeliveryAt as Date).toISOString()).toBe("2025-06-01T00:00:00.000Z");
    // The host's dashboard reads `lastTriggered`: kept, equal to the pipeline's own time.
    expect((doc.lastTriggered as Date).toISOString()).toBe("2025-06-01T00:00:00.000Z");
    expect(plan(doc, { secret })).toBeNull();
  });

  it("a public API doc: paused, failureCount and lastDeliveryStatus mapped, Roost-Signature and the API envelope", () => {
    const { doc, secret } = adopt({ ...publicApi, failureCount: 3, lastDeliveryStatus: 500, lastDeliveryAt: "2025-06-02T00:00:00Z" });
    expect(secret?.current).toBe("whsec_host_1");
    expect(doc).not.toHaveProperty("signingSecret");
    expect(doc).toMatchObject({
      hostShape: "api",
      name: "Pager bridge",
      description: "Pager bridge",
      enabled: true,
      failCount: 3,
      failureCount: 3,
      lastStatus: 500,
      lastDeliveryStatus: 500,
      signatureScheme: "roost",
      format: "owlette_api",
      paused: false,
      schemaVersion: 1,
      hostname: "hooks.example.com",
    });
    expect(doc).not.toHaveProperty("lastTriggered");
    expect(plan(doc, { secret })).toBeNull();
  });

  it("a paused or soft-deleted doc is adopted off; a doc without a secret gets one, said once", () => {
    expect(adopt({ ...publicApi, paused: true }).doc).toMatchObject({ enabled: false, disabledReason: "paused" });
    expect(adopt({ ...publicApi, deletedAt: "2025-07-01T00:00:00Z", paused: true }).doc).toMatchObject({ enabled: false });
    expect(adopt({ ...v1, enabled: false }).doc).toMatchObject({ enabled: false, disabledReason: "manual" });
    const { signingSecret: _s, ...bare } = publicApi;
    const p = plan(bare);
    expect(p?.newSecret).toBe(true);
    expect(p?.secret?.current).toMatch(/^whsec_made_/);
  });

  it("a doc an earlier version flagged `needs_migration` is delivered to once adopted", () => {
    const { doc } = adopt({ ...v1, disabledReason: "needs_migration", needsMigrationSince: "2026-01-01T00:00:00Z" });
    expect(doc).toMatchObject({ enabled: true, disabledReason: null });
    expect(doc).not.toHaveProperty("needsMigrationSince");
  });

  it("a Slack URL (its token) leaves the client-readable doc; the host's Slack webhooks get Slack's format", () => {
    const { doc, secret } = adopt({ ...v1, url: "https://hooks.slack.com/services/T0/B0/tok" });
    expect(doc.url).toBe("https://hooks.slack.com/services/…");
    expect(doc.format).toBe("slack");
    expect(secret?.url).toBe("https://hooks.slack.com/services/T0/B0/tok");
    expect(plan(doc, { secret })).toBeNull();
  });
});

describe("the host's later writes", () => {
  const adopted = adopt(publicApi);

  it("a rotation: the new secret signs, the one it replaced keeps signing until previousSecretValidUntil", () => {
    const validUntil = NOW + 24 * 3_600_000;
    // The host reads `signingSecret` from the doc to fill previousSigningSecret: adopted, it finds none.
    const written = { ...adopted.doc, signingSecret: "whsec_host_2", previousSigningSecret: null, previousSecretValidUntil: validUntil };
    const p = plan(written, { secret: adopted.secret, before: adopted.doc, written });
    expect(p?.findings).toContain("rotated");
    expect(p?.secret).toEqual({ current: "whsec_host_2", previous: [{ secret: "whsec_host_1", expiresAtMs: validUntil }] });
    const doc = apply(written, p);
    expect(doc).not.toHaveProperty("signingSecret");
    expect(doc).not.toHaveProperty("previousSigningSecret");
    expect(doc.previousSecretValidUntil).toBe(validUntil);
    expect(doc.secretVersion).toBe((adopted.doc.secretVersion as number) + 1);
  });

  it("two rotations before the trigger ran: the secret handed out in between keeps signing too", () => {
    const validUntil = NOW + 24 * 3_600_000;
    const written = { ...adopted.doc, signingSecret: "whsec_host_3", previousSigningSecret: "whsec_host_2", previousSecretValidUntil: validUntil };
    const p = plan(written, { secret: adopted.secret, before: adopted.doc, written });
    expect(p?.secret?.current).toBe("whsec_host_3");
    expect(p?.secret?.previous.map((x) => x.secret).sort()).toEqual(["whsec_host_1", "whsec_host_2"]);
  });

  it("pause and resume in the host's dashboard stop and restart deliveries", () => {
    const paused = { ...adopted.doc, paused: true };
    const p1 = plan(paused, { before: adopted.doc, written: paused, secret: adopted.secret });
    expect(p1?.findings).toEqual(["paused"]);
    const off = apply(paused, p1);
    expect(off).toMatchObject({ enabled: false, disabledReason: "paused", paused: true });
    expect(webhookShape(off)).toBe("off");
    // The trigger of its own write finds nothing more to do.
    expect(plan(off, { before: paused, written: off, secret: adopted.secret })).toBeNull();
    const resumed = { ...off, paused: false };
    const on = apply(resumed, plan(resumed, { before: off, written: resumed, secret: adopted.secret }));
    expect(on).toMatchObject({ enabled: true, disabledReason: null, failCount: 0, failStreak: [], paused: false });
    expect(webhookShape(on)).toBe("deliverable");
  });

  it("paused stops deliveries whatever enabled says, even before the trigger ran", () => {
    expect(webhookShape({ ...adopted.doc, paused: true, enabled: true })).toBe("off");
  });

  it("a pause, disable or enable by the pipeline is shown as `paused`, which the host's API reads", () => {
    const disabled = { ...adopted.doc, enabled: false, disabledReason: "auto" };
    const p = plan(disabled, { before: adopted.doc, written: disabled, secret: adopted.secret });
    expect(p?.webhook).toEqual({ paused: true });
    const shown = apply(disabled, p);
    expect(plan(shown, { before: disabled, written: shown, secret: adopted.secret })).toBeNull();
    const enabled = { ...shown, enabled: true, disabledReason: null, failCount: 0, failStreak: [] };
    expect(plan(enabled, { before: shown, written: enabled, secret: adopted.secret })?.webhook).toEqual({ paused: false });
  });

  it("a URL edit: a new Slack URL moves server-side with Slack's format; a plain URL replaces the kept credential", () => {
    const edited = { ...adopted.doc, url: "https://hooks.slack.com/services/T/B/new", hostname: "hooks.slack.com" };
    const p = plan(edited, { before: adopted.doc, written: edited, secret: adopted.secret });
    const slack = apply(edited, p);
    expect(slack).toMatchObject({ url: "https://hooks.slack.com/services/…", format: "slack" });
    expect(p?.secret?.url).toBe("https://hooks.slack.com/services/T/B/new");
    const back = { ...slack, url: "https://hooks.example.com/again" };
    const p2 = plan(back, { before: slack, written: back, secret: p?.secret ?? null });
    expect(apply(back, p2)).toMatchObject({ url: "https://hooks.example.com/again", format: "owlette_api" });
    expect(p2?.secret).toEqual({ current: "whsec_host_1", previous: [] });
  });

  it("an admin's format choice is not undone by a URL edit", () => {
    const chosen = { ...adopted.doc, format: "owlette" };
    const edited = { ...chosen, url: "https://elsewhere.example.com/in" };
    const p = plan(edited, { before: chosen, written: edited, secret: adopted.secret });
    expect(p?.webhook.format).toBeUndefined();
  });
});

describe("another sender writing the doc (the host's fireWebhooks, before its cutover)", () => {
  const adopted = adopt(v1);
  const healthy = {
    ...adopted.doc,
    failCount: 0,
    failStreak: [],
    lastStatus: 200,
    lastDeliveryAt: new Date(NOW - 60_000),
    lastTriggered: new Date(NOW - 60_000),
  };

  it("its failure count and status 0 are undone, and the doc says so", () => {
    const written = { ...healthy, failCount: 1, lastStatus: 0, lastTriggered: new Date(NOW - 1_000) };
    expect(upkeepNeeded(healthy, written)).toBe(true);
    const p = plan(written, { before: healthy, written, secret: adopted.secret });
    expect(p?.findings).toContain("foreign_write");
    const doc = apply(written, p);
    expect(doc).toMatchObject({ failCount: 0, lastStatus: 200 });
    expect((doc.lastTriggered as Date).getTime()).toBe(NOW - 60_000);
    expect(doc.foreignWrite).toEqual({ at: new Date(NOW), fields: ["lastTriggered", "lastStatus", "failCount"], count: 1 });
  });

  it("its switch-off at its tenth failure is undone: the pipeline's own count says otherwise", () => {
    const written = { ...healthy, failCount: 10, lastStatus: 0, enabled: false, lastTriggered: new Date(NOW) };
    const doc = apply(written, plan(written, { before: healthy, written, secret: adopted.secret }));
    expect(doc).toMatchObject({ enabled: true, failCount: 0 });
  });

  it("its switch-off of a public API doc is undone too, and never shown to the host as a pause", () => {
    const api = { ...adopt(publicApi).doc, failCount: 9, failStreak: Array.from({ length: 9 }, (_, i) => `k${i}`) };
    const written = { ...api, failCount: 10, lastStatus: 0, enabled: false, lastTriggered: new Date(NOW) };
    const doc = apply(written, plan(written, { before: api, written }));
    expect(doc).toMatchObject({ enabled: true, paused: false, failCount: 9, failureCount: 9 });
    expect(plan(doc, { before: written, written: doc })).toBeNull();
    expect(webhookShape(doc)).toBe("deliverable");
  });

  it("on a public API doc, its `lastTriggered` (a send that never happened) is removed", () => {
    const api = adopt(publicApi).doc;
    const written = { ...api, failCount: 1, lastStatus: 0, lastTriggered: new Date(NOW) };
    const doc = apply(written, plan(written, { before: api, written }));
    expect(doc).not.toHaveProperty("lastTriggered");
    expect(doc).toMatchObject({ failCount: 0, failureCount: 0 });
  });

  it("the pipeline's own docs are guarded too; its routine writes cost nothing", () => {
    const written = { ...ours, failCount: 1, lastStatus: 0, lastTriggered: new Date(NOW) };
    expect(apply(written, plan(written, { before: ours, written }))).toMatchObject({ failCount: 0, lastStatus: null });
    const failed = { ...ours, failCount: 1, failStreak: ["k"], lastStatus: 503 };
    expect(upkeepNeeded(ours, failed)).toBe(false);
  });

  it("the pipeline's own failure on a dashboard doc (which stamps lastTriggered too) is never taken for another sender's", () => {
    const dash = { ...adopt(v1).doc, failCount: 5, failStreak: [] as string[] };
    const at = new Date(NOW);
    const failed = { ...dash, failCount: 6, failStreak: ["k"], lastStatus: 503, lastDeliveryAt: at, lastTriggered: at };
    expect(upkeepNeeded(dash, failed)).toBe(false);
    expect(plan(failed, { before: dash, written: failed })).toBeNull();
  });

  it("a count off without the other sender's stamp (an earlier version's doc, a hand edit) is left as it is", () => {
    const edited = { ...ours, enabled: false, failCount: 10, disabledReason: "auto" };
    expect(upkeepNeeded(ours, edited)).toBe(false);
    expect(plan(edited, { before: ours, written: edited })).toBeNull();
  });
});

describe("the host's names of the health fields", () => {
  it("follow the pipeline's on adopted docs: a word becomes the host's 0", () => {
    const api = adopt(publicApi).doc;
    const failed = { ...api, failCount: 1, failStreak: ["1:d:1"], lastStatus: "unreachable", lastDeliveryAt: new Date(NOW) };
    expect(upkeepNeeded(api, failed)).toBe(true);
    expect(plan(failed, { before: api, written: failed })?.webhook).toEqual({ failureCount: 1, lastDeliveryStatus: 0 });
    const dash = adopt(v1).doc;
    const dashFailed = { ...dash, failCount: 3, failStreak: ["a", "b", "c"], lastStatus: "unreachable", lastDeliveryAt: new Date(NOW) };
    expect(plan(dashFailed, { before: dash, written: dashFailed })?.webhook).toEqual({ lastStatus: 0, lastTriggered: new Date(NOW) });
  });
});
