// What the views share: the context each one gets, and the hash routes between them. Kept apart
// from main.ts, which starts the app when it is imported, so a view imports no start-up and no
// view imports another through main.
import type { User } from "firebase/auth";
import type { Services } from "./firebase";
import type { Profile } from "./model";

export interface Site {
  id: string;
  name: string;
  owner: string | null;
}

/** What every view gets. */
export interface Ctx {
  svc: Services;
  user: User;
  profile: Profile | null;
  site: Site;
  /** The user may change this site's webhooks (the callables check it again). */
  admin: boolean;
  embedded: boolean;
}

export type Cleanup = () => void;

export const siteHref = (siteId: string) => `#/sites/${encodeURIComponent(siteId)}`;
export const webhookHref = (siteId: string, webhookId: string) => `${siteHref(siteId)}/webhooks/${encodeURIComponent(webhookId)}`;
