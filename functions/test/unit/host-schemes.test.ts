import { createHmac, timingSafeEqual } from "node:crypto";
import { deliveryHeaders } from "../../src/domain/request-headers";
import { generateSecret } from "../../src/domain/signing";
import { verify } from "../../src/receiver/verify";

// The host's two signature conventions, checked by verifiers written here from the host's own
// description, not from the pipeline's code: what its receivers already run.

const NOW = 1_774_000_000;
const body = JSON.stringify({ id: "evt_1", event: "process.crashed", occurredAt: "2026-03-22T10:30:00Z", siteId: "nyc-office", data: { machineId: "m1" } });

const hmacHex = (secret: string, data: string) => createHmac("sha256", Buffer.from(secret, "utf8")).update(data, "utf8").digest("hex");
const equal = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * A public-API receiver: `Roost-Signature: t=<unix>,v1=<hex>[,v1=...]`, hex = HMAC-SHA256 keyed with
 * the secret string over `<t>.<body>`; any `v1` may match; `t` within 5 minutes of now.
 */
function roostReceiverAccepts(rawBody: string, header: string | undefined, secret: string, now: number): boolean {
  if (!header) return false;
  let t: number | null = null;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    const [key, value] = [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
    if (key === "t") t = /^\d+$/.test(value) ? Number(value) : null;
    else if (key === "v1") v1.push(value);
  }
  if (t === null || Math.abs(now - t) > 300) return false;
  const expected = hmacHex(secret, `${t}.${rawBody}`);
  return v1.some((candidate) => equal(candidate, expected));
}

/** A dashboard-v1 receiver: exactly one `sha256=<hex>` in `X-owlette-Signature`, hex = HMAC-SHA256 of the body. */
function dashboardReceiverAccepts(rawBody: string, header: string | undefined, secret: string): boolean {
  return header !== undefined && equal(header, `sha256=${hmacHex(secret, rawBody)}`);
}

/** Headers as a Node receiver reads them: names lower-cased. */
function received(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

const send = (scheme: "roost" | "owlette_v1", secrets: string[], opts: { at?: number; eventType?: string; attempt?: number } = {}) =>
  received(
    deliveryHeaders({
      scheme,
      secrets,
      body,
      eventId: "evt_1",
      eventType: opts.eventType ?? "process.crashed",
      deliveryId: "dlv_1",
      attempt: opts.attempt ?? 1,
      timestampSeconds: opts.at ?? NOW,
    }),
  );

describe("roost: the host's public API signature", () => {
  it("is accepted by a receiver written from the host's description", () => {
    const secret = generateSecret();
    const h = send("roost", [secret]);
    expect(h["roost-signature"]).toMatch(/^t=1774000000,v1=[0-9a-f]{64}$/);
    expect(roostReceiverAccepts(body, h["roost-signature"], secret, NOW)).toBe(true);
    expect(roostReceiverAccepts(body, h["roost-signature"], secret, NOW + 300)).toBe(true);
  });

  it("names the event and the delivery, the delivery the same on every retry", () => {
    const first = send("roost", [generateSecret()], { attempt: 1 });
    const retry = send("roost", [generateSecret()], { attempt: 2, at: NOW + 60 });
    expect(first["roost-event"]).toBe("process.crashed");
    expect(first["roost-delivery"]).toBe("dlv_1");
    expect(retry["roost-delivery"]).toBe(first["roost-delivery"]);
    // The pipeline's own headers still go along.
    expect(first).toMatchObject({ "x-owlette-event": "process.crashed", "x-owlette-delivery": "dlv_1", "webhook-id": "evt_1" });
    expect(send("roost", [generateSecret()], { eventType: "connection_failure" })["roost-event"]).toBe("connection_failure");
  });

  it("signs with both secrets during a rotation overlap, newest first", () => {
    const [fresh, old] = [generateSecret(), generateSecret()];
    const h = send("roost", [fresh, old]);
    expect(h["roost-signature"]).toBe(`t=${NOW},v1=${hmacHex(fresh, `${NOW}.${body}`)},v1=${hmacHex(old, `${NOW}.${body}`)}`);
    expect(roostReceiverAccepts(body, h["roost-signature"], fresh, NOW)).toBe(true);
    expect(roostReceiverAccepts(body, h["roost-signature"], old, NOW)).toBe(true);
    expect(roostReceiverAccepts(body, h["roost-signature"], generateSecret(), NOW)).toBe(false);
  });

  it("is refused for a tampered body, an old timestamp or another secret", () => {
    const secret = generateSecret();
    const h = send("roost", [secret]);
    expect(roostReceiverAccepts(body.replace("m1", "m2"), h["roost-signature"], secret, NOW)).toBe(false);
    expect(roostReceiverAccepts(`${body} `, h["roost-signature"], secret, NOW)).toBe(false);
    expect(roostReceiverAccepts(body, h["roost-signature"], secret, NOW + 301)).toBe(false);
    expect(roostReceiverAccepts(body, send("roost", [secret], { at: NOW - 600 })["roost-signature"], secret, NOW)).toBe(false);
    // A fresh t glued to an old signature: the signature covers t.
    const replayed = h["roost-signature"]!.replace(`t=${NOW}`, `t=${NOW + 600}`);
    expect(roostReceiverAccepts(body, replayed, secret, NOW + 600)).toBe(false);
  });

  it("agrees with the receiver kit", () => {
    const [fresh, old] = [generateSecret(), generateSecret()];
    const h = send("roost", [fresh, old]);
    expect(verify(body, h, old, { now: NOW })).toEqual({ ok: true, scheme: "roost", id: "evt_1", timestamp: NOW });
    expect(verify(body, h, fresh, { now: NOW, scheme: "roost" })).toMatchObject({ ok: true });
    expect(verify(body, h, fresh, { now: NOW + 301, scheme: "roost" })).toEqual({ ok: false, reason: "stale_timestamp" });
    expect(verify(`${body} `, h, fresh, { now: NOW, scheme: "roost" })).toEqual({ ok: false, reason: "bad_signature" });
    // Pinned to another scheme, a roost delivery is not taken.
    expect(verify(body, h, fresh, { now: NOW, scheme: "timestamped" })).toEqual({ ok: false, reason: "missing_signature" });
  });
});

describe("owlette_v1: the host dashboard's signature", () => {
  it("is accepted by a receiver written from the host's description: exactly one sha256= value", () => {
    const secret = generateSecret();
    const h = send("owlette_v1", [secret]);
    expect(h["x-owlette-signature"]).toBe(`sha256=${hmacHex(secret, body)}`);
    expect(h["x-owlette-signature-previous"]).toBeUndefined();
    expect(dashboardReceiverAccepts(body, h["x-owlette-signature"], secret)).toBe(true);
  });

  it("during a rotation signs with the newest secret alone, the previous ones' values beside it", () => {
    const [fresh, old, older] = [generateSecret(), generateSecret(), generateSecret()];
    const h = send("owlette_v1", [fresh, old, older]);
    expect(dashboardReceiverAccepts(body, h["x-owlette-signature"], fresh)).toBe(true);
    expect(dashboardReceiverAccepts(body, h["x-owlette-signature"], old)).toBe(false);
    expect(h["x-owlette-signature-previous"]).toBe(`sha256=${hmacHex(old, body)},sha256=${hmacHex(older, body)}`);
    // A receiver still on the old secret finds its value in the previous header.
    const previous = (h["x-owlette-signature-previous"] ?? "").split(",");
    expect(previous.some((v) => dashboardReceiverAccepts(body, v, old))).toBe(true);
  });

  it("is refused for a tampered body or another secret", () => {
    const secret = generateSecret();
    const h = send("owlette_v1", [secret]);
    expect(dashboardReceiverAccepts(body.replace("m1", "m2"), h["x-owlette-signature"], secret)).toBe(false);
    expect(dashboardReceiverAccepts(body, h["x-owlette-signature"], generateSecret())).toBe(false);
  });

  it.each([
    ["process.crashed", "process.crashed"],
    ["process.start_failed", "process.restarted"],
    ["connection_failure", "machine.offline"],
    ["machine.offline", "machine.offline"],
    ["machine.online", "machine.online"],
    ["threshold.breached", "threshold.breached"],
    ["display.drift", "display.drift"],
    ["webhook.test", "test"],
  ])("sends X-Owlette-Event in the host's name: %s as %s", (type, named) => {
    const h = send("owlette_v1", [generateSecret()], { eventType: type });
    expect(h["x-owlette-event"]).toBe(named);
    expect(h["roost-event"]).toBeUndefined();
  });

  it("leaves X-Owlette-Event in the pipeline's names for every other scheme", () => {
    for (const scheme of ["owlette", "sha256", "standard", "timestamped", "roost"] as const) {
      const h = received(
        deliveryHeaders({
          scheme,
          secrets: [generateSecret()],
          body,
          eventId: "e",
          eventType: "process.start_failed",
          deliveryId: "d",
          attempt: 1,
          timestampSeconds: NOW,
        }),
      );
      expect(h["x-owlette-event"]).toBe("process.start_failed");
    }
  });

  it("agrees with the receiver kit, recognised from its headers during a rotation", () => {
    const [fresh, old] = [generateSecret(), generateSecret()];
    const h = send("owlette_v1", [fresh, old]);
    expect(verify(body, h, old, { now: NOW })).toEqual({ ok: true, scheme: "owlette_v1", id: "evt_1", timestamp: null });
    expect(verify(body, h, fresh, { scheme: "owlette_v1" })).toMatchObject({ ok: true });
    expect(verify(`${body} `, h, fresh, { scheme: "owlette_v1" })).toEqual({ ok: false, reason: "bad_signature" });
    // The sha256 scheme reads X-Owlette-Signature alone: the old secret is not found there.
    expect(verify(body, h, old, { scheme: "sha256" })).toEqual({ ok: false, reason: "bad_signature" });
  });
});
