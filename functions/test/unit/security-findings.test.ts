import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ApiError } from "../../src/api/errors";
import { inputSchemas, parseInput } from "../../src/api/inputs";
import { decodeCursor } from "../../src/api/service";
import { attemptView } from "../../src/api/views";
import { ABUSE_LIMITS, secondsLeftInWindow } from "../../src/api/abuse-limits";
import { sendHttp } from "../../src/delivery/http-sender";
import { customHeaderProblems } from "../../src/domain/custom-headers";
import { isCredentialUrl, keepsUrlSecret, redactUrl } from "../../src/domain/destination-formats";
import { blockedAddressReason } from "../../src/domain/ip-policy";
import { credentialsOf, REDACTED, scrubResult } from "../../src/domain/scrub";
import { sendSigned } from "../../src/delivery/send-signed";
import { activeSecrets, MAX_PREVIOUS_SECRETS, rotateSecrets, type SecretSet } from "../../src/domain/secret-rotation";
import { signatureHeaders } from "../../src/domain/signature-schemes";
import { generateSecret } from "../../src/domain/signing";
import { verify } from "../../src/receiver/verify";
import { startReceiver } from "../../../scripts/cli/receive";

// One describe per finding of the security review; each test fails on the code before its fix.
// The findings that need the emulator (header replacement on PATCH, token redaction through the
// API, stored snippets, rate limits over HTTP) are in test/integration/security-findings.test.ts.

const schemas = inputSchemas({ allowLocalHttp: false });
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("accepted");
};
const create = (fields: Record<string, unknown>) =>
  parseInput(schemas.createWebhook, { siteId: "s", name: "Ops", url: "https://hooks.example.com/h", events: ["process.crashed"], ...fields });

describe("2. header values Node cannot send are refused at input, and never throw in the sender", () => {
  it.each([
    ["a euro sign", "price€"],
    ["an emoji", "ok 👍"],
    ["DEL", "a\u007fb"],
    ["BEL", "a\u0007b"],
    ["U+2028", "a\u2028b"],
    ["a C1 control", "a\u0085b"],
  ])("%s", (_what, value) => {
    expect(customHeaderProblems({ "X-Token": value })).toEqual([{ header: "X-Token", reason: expect.stringContaining("Latin-1") }]);
    const err = refusal(() => create({ headers: { "X-Token": value } }));
    expect(err.details).toEqual([{ path: "headers.X-Token", reason: expect.any(String) }]);
  });

  it("printable Latin-1 and tabs are fine", () => {
    expect(customHeaderProblems({ "X-Token": "café\tÿ ~" })).toEqual([]);
  });

  it("a request the HTTP client refuses is a failed attempt, not an exception", async () => {
    const server: Server = await new Promise((resolve) => {
      const s = createServer((_req, res) => res.end("ok")).listen(0, "127.0.0.1", () => resolve(s));
    });
    try {
      const port = (server.address() as AddressInfo).port;
      const result = await sendHttp({
        url: new URL(`http://127.0.0.1:${port}/`),
        method: "POST",
        headers: { "X-Token": "price€" },
        body: "{}",
        timeoutMs: 2000,
        snippetBytes: 100,
      });
      expect(result).toMatchObject({ kind: "error", error: "invalid_request", detail: "ERR_INVALID_CHAR" });
    } finally {
      server.close();
    }
  });
});

describe("3 and 9. the receiver kit: the signed id, and the scheme the caller pins", () => {
  const secret = generateSecret();
  const body = JSON.stringify({ id: "evt_signed", event: "process.crashed", data: {} });
  const NOW = 1_774_000_000;
  const headersFor = (scheme: "owlette" | "sha256" | "timestamped", at = NOW) =>
    signatureHeaders(scheme, { body, messageId: "evt_signed", timestampSeconds: at, secrets: [secret] });

  it.each(["owlette", "sha256", "timestamped"] as const)("%s: the id is the body's, and a contradicting webhook-id is refused", (scheme) => {
    expect(verify(body, headersFor(scheme), secret, { now: NOW })).toMatchObject({ ok: true, id: "evt_signed" });
    expect(verify(body, { ...headersFor(scheme), "webhook-id": "evt_signed" }, secret, { now: NOW })).toMatchObject({ ok: true, id: "evt_signed" });
    expect(verify(body, { ...headersFor(scheme), "webhook-id": "evt_fresh_for_a_replay" }, secret, { now: NOW })).toEqual({ ok: false, reason: "id_mismatch" });
  });

  it("a timestamped signature replayed as an owlette one over `<t>.<body>` is refused when the scheme is pinned", () => {
    const t = NOW;
    const timestamped = headersFor("timestamped", t);
    const v1 = /v1=([0-9a-f]+)/.exec(String(timestamped["Owlette-Signature"]))?.[1] as string;
    const replayed = `${t}.${body}`;
    // Recognised from the headers, the forgery verifies, but carries no signed id (its body is no event).
    expect(verify(replayed, { "X-Owlette-Signature": v1, "webhook-id": "evt_x" }, secret, { now: NOW })).toMatchObject({
      ok: true,
      scheme: "owlette",
      id: null,
    });
    // Pinned to the webhook's scheme, it is refused outright.
    expect(verify(replayed, { "X-Owlette-Signature": v1 }, secret, { now: NOW, scheme: "timestamped" })).toEqual({ ok: false, reason: "missing_signature" });
  });
});

describe("9. the CLI receiver pins the scheme it is told", () => {
  it("refuses a timestamped delivery replayed as owlette, and dedupes on the signed id only", async () => {
    const secret = generateSecret();
    const lines: string[] = [];
    const receiver = await startReceiver({ port: 0, secrets: [secret], scheme: "timestamped", json: true, print: (l) => lines.push(l) });
    try {
      const body = JSON.stringify({ id: "evt_pinned", event: "process.crashed", data: {} });
      const t = Math.floor(Date.now() / 1000);
      const signed = signatureHeaders("timestamped", { body, messageId: "evt_pinned", timestampSeconds: t, secrets: [secret] });
      const post = (b: string, headers: Record<string, string>) =>
        fetch(receiver.url("/"), { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: b }).then((r) => r.status);
      expect(await post(body, signed as Record<string, string>)).toBe(200);
      const v1 = /v1=([0-9a-f]+)/.exec(String(signed["Owlette-Signature"]))?.[1] as string;
      expect(await post(`${t}.${body}`, { "X-Owlette-Signature": v1 })).toBe(401);
      // The same delivery again with a fresh webhook-id header: still the same signed id, a duplicate.
      expect(await post(body, { ...(signed as Record<string, string>), "webhook-id": "evt_other" })).toBe(401);
      expect(await post(body, signed as Record<string, string>)).toBe(200);
      expect(lines.map((l) => JSON.parse(l).status)).toEqual(["accepted", "rejected", "rejected", "duplicate"]);
    } finally {
      await receiver.close();
    }
  });
});

describe("4. Slack and Discord tokens are never shown", () => {
  it.each([
    ["https://hooks.slack.com/services/T1/B2/tok3n", "https://hooks.slack.com/services/…"],
    ["https://hooks.slack.com/services/T1/B2/tok3n/", "https://hooks.slack.com/services/…"],
    ["https://discord.com/api/webhooks/123/tok3n/slack", "https://discord.com/api/webhooks/…"],
    ["https://discordapp.com/api/v10/webhooks/123/tok3n?wait=true", "https://discordapp.com/api/v10/webhooks/…"],
    ["https://mm.example.com/hooks/tok3n", "https://mm.example.com/…"],
  ])("%s -> %s", (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
    expect(redactUrl(url)).not.toContain("tok3n");
  });

  it.each([
    "https://hooks.slack.com/triggers/T1/123/tok3n",
    "https://hooks.slack.com/workflows/T1/A1/123/tok3n",
    "https://hooks.slack.com./services/T1/B2/tok3n",
  ])("every Slack hooks URL is a credential: %s", (url) => {
    expect(isCredentialUrl(url)).toBe(true);
    expect(redactUrl(url)).not.toContain("tok3n");
  });

  it("a Slack or Discord URL stays server-side whatever the format (a switch to pagerduty included)", () => {
    expect(isCredentialUrl("https://hooks.slack.com/services/T1/B2/x")).toBe(true);
    expect(keepsUrlSecret("pagerduty", "https://hooks.slack.com/services/T1/B2/x")).toBe(true);
    expect(keepsUrlSecret("owlette", "https://discord.com/api/webhooks/1/x")).toBe(true);
    expect(keepsUrlSecret("owlette", "https://hooks.example.com/services/x")).toBe(false);
  });
});

describe("5. stored response snippets carry no credential", () => {
  const secret = generateSecret();
  const credentials = credentialsOf({
    secrets: [secret],
    headers: { Authorization: "Bearer s3cr3t-receiver-token", "X-Api-Key": "k3y-value" },
    routingKey: "R0UTINGKEY123",
  });
  it("an echo of the request headers is scrubbed", () => {
    const echo = `authorization: Bearer s3cr3t-receiver-token\nx-api-key: k3y-value\nsig for ${secret}\nrk R0UTINGKEY123\ntoken alone: s3cr3t-receiver-token`;
    const scrubbed = scrubResult({ kind: "response", status: 200, durationMs: 3, bodySnippet: echo }, credentials);
    expect(scrubbed.kind === "response" && scrubbed.bodySnippet).toBe(
      `authorization: ${REDACTED}\nx-api-key: ${REDACTED}\nsig for ${REDACTED}\nrk ${REDACTED}\ntoken alone: ${REDACTED}`,
    );
  });
});

describe("5. scrubbing sees whole credentials", () => {
  it("one that straddles the kept length is replaced, not cut in half, and short header values are left alone", async () => {
    const credential = "Bearer straddling-credential-0123456789";
    const sent: number[] = [];
    const echo = `${"x".repeat(1000)}${credential} and a 1 for X-Env`;
    const result = await sendSigned(
      {
        url: "https://receiver.example/h",
        method: "POST",
        scheme: "owlette",
        secrets: ["whsec_x"],
        body: "{}",
        eventId: "e",
        eventType: "process.crashed",
        deliveryId: "d",
        attempt: 1,
        custom: {},
        at: new Date(),
      },
      {
        send: async (req) => {
          sent.push(req.snippetBytes);
          return { kind: "response", status: 200, durationMs: 1, bodySnippet: echo.slice(0, req.snippetBytes) };
        },
        resolve: async () => ["93.184.216.34"],
        config: { allowLocalHttp: false, deliveryTimeoutMs: 1000 },
      },
      credentialsOf({ secrets: [], headers: { Authorization: credential, "X-Env": "1" } }),
    );
    expect(sent[0]).toBeGreaterThan(1024);
    const snippet = result.kind === "response" ? result.bodySnippet : "";
    expect(snippet).toHaveLength(1024);
    expect(snippet).not.toContain("straddl");
    expect(snippet.slice(1000, 1000 + REDACTED.length)).toBe(REDACTED);
    expect(snippet).toContain(" a 1 for");
  });
  it("JSON-escaped echoes are replaced too", () => {
    const credentials = credentialsOf({ secrets: [], headers: { "X-Token": 'pa"ss\\word' } });
    const scrubbed = scrubResult({ kind: "response", status: 200, durationMs: 1, bodySnippet: JSON.stringify({ "x-token": 'pa"ss\\word' }) }, credentials);
    expect(scrubbed.kind === "response" && scrubbed.bodySnippet).toBe(`{"x-token":"${REDACTED}"}`);
  });
});

describe("6. growth is bounded", () => {
  it(`300 rotations with overlap keep at most ${MAX_PREVIOUS_SECRETS} previous secrets`, () => {
    let set: SecretSet = { current: "s0", previous: [] };
    for (let i = 1; i <= 300; i++) set = rotateSecrets(set, `s${i}`, 1_000_000 + i, 86_400);
    expect(set.previous.map((p) => p.secret)).toEqual(["s299", "s298"]);
    expect(activeSecrets(set, 1_000_400)).toEqual(["s300", "s299", "s298"]);
    // A doc written before the cap still signs with at most that many.
    const legacy: SecretSet = { current: "c", previous: Array.from({ length: 50 }, (_, i) => ({ secret: `p${i}`, expiresAtMs: 2_000_000 + i })) };
    expect(activeSecrets(legacy, 1_000_000)).toHaveLength(1 + MAX_PREVIOUS_SECRETS);
  });
});

describe("7. forged cursors are a 400", () => {
  const cursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  it.each([
    ["a time past year 9999", cursor([1e20, "dlv_1"])],
    ["a fractional time", cursor([1.5, "dlv_1"])],
    ["an id with a slash", cursor([0, "a/b"])],
    ["a reserved id", cursor([0, "__x__"])],
    ["an id of ..", cursor([0, ".."])],
    ["not JSON", "!!!"],
  ])("%s", (_what, c) => {
    expect(refusal(() => decodeCursor(c)).code).toBe("invalid_argument");
  });
  it("a real cursor still decodes", () => {
    expect(decodeCursor(cursor([1_774_000_000_000, "dlv_1"]))).toEqual({ createdAtMs: 1_774_000_000_000, id: "dlv_1" });
  });
});

describe("8. a probe cannot fingerprint what answers", () => {
  it.each(["connection_refused", "connection_reset", "timeout", "dns_error", "tls_error", "network_error"] as const)(
    "%s is just unreachable, without detail or time",
    (error) => {
      expect(attemptView({ kind: "error", error, durationMs: 4999, detail: "SSH-2.0-OpenSSH_9.6" })).toEqual({
        ok: false,
        status: null,
        error: "unreachable",
        durationMs: null,
        responseSnippet: null,
      });
    },
  );
  it("an HTTP answer keeps its status and body excerpt", () => {
    expect(attemptView({ kind: "response", status: 404, durationMs: 12, bodySnippet: "nope" })).toMatchObject({ status: 404, responseSnippet: "nope" });
  });
  it("tests and probes have the tightest per-site ceiling", () => {
    expect(ABUSE_LIMITS.sends).toBeLessThan(ABUSE_LIMITS.writes);
    expect(secondsLeftInWindow(60_000 * 1000 + 15_000)).toBe(45);
  });
});

describe("10. loose inputs are refused with field problems", () => {
  const rotate = (overlapSeconds: unknown) => parseInput(schemas.rotateSecret, { siteId: "s", webhookId: "w", overlapSeconds });
  it.each([null, [], "", true, "1e3", -1, 1.5])("overlapSeconds %p", (value) => {
    expect(refusal(() => rotate(value)).details[0]?.path).toBe("overlapSeconds");
  });
  it("overlapSeconds as a number or its decimal string", () => {
    expect(rotate(3600).overlapSeconds).toBe(3600);
    expect(rotate("3600").overlapSeconds).toBe(3600);
    expect(parseInput(schemas.rotateSecret, { siteId: "s", webhookId: "w" }).overlapSeconds).toBe(86_400);
  });
  it.each([
    ["NUL", "Ops\u0000"],
    ["a right-to-left override", "Ops \u202Egnp.exe"],
    ["a line break", "Ops\nteam"],
    ["DEL", "Ops\u007f"],
  ])("a name with %s", (_what, name) => {
    expect(refusal(() => create({ name })).details[0]?.path).toBe("name");
  });
  it("a __proto__ header key is refused, not dropped", () => {
    const err = refusal(() => create({ headers: JSON.parse('{"__proto__": "x", "X-Ok": "1"}') }));
    expect(err.details).toEqual([{ path: "headers.__proto__", reason: expect.any(String) }]);
  });
});

describe("11. address policy from the IANA special-purpose registries", () => {
  it.each([
    ["::ffff:0:7f00:1", "IPv4-translated (SIIT)"],
    ["::ffff:0:a9fe:a9fe", "IPv4-translated (SIIT)"],
    ["2001:10::1", "IETF protocol assignments"],
    ["2001:20::1", "IETF protocol assignments"],
    ["2001:2::1", "IETF protocol assignments"],
    ["3fff::1", "documentation"],
    ["5f00::1", "SRv6 SIDs"],
    ["100:0:0:1::1", "dummy prefix"],
  ])("%s is refused (%s)", (address, reason) => {
    expect(blockedAddressReason(address)).toBe(reason);
  });
  it.each(["2606:4700:4700::1111", "2620:4f:8000::1", "2a00:1450:4001:80b::200e", "2001:4860:4860::8888"])("%s is public", (address) => {
    expect(blockedAddressReason(address)).toBeNull();
  });
});
