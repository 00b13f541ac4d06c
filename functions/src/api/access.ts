import type { KeyAccess, UserRecord } from "../domain/users";
import { ApiError } from "./errors";

export { USER_ROLES, type KeyAccess, type UserRecord, type UserRole } from "../domain/users";

/** Who is calling: a dashboard user (Firebase Auth), an API key, or an agent's custom token. */
export type Principal =
  { kind: "user"; user: UserRecord } | { kind: "api_key"; keyId: string; siteId: string; access: KeyAccess; user: UserRecord } | { kind: "agent" };

export type SiteAccess = "none" | "read" | "admin";

/**
 * The deployed rules' definition: a user can access a site when they own it, have it in
 * `users/{uid}.sites`, or are superadmin; site admins are users with role admin or superadmin
 * who can access the site. Members read only; agents and strangers get nothing.
 */
export function userSiteAccess(user: UserRecord, siteId: string, site: { owner?: unknown } | null): SiteAccess {
  if (user.role === "superadmin") return "admin";
  if (user.role === null || site === null) return "none";
  const canAccess = site.owner === user.uid || user.sites.includes(siteId);
  if (!canAccess) return "none";
  return user.role === "admin" ? "admin" : "read";
}

/** An API key acts for the user who made it, never beyond the key's own access or site. */
export function siteAccess(principal: Principal, siteId: string, site: { owner?: unknown } | null): SiteAccess {
  switch (principal.kind) {
    case "agent":
      return "none";
    case "user":
      return userSiteAccess(principal.user, siteId, site);
    case "api_key": {
      if (principal.siteId !== siteId) return "none";
      const access = userSiteAccess(principal.user, siteId, site);
      if (access === "admin" && principal.access === "read") return "read";
      return access;
    }
  }
}

/**
 * Refuses with 403 without saying whether the site exists: a stranger learns nothing. A caller
 * with access (only a superadmin can have it for a missing site) gets 404 for a missing site.
 */
export function requireSiteAccess(principal: Principal, siteId: string, site: { owner?: unknown } | null, needed: "read" | "admin"): void {
  const access = siteAccess(principal, siteId, site);
  if (access === "none") {
    const why =
      principal.kind === "agent"
        ? "agents cannot use the management API"
        : principal.user.deleted
          ? "this account has been deleted"
          : `no access to site ${siteId}`;
    throw new ApiError("permission_denied", why);
  }
  if (needed === "admin" && access !== "admin") {
    const why =
      principal.kind === "api_key" && principal.access === "read"
        ? "this API key is read-only"
        : "only site admins can change webhooks; members have read access";
    throw new ApiError("permission_denied", why);
  }
  if (site === null) throw new ApiError("not_found", `site ${siteId} not found`);
}
