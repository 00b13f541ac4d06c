import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * API keys look like `owk_<keyId>_<secret>`: the key id names the server-only doc holding the
 * key's SHA-256 (one read, no scan), the 32 random bytes make the hash safe to store unsalted
 * (nothing to brute-force), and the `owk_` prefix lets secret scanners spot leaked keys.
 */
const KEY_PATTERN = /^owk_([A-Za-z0-9]{20})_([A-Za-z0-9_-]{43})$/;

export function generateApiKey(keyId: string): { key: string; hash: string; prefix: string } {
  if (!/^[A-Za-z0-9]{20}$/.test(keyId)) throw new Error("key ids are 20 alphanumeric characters");
  const key = `owk_${keyId}_${randomBytes(32).toString("base64url")}`;
  return { key, hash: hashApiKey(key), prefix: displayPrefix(keyId) };
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** What the dashboard shows to tell keys apart; never enough to use one. */
export function displayPrefix(keyId: string): string {
  return `owk_${keyId.slice(0, 6)}…`;
}

export function parseApiKey(key: string): { keyId: string } | null {
  const match = KEY_PATTERN.exec(key);
  return match ? { keyId: match[1] as string } : null;
}

export function apiKeyMatches(key: string, storedHash: string): boolean {
  const given = Buffer.from(hashApiKey(key), "hex");
  const stored = Buffer.from(storedHash, "hex");
  return given.length === stored.length && timingSafeEqual(given, stored);
}

/** `Authorization: Bearer <key>`; anything else is no key at all. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match ? (match[1] as string) : null;
}

/** `lastUsedAt` is refreshed at most once a minute, so a busy key is not a hot document. */
export const LAST_USED_REFRESH_MS = 60_000;
