import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from "node:crypto";
import { setBounded } from "./bounded-map";

export const SIGNATURE_HEADER = "X-Owlette-Signature";

/**
 * Secrets are `whsec_` + base64 of 32 random bytes: the Standard Webhooks shape, so one secret
 * serves every scheme. The Owlette scheme keys the HMAC with the whole string, exactly as the
 * documented Node snippet does (`createHmac('sha256', secret)`).
 */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

const keys = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 5_000;

/**
 * The HMAC key of a secret string (its UTF-8 bytes), prepared once: an instance signs for the
 * same few secrets over and over. Same bytes as keying `createHmac` with the string itself.
 */
export function hmacKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret, "utf8"));
    setBounded(keys, secret, key, MAX_CACHED_KEYS);
  }
  return key;
}

/** Hex HMAC-SHA256 of the raw body, keyed with the secret string: `X-Owlette-Signature`. */
export function owletteSignature(secret: string, body: string | Buffer): string {
  return createHmac("sha256", hmacKey(secret)).update(body).digest("hex");
}

/** Constant-time check of an `X-Owlette-Signature` value against the raw body. */
export function verifyOwletteSignature(secret: string, body: string | Buffer, signature: string | undefined): boolean {
  if (!signature) return false;
  const expected = Buffer.from(owletteSignature(secret, body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
