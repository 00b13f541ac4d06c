import * as crypto from "node:crypto";
import { deliveryHeaders, USER_AGENT } from "../../src/domain/request-headers";
import { generateSecret, owletteSignature, verifyOwletteSignature } from "../../src/domain/signing";

/** The verification snippet from the Owlette webhook docs, verbatim in behaviour. */
function verifyWebhook(body: string, signature: string, secret: string): boolean {
  const expected = crypto.createHmac("sha256", secret).update(body).digest("hex");
  return crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
}

describe("Owlette signature", () => {
  const body = '{"id":"evt_1","event":"process.crashed"}';

  it("matches a known HMAC-SHA256 vector", () => {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    expect(owletteSignature("Jefe", "what do ya want for nothing?")).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });

  it("is accepted by the documented Node verification snippet", () => {
    const secret = generateSecret();
    expect(verifyWebhook(body, owletteSignature(secret, body), secret)).toBe(true);
    expect(verifyWebhook(`${body} `, owletteSignature(secret, body), secret)).toBe(false);
    expect(verifyWebhook(body, owletteSignature(generateSecret(), body), secret)).toBe(false);
  });

  it("verifies in constant time and refuses missing or malformed signatures", () => {
    const secret = generateSecret();
    const sig = owletteSignature(secret, body);
    expect(verifyOwletteSignature(secret, body, sig)).toBe(true);
    expect(verifyOwletteSignature(secret, body, undefined)).toBe(false);
    expect(verifyOwletteSignature(secret, body, sig.slice(1))).toBe(false);
    expect(verifyOwletteSignature(secret, body, `sha256=${sig}`)).toBe(false);
  });

  it("generates whsec_ secrets of 32 random bytes", () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    expect(generateSecret()).not.toBe(secret);
  });

  it("puts the signature and stable ids in the request headers", () => {
    const secret = generateSecret();
    const headers = deliveryHeaders({
      scheme: "owlette",
      secrets: [secret],
      body,
      eventId: "evt_1",
      eventType: "process.crashed",
      deliveryId: "dlv_1",
      attempt: 2,
      timestampSeconds: 1_774_000_000,
      custom: { Authorization: "Bearer receiver-token" },
    });
    expect(headers).toEqual({
      Authorization: "Bearer receiver-token",
      "Content-Type": "application/json",
      "User-Agent": USER_AGENT,
      "X-Owlette-Signature": owletteSignature(secret, body),
      "X-Owlette-Event": "process.crashed",
      "X-Owlette-Delivery": "dlv_1",
      "X-Owlette-Attempt": "2",
      "webhook-id": "evt_1",
    });
    expect(JSON.stringify(headers)).not.toContain(secret);
  });
});

describe("the fast signing path signs byte for byte as before", () => {
  const fc = require("fast-check") as typeof import("fast-check");
  const { signatureHeaders } = require("../../src/domain/signature-schemes") as typeof import("../../src/domain/signature-schemes");
  const { formatTimestamp } = require("../../src/domain/payload") as typeof import("../../src/domain/payload");

  it("a cached key gives the digest of the string-keyed HMAC, for any secret and body", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: "grapheme" }), fc.string({ unit: "grapheme" }), (secret, body) => {
        expect(owletteSignature(secret, body)).toBe(crypto.createHmac("sha256", secret).update(body).digest("hex"));
        expect(owletteSignature(secret, body)).toBe(owletteSignature(secret, body));
        const sha = signatureHeaders("sha256", { body, messageId: "m", timestampSeconds: 1, secrets: [secret] });
        expect(sha["X-Owlette-Signature"]).toBe(`sha256=${crypto.createHmac("sha256", secret).update(body).digest("hex")}`);
        const ts = signatureHeaders("timestamped", { body, messageId: "m", timestampSeconds: 7, secrets: [secret] });
        expect(ts["Owlette-Signature"]).toBe(`t=7,v1=${crypto.createHmac("sha256", secret).update(`7.${body}`).digest("hex")}`);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps every header in the documented order", () => {
    const headers = deliveryHeaders({
      scheme: "owlette",
      secrets: ["s1", "s0"],
      body: "{}",
      eventId: "e",
      eventType: "t",
      deliveryId: "d",
      attempt: 2,
      timestampSeconds: 1,
      custom: { "X-Custom": "v" },
    });
    expect(Object.keys(headers)).toEqual([
      "X-Custom",
      "Content-Type",
      "User-Agent",
      "X-Owlette-Event",
      "X-Owlette-Delivery",
      "X-Owlette-Attempt",
      "webhook-id",
      "X-Owlette-Signature",
      "X-Owlette-Signature-Previous",
    ]);
  });

  it("formats timestamps as the ISO string without milliseconds, once per second", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date(0), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }), (d) => {
        expect(formatTimestamp(d)).toBe(d.toISOString().replace(/\.\d{3}Z$/, "Z"));
      }),
      { numRuns: 500 },
    );
    const t = Date.UTC(2026, 2, 22, 10, 30, 0);
    expect(formatTimestamp(new Date(t + 999))).toBe("2026-03-22T10:30:00Z");
    expect(formatTimestamp(new Date(t + 1000))).toBe("2026-03-22T10:30:01Z");
  });
});
