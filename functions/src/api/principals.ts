import type { ManagementStore } from "../data/management-store";
import type { Principal } from "./access";
import { apiKeyMatches, bearerToken, LAST_USED_REFRESH_MS, parseApiKey } from "./api-keys";
import { ApiError } from "./errors";

/**
 * A dashboard caller from a verified Firebase Auth ID token. Agents (custom token claim
 * `role: "agent"`) are recognised so they can be refused by name; everyone else is looked up
 * in `users/{uid}` on every call, so a changed role takes effect at once.
 */
export async function principalFromAuth(auth: { uid: string; token: Record<string, unknown> } | undefined, manage: ManagementStore): Promise<Principal> {
  if (!auth) throw new ApiError("unauthenticated", "sign in first: this function needs a Firebase Auth ID token");
  if (auth.token.role === "agent") return { kind: "agent" };
  return { kind: "user", user: await manage.loadUser(auth.uid) };
}

/**
 * An automation caller from `Authorization: Bearer owk_...`. Every failure is the same 401 so a
 * caller cannot tell a revoked key from one that never existed.
 */
export async function principalFromApiKey(authorization: string | undefined, manage: ManagementStore, now: Date): Promise<Principal> {
  const key = bearerToken(authorization);
  if (!key) throw new ApiError("unauthenticated", "missing API key: send `Authorization: Bearer <api key>`");
  const parsed = parseApiKey(key);
  const doc = parsed && (await manage.loadApiKey(parsed.keyId));
  if (!parsed || !doc || doc.revokedAt || !doc.hash || !apiKeyMatches(key, doc.hash)) {
    throw new ApiError("unauthenticated", "invalid or revoked API key");
  }
  const lastUsed = doc.lastUsedAt?.toMillis() ?? 0;
  if (now.getTime() - lastUsed >= LAST_USED_REFRESH_MS) await manage.touchApiKey(parsed.keyId, now);
  return {
    kind: "api_key",
    keyId: parsed.keyId,
    siteId: doc.siteId,
    access: doc.access,
    user: await manage.loadUser(doc.uid),
  };
}
