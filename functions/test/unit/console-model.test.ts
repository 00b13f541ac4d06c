import { Timestamp } from "firebase-admin/firestore";
import fc from "fast-check";
import {
  AUTO_DISABLE_AFTER,
  canAct,
  deliveryView,
  errorText,
  lastDayByHour,
  parseHeaderLines,
  relativeTime,
  statusText,
  webhookState,
  webhookView,
  foreignWriteNotice,
  disabledNotice,
} from "../../../console/src/model";

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 26, 12, 30);

describe("console model: webhook docs", () => {
  it("reads a current webhook doc", () => {
    const w = webhookView("w1", {
      name: "Ops",
      url: "https://hooks.slack.com/services/…",
      events: ["process.crashed", 7],
      enabled: false,
      disabledReason: "auto",
      failCount: 10,
      lastStatus: "timeout",
      lastDeliveryAt: Timestamp.fromMillis(NOW - 5000),
      headerNames: ["Authorization"],
    });
    expect(w).toMatchObject({
      name: "Ops",
      events: ["process.crashed"],
      failCount: 10,
      lastStatus: "timeout",
      lastDeliveryAtMs: NOW - 5000,
      signatureScheme: "owlette",
    });
    expect(webhookState(w)).toMatchObject({ label: "Disabled", tone: "bad", detail: `switched off after ${AUTO_DISABLE_AFTER} consecutive failures` });
  });

  it("shows a doc the host wrote a moment ago (no enabled field) as being adopted, never its secret", () => {
    const w = webhookView("old", { name: "Legacy", url: "https://x.test", events: ["process.crashed"], signingSecret: "never shown", paused: false });
    expect(webhookState(w).label).toBe("Being adopted");
    expect(JSON.stringify(w)).not.toContain("never shown");
  });

  it("takes the host's fields: paused stops whatever enabled says, deletedAt hides, 0 is no answer", () => {
    const w = webhookView("h", { name: "H", url: "https://x.test", events: [], enabled: true, paused: true, lastStatus: 0, deletedAt: { toMillis: () => 1 } });
    expect(webhookState(w)).toMatchObject({ label: "Paused" });
    expect(w).toMatchObject({ enabled: false, deleted: true, lastStatus: "unreachable" });
    expect(webhookView("n", { enabled: true }).deleted).toBe(false);
  });

  it("says when another program wrote the webhook's health, and what to do", () => {
    const w = webhookView("h", {
      enabled: true,
      foreignWrite: { at: { toMillis: () => Date.parse("2026-12-07T10:00:00Z") }, fields: ["failCount", "lastStatus"], count: 3 },
    });
    expect(foreignWriteNotice(w)).toBe(
      "Another program wrote this webhook's failCount, lastStatus 3 times, last on 2026-12-07 10:00 UTC: most likely the Owlette host's own sender, still running. " +
        "The pipeline put its own values back. Replace the host's sender with the drop-in (README, Cutover) to stop it.",
    );
    expect(foreignWriteNotice(webhookView("n", { enabled: true }))).toBeNull();
  });

  it.each([
    [{ enabled: true, disabledReason: null }, "Enabled", "ok"],
    [{ enabled: false, disabledReason: "paused" }, "Paused", "warn"],
    [{ enabled: false, disabledReason: "gone" }, "Disabled", "bad"],
    [{ enabled: false, disabledReason: "manual" }, "Disabled", "muted"],
  ])("%j is %s", (w, label, tone) => {
    expect(webhookState(w)).toMatchObject({ label, tone });
  });

  it("names statuses in words", () => {
    expect(statusText(503)).toBe("503");
    expect(statusText("connection_refused")).toBe("connection refused");
    expect(statusText(null, "timeout")).toBe("timeout");
    expect(statusText(null)).toBe("—");
  });
});

describe("console model: a webhook the pipeline switched off", () => {
  const w = { name: "Chat relay", enabled: false };
  it("is announced when its failures or its receiver's 410 switched it off, and not otherwise", () => {
    expect(disabledNotice({ ...w, disabledReason: "auto" })).toBe(
      "Chat relay is off: switched off after 10 consecutive failures. It gets no events until it is enabled again.",
    );
    expect(disabledNotice({ ...w, disabledReason: "gone" })).toContain("the receiver answered 410 Gone");
    for (const reason of ["manual", "paused", "adopting", null]) expect(disabledNotice({ ...w, disabledReason: reason })).toBeNull();
    expect(disabledNotice({ ...w, enabled: true, disabledReason: "auto" })).toBeNull();
  });

  it("reads a host public-API doc the pipeline switched off (mirrored into `paused`) as switched off, not paused", () => {
    const view = webhookView("h1", { name: "Relay", url: "https://x.example", events: [], enabled: false, disabledReason: "auto", paused: true });
    expect(view.disabledReason).toBe("auto");
    expect(disabledNotice(view)).toContain("Relay is off");
    // Paused by people: still paused.
    expect(webhookView("h2", { name: "R", url: "https://x.example", events: [], enabled: true, paused: true }).disabledReason).toBe("paused");
    expect(webhookView("h3", { name: "R", url: "https://x.example", events: [], enabled: false, disabledReason: null, paused: true }).disabledReason).toBe(
      "paused",
    );
  });
});

describe("console model: who may act", () => {
  const site = { id: "s1", owner: "u-owner" };
  it.each([
    [{ role: "admin", sites: ["s1"] }, "u1", true],
    [{ role: "admin", sites: [] }, "u-owner", true],
    [{ role: "admin", sites: ["s2"] }, "u1", false],
    [{ role: "member", sites: ["s1"] }, "u1", false],
    [{ role: "superadmin", sites: [] }, "u1", true],
    [null, "u1", false],
  ])("%j as %s: %s", (profile, uid, expected) => {
    expect(canAct(profile, uid, site)).toBe(expected);
  });
});

describe("console model: times, headers, errors", () => {
  it.each([
    [NOW, "just now"],
    [NOW - 30_000, "30 s ago"],
    [NOW - 5 * 60_000, "5 min ago"],
    [NOW - 3 * HOUR, "3 h ago"],
    [NOW - 49 * HOUR, "2 d ago"],
    [NOW + 30_000, "in 30 s"],
    [null, "never"],
  ])("%s -> %s", (at, text) => {
    expect(relativeTime(at, NOW)).toBe(text);
  });

  it("parses header lines and names the bad ones", () => {
    expect(parseHeaderLines("Authorization: Bearer a:b\n\nX-Team:  ops ")).toEqual({ headers: { Authorization: "Bearer a:b", "X-Team": "ops" }, problems: [] });
    expect(parseHeaderLines("no colon here\nBad Name: x").problems).toEqual(['line 1: expected "Name: value"', 'line 2: expected "Name: value"']);
  });

  it("says what a callable refused", () => {
    expect(errorText({ code: "functions/permission-denied", message: "x" })).toBe("You do not have permission to do that.");
    expect(errorText({ code: "functions/resource-exhausted", message: "Too many tests", details: { retryAfterSeconds: 12 } })).toBe(
      "Too many tests (try again in 12 s)",
    );
    expect(errorText({ code: "functions/invalid-argument", message: "url: must be https" })).toBe("url: must be https");
  });
});

describe("console model: the last 24 hours", () => {
  const delivery = (createdAtMs: number, status: string, durations: number[]) =>
    deliveryView("d", {
      status,
      createdAt: Timestamp.fromMillis(createdAtMs),
      attempts: durations.map((durationMs, i) => ({ attempt: i + 1, at: Timestamp.fromMillis(createdAtMs + i * 1000), status: 200, durationMs })),
    });

  it("counts deliveries by outcome per hour and takes the median round trip", () => {
    const buckets = lastDayByHour(
      [delivery(NOW - 60_000, "succeeded", [10, 30]), delivery(NOW - 120_000, "failed", [20]), delivery(NOW - 2 * HOUR, "pending", [5])],
      NOW,
    );
    expect(buckets).toHaveLength(24);
    const last = buckets[23];
    expect(last).toMatchObject({ succeeded: 1, failed: 1, attempts: 3, medianMs: 20 });
    expect(buckets[21]).toMatchObject({ pending: 1, medianMs: 5 });
    expect(last?.startMs).toBe(Math.floor(NOW / HOUR) * HOUR);
  });

  it("never counts a delivery outside the window, and counts every one inside exactly once", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: -30 * HOUR, max: HOUR }), fc.constantFrom("succeeded", "failed", "pending", "skipped"))), (rows) => {
        const buckets = lastDayByHour(
          rows.map(([offset, status]) => delivery(NOW + offset, status, [])),
          NOW,
        );
        const first = buckets[0]?.startMs as number;
        const end = (buckets[23]?.startMs as number) + HOUR;
        const inside = rows.filter(([offset]) => NOW + offset >= first && NOW + offset < end).length;
        const counted = buckets.reduce((n, b) => n + b.succeeded + b.failed + b.pending + b.skipped, 0);
        expect(counted).toBe(inside);
      }),
    );
  });
});
