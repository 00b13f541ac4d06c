import { Webhook } from "standardwebhooks";
import { SIGNATURE_SCHEMES, signatureHeaders, type SignatureScheme } from "../../src/domain/signature-schemes";
import { generateSecret } from "../../src/domain/signing";
import { verify } from "../../src/receiver/verify";

const body = JSON.stringify({ id: "evt_1", event: "process.crashed", data: { machineId: "m1" } });
const NOW = 1_774_000_000;
const sign = (scheme: SignatureScheme, secrets: string[], at = NOW) => signatureHeaders(scheme, { body, messageId: "evt_1", timestampSeconds: at, secrets });

describe("verify(body, headers, secret)", () => {
  it.each(SIGNATURE_SCHEMES)("recognises and accepts the %s scheme", (scheme) => {
    const secret = generateSecret();
    const result = verify(body, { "webhook-id": "evt_1", ...sign(scheme, [secret]) }, secret, { now: NOW });
    expect(result).toMatchObject({ ok: true, scheme, id: "evt_1" });
  });

  it.each(SIGNATURE_SCHEMES)("refuses a tampered body, a wrong secret and a missing header (%s)", (scheme) => {
    const secret = generateSecret();
    const headers = { "webhook-id": "evt_1", ...sign(scheme, [secret]) };
    expect(verify(`${body} `, headers, secret, { now: NOW })).toEqual({ ok: false, reason: "bad_signature" });
    expect(verify(body, headers, generateSecret(), { now: NOW })).toEqual({ ok: false, reason: "bad_signature" });
    expect(verify(body, {}, secret, { now: NOW, scheme })).toEqual({ ok: false, reason: "missing_signature" });
    expect(verify(body, {}, secret, { now: NOW })).toEqual({ ok: false, reason: "missing_signature" });
    expect(verify(body, headers, [], { now: NOW })).toEqual({ ok: false, reason: "no_secret" });
  });

  it.each(["standard", "timestamped"] as const)("refuses a %s timestamp more than 5 minutes away", (scheme) => {
    const secret = generateSecret();
    const headers = { "webhook-id": "evt_1", ...sign(scheme, [secret], NOW - 301) };
    expect(verify(body, headers, secret, { now: NOW })).toEqual({ ok: false, reason: "stale_timestamp" });
    expect(verify(body, headers, secret, { now: NOW - 1 })).toMatchObject({ ok: true, timestamp: NOW - 301 });
    expect(verify(body, headers, secret, { now: NOW, toleranceSeconds: 600 })).toMatchObject({ ok: true });
  });

  it.each(SIGNATURE_SCHEMES)("accepts the old secret during a rotation overlap (%s)", (scheme) => {
    const [newSecret, oldSecret] = [generateSecret(), generateSecret()];
    const headers = { "webhook-id": "evt_1", ...sign(scheme, [newSecret, oldSecret]) };
    expect(verify(body, headers, oldSecret, { now: NOW }).ok).toBe(true);
    expect(verify(body, headers, newSecret, { now: NOW }).ok).toBe(true);
    expect(verify(body, headers, generateSecret(), { now: NOW }).ok).toBe(false);
  });

  it("reads Node's lower-case headers, any-case objects and fetch Headers alike; takes Buffers", () => {
    const secret = generateSecret();
    const signed = sign("timestamped", [secret]);
    expect(verify(Buffer.from(body), { "Owlette-Signature": signed["Owlette-Signature"] }, secret, { now: NOW }).ok).toBe(true);
    expect(verify(body, new Headers(signed), secret, { now: NOW }).ok).toBe(true);
  });

  it("agrees with the standardwebhooks package", () => {
    const secret = generateSecret();
    const now = Math.floor(Date.now() / 1000);
    const headers = sign("standard", [secret], now);
    expect(() => new Webhook(secret).verify(body, headers)).not.toThrow();
    expect(verify(body, headers, secret).ok).toBe(true);
    const theirs = new Webhook(secret).sign("msg_2", new Date(now * 1000), body);
    expect(verify(body, { "webhook-id": "msg_2", "webhook-timestamp": String(now), "webhook-signature": theirs }, secret)).toMatchObject({
      ok: true,
      id: "msg_2",
    });
  });
});
