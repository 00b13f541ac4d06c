import crypto from "node:crypto";
import { Webhook } from "standardwebhooks";
import { SIGNATURE_SCHEMES, signatureHeaders, type SignatureScheme } from "../../src/domain/signature-schemes";
import { generateSecret } from "../../src/domain/signing";
import { MAX_BODY_BYTES, MAX_SIGNATURE_ENTRIES, verify } from "../../src/receiver/verify";

const body = JSON.stringify({ id: "evt_1", event: "process.crashed", data: { machineId: "m1" } });
const NOW = 1_774_000_000;
const sign = (scheme: SignatureScheme, secrets: string[], at = NOW) => signatureHeaders(scheme, { body, messageId: "evt_1", timestampSeconds: at, secrets });

describe("verify(body, headers, secret)", () => {
  it.each(SIGNATURE_SCHEMES)("recognises and accepts the %s scheme", (scheme) => {
    const secret = generateSecret();
    const result = verify(body, { "webhook-id": "evt_1", ...sign(scheme, [secret]) }, secret, { now: NOW });
    // Signed by one secret, owlette_v1 sends exactly sha256's header: it is checked as that.
    expect(result).toMatchObject({ ok: true, scheme: scheme === "owlette_v1" ? "sha256" : scheme, id: "evt_1" });
    expect(verify(body, { "webhook-id": "evt_1", ...sign(scheme, [secret]) }, secret, { now: NOW, scheme })).toMatchObject({ ok: true, scheme });
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

  it.each(["standard", "timestamped", "roost"] as const)("refuses a %s timestamp more than 5 minutes away", (scheme) => {
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

describe("what an unsigned request can cost the kit (issue 20, finding 2)", () => {
  /**
   * Runs `fn` counting the HMACs computed. A runaway count stops at 100 with an error rather than
   * running on for seconds: enough to fail, and to fail fast.
   */
  function hmacsOf<T>(fn: () => T): { result: T; hmacs: number } {
    const real = crypto.createHmac;
    let hmacs = 0;
    const spy = jest.spyOn(crypto, "createHmac").mockImplementation((...args: Parameters<typeof real>) => {
      if (++hmacs > 100) throw new Error("more than 100 HMACs for one request");
      return real(...args);
    });
    try {
      return { result: fn(), hmacs };
    } finally {
      spy.mockRestore();
    }
  }
  const fake = (i: number) => i.toString(16).padStart(64, "0");
  /** A header of `n` well-formed wrong entries in `scheme`'s syntax (a timestamped one: `t=` and n - 1 of them). */
  function forged(scheme: SignatureScheme, n: number): Record<string, string> {
    const fakes = Array.from({ length: n }, (_, i) => fake(i));
    switch (scheme) {
      case "owlette":
        return { "X-Owlette-Signature": fakes.join(",") };
      case "sha256":
        return { "X-Owlette-Signature": fakes.map((f) => `sha256=${f}`).join(",") };
      case "timestamped":
        return { "Owlette-Signature": [`t=${NOW}`, ...fakes.slice(1).map((f) => `v1=${f}`)].join(",") };
      case "roost":
        return { "Roost-Signature": [`t=${NOW}`, ...fakes.slice(1).map((f) => `v1=${f}`)].join(",") };
      case "owlette_v1":
        return {
          "X-Owlette-Signature": `sha256=${fakes[0]}`,
          "X-Owlette-Signature-Previous": fakes
            .slice(1)
            .map((f) => `sha256=${f}`)
            .join(","),
        };
      case "standard":
        return { "webhook-id": "evt_1", "webhook-timestamp": String(NOW), "webhook-signature": fakes.map((f) => `v1,${f}`).join(" ") };
    }
  }
  const MiB = 1024 * 1024;
  /** A JSON event of exactly 1 MiB: the most the kit takes by default. */
  const bigBody = `{"id":"evt_1","pad":"${"x".repeat(MiB - '{"id":"evt_1","pad":""}'.length)}"}`;

  it("computes each secret's expected signature once, however many entries the header holds", () => {
    const secrets = [generateSecret(), generateSecret()];
    const counts = Object.fromEntries(
      SIGNATURE_SCHEMES.map((scheme) => {
        const { result, hmacs } = hmacsOf(() => verify(body, forged(scheme, MAX_SIGNATURE_ENTRIES), secrets, { now: NOW, scheme }));
        expect(result).toEqual({ ok: false, reason: "bad_signature" });
        return [scheme, hmacs];
      }),
    );
    expect(counts).toEqual({ owlette: 2, sha256: 2, standard: 2, timestamped: 2, roost: 2, owlette_v1: 2 });
  });

  it("still finds the right signature among the entries, and the right secret among several: one HMAC per secret", () => {
    const [wrong, right] = [generateSecret(), generateSecret()];
    const counts = Object.fromEntries(
      SIGNATURE_SCHEMES.map((scheme) => {
        const signed = sign(scheme, [right]);
        const [name, value] = Object.entries(signed).find(([k]) => /signature$/i.test(k)) as [string, string];
        // The real entry last, behind 8 wrong ones (a timestamped header's `t=` comes first).
        const padded =
          scheme === "standard"
            ? [...Array.from({ length: 8 }, (_, i) => `v1,${fake(i)}`), value].join(" ")
            : scheme === "timestamped" || scheme === "roost"
              ? value.replace(",", `,${Array.from({ length: 8 }, (_, i) => `v1=${fake(i)}`).join(",")},`)
              : [...Array.from({ length: 8 }, (_, i) => (scheme === "owlette" ? fake(i) : `sha256=${fake(i)}`)), value].join(",");
        const { result, hmacs } = hmacsOf(() => verify(body, { "webhook-id": "evt_1", ...signed, [name]: padded }, [wrong, right], { now: NOW, scheme }));
        expect(result).toMatchObject({ ok: true, scheme, id: "evt_1" });
        return [scheme, hmacs];
      }),
    );
    expect(counts).toEqual({ owlette: 2, sha256: 2, standard: 2, timestamped: 2, roost: 2, owlette_v1: 2 });
  });

  it.each(SIGNATURE_SCHEMES)("refuses 8,000 entries over a 1 MiB body without computing one HMAC (%s)", (scheme) => {
    const { result, hmacs } = hmacsOf(() => verify(bigBody, forged(scheme, 8_000), generateSecret(), { now: NOW, scheme }));
    expect(result).toEqual({ ok: false, reason: "too_many_signatures" });
    expect(hmacs).toBe(0);
    // Recognised from the headers rather than pinned: the same.
    expect(hmacsOf(() => verify(bigBody, forged(scheme, 8_000), generateSecret(), { now: NOW })).result).toEqual({ ok: false, reason: "too_many_signatures" });
  });

  it("counts X-Owlette-Signature-Previous with X-Owlette-Signature, and stays well above the 3 signatures Owlette sends at once", () => {
    const headers = { "X-Owlette-Signature": fake(0), "X-Owlette-Signature-Previous": Array.from({ length: 10 }, (_, i) => fake(i + 1)).join(",") };
    expect(hmacsOf(() => verify(body, headers, generateSecret(), { scheme: "owlette" }))).toEqual({
      result: { ok: false, reason: "too_many_signatures" },
      hmacs: 0,
    });
    // A rotation: the new secret and 2 previous ones sign (a timestamped header: 4 entries with `t=`).
    const secrets = [generateSecret(), generateSecret(), generateSecret()];
    for (const scheme of SIGNATURE_SCHEMES) {
      expect(verify(body, { "webhook-id": "evt_1", ...sign(scheme, secrets) }, secrets[2] as string, { now: NOW, scheme }).ok).toBe(true);
    }
  });

  it("refuses a body over the cap (1 MiB by default, in bytes) before anything else, and takes one at the cap", () => {
    expect(Buffer.byteLength(bigBody)).toBe(MAX_BODY_BYTES);
    const secret = generateSecret();
    const headers = signatureHeaders("owlette", { body: bigBody, messageId: "evt_1", timestampSeconds: NOW, secrets: [secret] });
    expect(verify(bigBody, headers, secret, { scheme: "owlette" })).toMatchObject({ ok: true, id: "evt_1" });
    const over = `${bigBody} `;
    expect(hmacsOf(() => verify(over, headers, secret, { scheme: "owlette" }))).toEqual({ result: { ok: false, reason: "body_too_large" }, hmacs: 0 });
    expect(verify(Buffer.from(over), headers, secret)).toEqual({ ok: false, reason: "body_too_large" });
    // Bytes, not characters: 600 Ki two-byte characters are 1.2 MiB.
    expect(verify("é".repeat(600 * 1024), headers, secret)).toEqual({ ok: false, reason: "body_too_large" });
    // Refused even with no secret configured: nothing of an oversized body is looked at.
    expect(verify(over, headers, [])).toEqual({ ok: false, reason: "body_too_large" });
  });

  it("takes its own cap with maxBodyBytes", () => {
    const secret = generateSecret();
    const headers = sign("owlette", [secret]);
    expect(verify(body, headers, secret, { maxBodyBytes: Buffer.byteLength(body) }).ok).toBe(true);
    expect(verify(body, headers, secret, { maxBodyBytes: Buffer.byteLength(body) - 1 })).toEqual({ ok: false, reason: "body_too_large" });
    const larger = `${bigBody} `;
    const signed = signatureHeaders("owlette", { body: larger, messageId: "evt_1", timestampSeconds: NOW, secrets: [secret] });
    expect(verify(larger, signed, secret, { maxBodyBytes: 2 * MiB })).toMatchObject({ ok: true });
  });
});
