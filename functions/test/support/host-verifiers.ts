import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Receivers of the Owlette host's webhooks, written from its documented formats alone (no code
 * of the pipeline): what a receiver built against the host checks.
 */

const hex = (secret: string, data: string) => createHmac("sha256", secret).update(data).digest("hex");
const equal = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * The public API's `Roost-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`: HMAC-SHA256 keyed with the
 * secret string over `<t>.<raw body>`; a `t` more than 5 minutes from the receiver's clock is refused.
 */
export function verifyRoostSignature(header: string | undefined, body: string, secret: string, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  if (!header) return false;
  let t: number | null = null;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t" && /^\d+$/.test(value)) t = Number(value);
    else if (key === "v1") v1.push(value);
  }
  if (t === null || v1.length === 0 || Math.abs(nowSeconds - t) > 300) return false;
  const expected = hex(secret, `${t}.${body}`);
  return v1.some((given) => equal(given, expected));
}

/** The dashboard (v1) sender's `X-owlette-Signature: sha256=<hex>`: HMAC-SHA256 of the raw body keyed with the secret string, one value. */
export function verifySha256Signature(header: string | undefined, body: string, secret: string): boolean {
  return header !== undefined && equal(header, `sha256=${hex(secret, body)}`);
}
