import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The receiver verification kit: check a delivery's signature whatever scheme the webhook uses.
 * No dependencies beyond node:crypto, so a receiver can copy this file as it is.
 *
 *   const result = verify(rawBody, req.headers, process.env.OWLETTE_SECRET);
 *   if (!result.ok) return res.status(result.reason === "body_too_large" ? 413 : 401).send(result.reason);
 *
 * Pass the raw body (the exact bytes received, before any JSON parsing). `secret` may be a list
 * (during a rotation, the new and the old one). Say which scheme the webhook uses with
 * `opts.scheme`: the kit then accepts that scheme only (recognising it from the headers lets a
 * signature of one scheme be replayed as another's). Timestamped schemes (`standard`,
 * `timestamped`, `roost`) refuse a timestamp more than `toleranceSeconds` (300) away from now,
 * which stops replays after that window; `owlette`, `sha256` and `owlette_v1` sign no time, so
 * a captured delivery verifies for ever: deduplicate on `id`.
 *
 * `roost` is `timestamped` under the Owlette host's header, `Roost-Signature`; `owlette_v1` is
 * `sha256` with the previous secrets' values in `X-Owlette-Signature-Previous`, as `owlette`
 * sends them. Recognised from the headers, an `owlette_v1` delivery signed by one secret looks
 * exactly like a `sha256` one and is checked as one (the same check); during a rotation its
 * `X-Owlette-Signature-Previous` tells them apart.
 *
 * `id` is the event id as signed: the `webhook-id` header for `standard` (it is in the signed
 * content), the body's `id` for the others (the body is signed, the header is not). A
 * `webhook-id` header that contradicts the signed body is refused (`id_mismatch`): dedupe on
 * the returned `id`, never on the raw header (it is null for a body without one).
 *
 * Limits, so that a request nobody signed costs next to nothing: a body over `maxBodyBytes`
 * (default `MAX_BODY_BYTES`, 1 MiB) is refused (`body_too_large`) before anything else, and a
 * signature header of more than `MAX_SIGNATURE_ENTRIES` (10) entries (comma-separated; space-
 * separated for `standard`; `X-Owlette-Signature-Previous` counted with `X-Owlette-Signature`)
 * is refused (`too_many_signatures`) before any HMAC. Each secret's expected signature is
 * computed once and compared with every entry: one HMAC of the body per secret. Owlette never
 * comes near either limit: every event body is stored whole in one Firestore document (at most
 * 1 MiB) before it is sent, and a header carries at most 3 signatures (a new secret and 2
 * previous ones during a rotation). Your web framework should cap bodies too, before the body
 * is buffered for this call.
 */
export type VerifyScheme = "owlette" | "sha256" | "standard" | "timestamped" | "roost" | "owlette_v1";

export type VerifyResult =
  | { ok: true; scheme: VerifyScheme; id: string | null; timestamp: number | null }
  | {
      ok: false;
      reason:
        "missing_signature" | "bad_signature" | "stale_timestamp" | "bad_timestamp" | "no_secret" | "id_mismatch" | "body_too_large" | "too_many_signatures";
    };

export type HeaderBag = Record<string, string | string[] | undefined> | { get(name: string): string | null };

export interface VerifyOptions {
  scheme?: VerifyScheme;
  toleranceSeconds?: number;
  /** Unix seconds; defaults to the clock. */
  now?: number;
  /** Bodies larger than this many bytes are refused unverified (default `MAX_BODY_BYTES`). */
  maxBodyBytes?: number;
}

/** Above any body Owlette sends: each is stored in one Firestore document (1 MiB at most) first. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Owlette sends at most 3 signatures at once (during a rotation); the rest is room for other senders. */
export const MAX_SIGNATURE_ENTRIES = 10;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === "function") {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const bag = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : bag[key];
  return Array.isArray(value) ? value.join(",") : value;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const hex = (key: string | Buffer, data: string | Buffer) => createHmac("sha256", key).update(data).digest("hex");

/**
 * The non-empty entries of signature header values, or null past `MAX_SIGNATURE_ENTRIES`: the
 * count is bounded before any HMAC, so a header of thousands of entries costs a split, no more.
 */
function entries(values: readonly (string | undefined)[], separator: string): string[] | null {
  const found = values.flatMap((v) => (v ? v.split(separator) : [])).flatMap((p) => (p.trim() ? [p.trim()] : []));
  return found.length > MAX_SIGNATURE_ENTRIES ? null : found;
}

/** Each expected signature is computed once, by the caller, then compared with every entry. */
const matchesAny = (given: readonly string[], expected: string) => given.some((g) => same(g, expected));

const TOO_MANY = { ok: false, reason: "too_many_signatures" } as const;

function detect(headers: HeaderBag): VerifyScheme | null {
  if (header(headers, "webhook-signature")) return "standard";
  if (header(headers, "owlette-signature")) return "timestamped";
  if (header(headers, "roost-signature")) return "roost";
  const owlette = header(headers, "x-owlette-signature");
  if (!owlette) return null;
  if (!owlette.trim().startsWith("sha256=")) return "owlette";
  return header(headers, "x-owlette-signature-previous") ? "owlette_v1" : "sha256";
}

/** The header a `t=<unix>,v1=<hex>` scheme signs in. */
const TIMESTAMPED_HEADERS = { timestamped: "owlette-signature", roost: "roost-signature" } as const;

function fresh(timestamp: number, opts: VerifyOptions): boolean {
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  return Math.abs(now - timestamp) <= (opts.toleranceSeconds ?? 300);
}

/** The `id` of a JSON body, when it is one with a string id (Slack, Discord and PagerDuty formats have none). */
function bodyId(raw: Buffer): string | null {
  try {
    const parsed: unknown = JSON.parse(raw.toString("utf8"));
    const id = typeof parsed === "object" && parsed !== null ? (parsed as { id?: unknown }).id : undefined;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

/**
 * For schemes that sign the body alone: the body's id, and no header contradicting it. A body
 * without an id (the Slack, Discord and PagerDuty formats) gives `id: null`: nothing signed to
 * deduplicate on.
 */
function signedBodyId(raw: Buffer, headers: HeaderBag, scheme: VerifyScheme, timestamp: number | null): VerifyResult {
  const id = bodyId(raw);
  const claimed = header(headers, "webhook-id");
  if (id !== null && claimed !== undefined && claimed !== id) return { ok: false, reason: "id_mismatch" };
  return { ok: true, scheme, id, timestamp };
}

export function verify(body: string | Buffer, headers: HeaderBag, secret: string | readonly string[], opts: VerifyOptions = {}): VerifyResult {
  // First, before hashing or parsing anything of it.
  const size = typeof body === "string" ? Buffer.byteLength(body) : body.length;
  if (size > (opts.maxBodyBytes ?? MAX_BODY_BYTES)) return { ok: false, reason: "body_too_large" };
  const secrets = (typeof secret === "string" ? [secret] : [...secret]).filter((s) => s.length > 0);
  if (secrets.length === 0) return { ok: false, reason: "no_secret" };
  const scheme = opts.scheme ?? detect(headers);
  if (!scheme) return { ok: false, reason: "missing_signature" };
  const raw = typeof body === "string" ? Buffer.from(body) : body;

  switch (scheme) {
    case "owlette": {
      const given = entries([header(headers, "x-owlette-signature"), header(headers, "x-owlette-signature-previous")], ",");
      if (given === null) return TOO_MANY;
      if (given.length === 0) return { ok: false, reason: "missing_signature" };
      const ok = secrets.some((s) => matchesAny(given, hex(s, raw)));
      return ok ? signedBodyId(raw, headers, scheme, null) : { ok: false, reason: "bad_signature" };
    }
    case "sha256": {
      const given = entries([header(headers, "x-owlette-signature")], ",");
      if (given === null) return TOO_MANY;
      if (given.length === 0) return { ok: false, reason: "missing_signature" };
      const ok = secrets.some((s) => matchesAny(given, `sha256=${hex(s, raw)}`));
      return ok ? signedBodyId(raw, headers, scheme, null) : { ok: false, reason: "bad_signature" };
    }
    case "owlette_v1": {
      const given = entries([header(headers, "x-owlette-signature"), header(headers, "x-owlette-signature-previous")], ",");
      if (given === null) return TOO_MANY;
      if (given.length === 0) return { ok: false, reason: "missing_signature" };
      const ok = secrets.some((s) => matchesAny(given, `sha256=${hex(s, raw)}`));
      return ok ? signedBodyId(raw, headers, scheme, null) : { ok: false, reason: "bad_signature" };
    }
    case "timestamped":
    case "roost": {
      const parts = entries([header(headers, TIMESTAMPED_HEADERS[scheme])], ",");
      if (parts === null) return TOO_MANY;
      if (parts.length === 0) return { ok: false, reason: "missing_signature" };
      const t = Number(parts.find((p) => p.startsWith("t="))?.slice(2));
      if (!Number.isInteger(t)) return { ok: false, reason: "bad_timestamp" };
      if (!fresh(t, opts)) return { ok: false, reason: "stale_timestamp" };
      const signed = Buffer.concat([Buffer.from(`${t}.`), raw]);
      const given = parts.filter((p) => p.startsWith("v1=")).map((p) => p.slice(3));
      const ok = secrets.some((s) => matchesAny(given, hex(s, signed)));
      return ok ? signedBodyId(raw, headers, scheme, t) : { ok: false, reason: "bad_signature" };
    }
    case "standard": {
      // The id is part of the signed content here.
      const id = header(headers, "webhook-id") ?? null;
      const signatures = entries([header(headers, "webhook-signature")], " ");
      const stamp = header(headers, "webhook-timestamp");
      if (signatures === null) return TOO_MANY;
      if (signatures.length === 0 || !id || !stamp) return { ok: false, reason: "missing_signature" };
      const t = Number(stamp);
      if (!Number.isInteger(t)) return { ok: false, reason: "bad_timestamp" };
      if (!fresh(t, opts)) return { ok: false, reason: "stale_timestamp" };
      const signed = Buffer.concat([Buffer.from(`${id}.${t}.`), raw]);
      const given = signatures.filter((p) => p.startsWith("v1,")).map((p) => p.slice(3));
      const ok = secrets.some((s) => {
        const key = Buffer.from(s.startsWith("whsec_") ? s.slice(6) : s, "base64");
        return matchesAny(given, createHmac("sha256", key).update(signed).digest("base64"));
      });
      return ok ? { ok: true, scheme, id, timestamp: t } : { ok: false, reason: "bad_signature" };
    }
  }
}
