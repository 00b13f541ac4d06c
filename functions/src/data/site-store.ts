import type { Firestore } from "firebase-admin/firestore";
import { siteRefOf, type SiteRef } from "../domain/payload";
import { paths } from "./paths";
import { ReadCache } from "./read-cache";

/** The most a site's own `eventsPerHour` or `offlinePerHour` admits in an hour (larger values are read as this). */
export const MAX_SITE_LIMIT = 10_000;

/**
 * How long an instance trusts its read of a site's settings (name, own limits) and of a machine's
 * name: a rename or a new limit applies to events at most this much later.
 */
export const RECENT_READ_MAX_AGE_MS = 30_000;

export interface SiteSettings {
  site: SiteRef;
  eventsPerHour: number | null;
  offlinePerHour?: number | null;
}

/** Sites and their settings, and machine names, as events name them. */
export class SiteStore {
  constructor(private readonly db: Firestore) {}

  private readonly recentSites = new ReadCache<SiteSettings>(RECENT_READ_MAX_AGE_MS);

  private readonly recentNames = new ReadCache<string | undefined>(RECENT_READ_MAX_AGE_MS);

  /** The site's settings as this instance read them at most RECENT_READ_MAX_AGE_MS ago: an event on a warm instance reads no site doc. */
  recentSiteSettings(siteId: string): Promise<SiteSettings> {
    return this.recentSites.get(siteId, () => this.loadSiteSettings(siteId));
  }

  /** The machine's name as this instance read it at most RECENT_READ_MAX_AGE_MS ago. */
  recentMachineName(siteId: string, machineId: string): Promise<string | undefined> {
    return this.recentNames.get(`${siteId}/${machineId}`, () => this.loadMachineName(siteId, machineId));
  }

  async loadSite(siteId: string): Promise<SiteRef> {
    return (await this.loadSiteSettings(siteId)).site;
  }

  /** The site as payloads name it, and its own emission limits (`eventsPerHour`, `offlinePerHour`, server-written), if any. */
  async loadSiteSettings(siteId: string): Promise<SiteSettings> {
    const data = (await this.db.doc(paths.site(siteId)).get()).data();
    // At most MAX_SITE_LIMIT: the site's ledger (domain/emission-ledger.ts) stays within a doc's 1 MiB.
    const limit = (v: unknown) => (typeof v === "number" && Number.isInteger(v) && v > 0 ? Math.min(v, MAX_SITE_LIMIT) : null);
    return { site: siteRefOf(siteId, data), eventsPerHour: limit(data?.eventsPerHour), offlinePerHour: limit(data?.offlinePerHour) };
  }

  async loadMachineName(siteId: string, machineId: string): Promise<string | undefined> {
    const snap = await this.db.doc(paths.machine(siteId, machineId)).get();
    const name = snap.get("name");
    return typeof name === "string" && name ? name : undefined;
  }
}
