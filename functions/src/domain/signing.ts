import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "X-Owlette-Signature";

/**
 * Secrets are `whsec_` + base64 of 32 random bytes: the Standard Webhooks shape, so one secret
 * serves every scheme. The Owlette scheme keys the HMAC with the whole string, exactly as the
 * documented Node snippet does (`createHmac('sha256', secret)`).
 */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** Hex HMAC-SHA256 of the raw body, keyed with the secret string: `X-Owlette-Signature`. */
export function owletteSignature(secret: string, body: string | Buffer): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

/** Constant-time check of an `X-Owlette-Signature` value against the raw body. */
export function verifyOwletteSignature(
  secret: string,
  body: string | Buffer,
  signature: string | undefined,
): boolean {
  if (!signature) return false;
  const expected = Buffer.from(owletteSignature(secret, body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
