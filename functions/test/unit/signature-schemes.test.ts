import * as crypto from "node:crypto";
import { Webhook } from "standardwebhooks";
import { customHeaderProblems } from "../../src/domain/custom-headers";
import { activeSecrets, rotateSecrets, type SecretSet } from "../../src/domain/secret-rotation";
import { signatureHeaders, type SigningInput } from "../../src/domain/signature-schemes";
import { generateSecret } from "../../src/domain/signing";
import { verify } from "../../src/receiver/verify";
// Receiver-side checks, through the verification kit with the scheme forced.
const verifySha256 = (header: string | undefined, body: string, secret: string) =>
  verify(body, header === undefined ? {} : { "x-owlette-signature": header }, secret, { scheme: "sha256" }).ok;
const verifyTimestamped = (header: string | undefined, body: string, secret: string, now: number) =>
  verify(body, header === undefined ? {} : { "owlette-signature": header }, secret, { scheme: "timestamped", now }).ok;

const body = JSON.stringify({ id: "evt_1", event: "process.crashed", data: { machineId: "m1" } });
const NOW_S = 1_774_000_000;

function input(secrets: string[]): SigningInput {
  return { body, messageId: "evt_1", timestampSeconds: NOW_S, secrets };
}

/** The Owlette docs' verification snippet. */
function owletteSnippet(raw: string, signature: string, secret: string) {
  const expected = crypto.createHmac("sha256", secret).update(raw).digest("hex");
  return crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
}

describe("signature schemes", () => {
  const secret = generateSecret();

  it("owlette: one hex digest the documented snippet accepts", () => {
    const headers = signatureHeaders("owlette", input([secret]));
    expect(Object.keys(headers)).toEqual(["X-Owlette-Signature"]);
    expect(owletteSnippet(body, headers["X-Owlette-Signature"] as string, secret)).toBe(true);
  });

  it("sha256: the GitHub / Hyprwatch convention", () => {
    const header = signatureHeaders("sha256", input([secret]))["X-Owlette-Signature"];
    const expected = `sha256=${crypto.createHmac("sha256", secret).update(body).digest("hex")}`;
    expect(header).toBe(expected);
    expect(verifySha256(header, body, secret)).toBe(true);
    expect(verifySha256(header, `${body}x`, secret)).toBe(false);
  });

  it("standard: verified by the standardwebhooks package", () => {
    const headers = signatureHeaders("standard", input([secret]));
    const nowMs = Date.now;
    Date.now = () => NOW_S * 1000;
    try {
      const verified = new Webhook(secret).verify(body, headers);
      expect(verified).toEqual(JSON.parse(body));
      expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
      expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
    } finally {
      Date.now = nowMs;
    }
    expect(headers["webhook-id"]).toBe("evt_1");
    expect(headers["webhook-timestamp"]).toBe(String(NOW_S));
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it("timestamped: t=,v1= with a 5-minute replay window", () => {
    const header = signatureHeaders("timestamped", input([secret]))["Owlette-Signature"];
    expect(header).toMatch(new RegExp(`^t=${NOW_S},v1=[0-9a-f]{64}$`));
    expect(verifyTimestamped(header, body, secret, NOW_S)).toBe(true);
    expect(verifyTimestamped(header, body, secret, NOW_S + 300)).toBe(true);
    expect(verifyTimestamped(header, body, secret, NOW_S + 301)).toBe(false);
    expect(verifyTimestamped(header, body, secret, NOW_S - 301)).toBe(false);
    expect(verifyTimestamped(header, body, generateSecret(), NOW_S)).toBe(false);
    expect(verifyTimestamped(header?.replace(`t=${NOW_S}`, `t=${NOW_S + 1}`), body, secret, NOW_S)).toBe(false);
  });

  it("refuses to sign without a secret", () => {
    expect(() => signatureHeaders("owlette", input([]))).toThrow(/no signing secret/);
  });
});

describe("secret rotation with overlap", () => {
  const oldSecret = generateSecret();
  const newSecret = generateSecret();
  const t0 = NOW_S * 1000;
  const rotated = rotateSecrets({ current: oldSecret, previous: [] }, newSecret, t0, 24 * 3600);

  it("signs with both secrets during the overlap, in every multi-signature scheme", () => {
    const secrets = activeSecrets(rotated, t0 + 3600_000);
    expect(secrets).toEqual([newSecret, oldSecret]);
    const sha = signatureHeaders("sha256", input(secrets))["X-Owlette-Signature"];
    expect(verifySha256(sha, body, oldSecret)).toBe(true);
    expect(verifySha256(sha, body, newSecret)).toBe(true);
    const ts = signatureHeaders("timestamped", input(secrets))["Owlette-Signature"];
    expect(verifyTimestamped(ts, body, oldSecret, NOW_S)).toBe(true);
    expect(verifyTimestamped(ts, body, newSecret, NOW_S)).toBe(true);
    const std = signatureHeaders("standard", input(secrets));
    const nowMs = Date.now;
    Date.now = () => NOW_S * 1000;
    try {
      expect(() => new Webhook(oldSecret).verify(body, std)).not.toThrow();
      expect(() => new Webhook(newSecret).verify(body, std)).not.toThrow();
    } finally {
      Date.now = nowMs;
    }
    const owl = signatureHeaders("owlette", input(secrets));
    expect(owletteSnippet(body, owl["X-Owlette-Signature"] as string, newSecret)).toBe(true);
    expect(owletteSnippet(body, owl["X-Owlette-Signature-Previous"] as string, oldSecret)).toBe(true);
  });

  it("stops signing with the old secret when the overlap ends, and purges it on the next rotation", () => {
    expect(activeSecrets(rotated, t0 + 24 * 3600_000)).toEqual([newSecret]);
    const third = generateSecret();
    const again = rotateSecrets(rotated, third, t0 + 25 * 3600_000, 3600);
    expect(again.previous.map((p) => p.secret)).toEqual([newSecret]);
  });

  it("with overlap 0 the old secret stops at once", () => {
    const immediate: SecretSet = rotateSecrets(rotated, generateSecret(), t0, 0);
    expect(immediate.previous).toEqual([]);
    expect(activeSecrets(immediate, t0)).toEqual([immediate.current]);
  });
});

describe("custom headers", () => {
  it("accepts ordinary receiver-auth headers", () => {
    expect(customHeaderProblems({ Authorization: "Bearer abc", "X-Api-Key": "k", "X-Team": "ops" })).toEqual([]);
  });

  it.each([
    "Content-Type",
    "content-length",
    "Host",
    "User-Agent",
    "Connection",
    "Transfer-Encoding",
    "Upgrade",
    "TE",
    "Proxy-Authorization",
    "X-Owlette-Signature",
    "X-Owlette-Signature-Previous",
    "x-owlette-delivery",
    "Owlette-Signature",
    "webhook-id",
    "webhook-signature",
    "Webhook-Timestamp",
  ])("refuses the reserved header %s", (name) => {
    expect(customHeaderProblems({ [name]: "x" })).toEqual([{ header: name, reason: "reserved: set by the pipeline" }]);
  });

  it("refuses bad names, header injection, long values, duplicates and too many headers", () => {
    expect(customHeaderProblems({ "Bad Name": "x" })[0]?.reason).toBe("not a valid header name");
    expect(customHeaderProblems({ "X-A": "1\r\nHost: evil" })[0]?.reason).toMatch(/single line/);
    expect(customHeaderProblems({ "X-A": "v".repeat(1025) })[0]?.reason).toMatch(/single line/);
    expect(customHeaderProblems({ "X-A": "1", "x-a": "2" })[0]?.reason).toBe("duplicate header name");
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, "v"]));
    expect(customHeaderProblems(many)[0]?.reason).toMatch(/at most 20/);
  });
});
