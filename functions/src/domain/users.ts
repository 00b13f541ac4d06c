/**
 * Who a dashboard user is, as the host's `users/{uid}` doc says: the vocabulary the data layer
 * reads and the API layer decides on, kept here so neither imports the other for it.
 */

/** Roles as the deployed dashboard stores them in `users/{uid}.role`. */
export const USER_ROLES = ["member", "admin", "superadmin"] as const;
export type UserRole = (typeof USER_ROLES)[number];

export interface UserRecord {
  uid: string;
  /** null when the user has no `users/{uid}` doc or an unknown role: a stranger. */
  role: UserRole | null;
  sites: readonly string[];
  /** Soft-deleted (`deletedAt` on `users/{uid}`): no access anywhere, API keys included. */
  deleted?: true;
}

export type KeyAccess = "read" | "write";
