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
    expect(owletteSignature("Jefe", "what do ya want for nothing?")).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
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
