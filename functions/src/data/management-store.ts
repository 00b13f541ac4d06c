import { FieldPath, FieldValue, Timestamp, type DocumentData, type Firestore, type Query } from "firebase-admin/firestore";
import type { EventType } from "../domain/event-catalog";
import { rotateSecrets } from "../domain/secret-rotation";
import { keepsUrlSecret, redactUrl, type Format } from "../domain/destination-formats";
import type { SignatureScheme } from "../domain/signature-schemes";
import { generateSecret } from "../domain/signing";
import { USER_ROLES, type KeyAccess, type UserRecord, type UserRole } from "../domain/users";
import { paths } from "./paths";
import { parseOrNull, toSecretSet, fromSecretSet } from "./parse";
import { secretDocSchema, type DeliveryStatus, type HttpMethod } from "./webhook-docs";

export interface NewWebhook {
  name: string;
  url: string;
  events: EventType[];
  createdBy: string;
  description?: string;
  signatureScheme?: SignatureScheme;
  method?: HttpMethod;
  headers?: Record<string, string>;
  format?: Format;
  routingKey?: string;
}

export interface WebhookPatch {
  enabled?: boolean;
  name?: string;
  url?: string;
  events?: EventType[];
  description?: string;
  method?: HttpMethod;
  signatureScheme?: SignatureScheme;
  headers?: Record<string, string>;
  format?: Format;
  routingKey?: string;
}

export interface SiteDoc {
  owner?: unknown;
  name?: unknown;
  plan?: unknown;
  webhookQuota?: unknown;
}

/** A webhook create refused because the site is at its cap. */
export class QuotaExceededError extends Error {
  constructor(readonly quota: number) {
    super(`site is at its webhook quota (${quota})`);
  }
}

export interface StoredDoc {
  id: string;
  data: DocumentData;
}

export interface ApiKeyDoc {
  siteId: string;
  uid: string;
  name: string;
  access: KeyAccess;
  hash: string;
  prefix: string;
  createdAt: Timestamp;
  lastUsedAt: Timestamp | null;
  revokedAt: Timestamp | null;
}

/**
 * Firestore access of the management API: webhook configuration, API keys, delivery history.
 * The delivery path's own access stays in `Store`.
 */
export class ManagementStore {
  constructor(readonly db: Firestore) {}

  async loadSite(siteId: string): Promise<SiteDoc | null> {
    const snap = await this.db.doc(paths.site(siteId)).get();
    return snap.exists ? (snap.data() as SiteDoc) : null;
  }

  async loadUser(uid: string): Promise<UserRecord> {
    const data = (await this.db.doc(paths.user(uid)).get()).data();
    // Soft-deleted by an admin (the host sets `deletedAt`): refused everywhere at once, as the
    // host's own rules refuse it, whatever role and sites the doc still holds.
    if (data?.deletedAt !== undefined && data.deletedAt !== null) return { uid, role: null, sites: [], deleted: true };
    const role = (USER_ROLES as readonly unknown[]).includes(data?.role) ? (data?.role as UserRole) : null;
    const sites = Array.isArray(data?.sites) ? data.sites.filter((s: unknown): s is string => typeof s === "string") : [];
    return { uid, role, sites };
  }

  /**
   * Creates a webhook and its signing secret. The count and the insert share a transaction
   * that also writes the site doc, so two creates racing at the cap are serialised and the
   * second sees the first. The secret lives in a server-only doc and is returned here once.
   */
  async createWebhook(
    siteId: string,
    input: NewWebhook,
    opts: { quota?: number; now?: Date } = {},
  ): Promise<{ id: string; secret: string; data: DocumentData }> {
    const now = opts.now ?? new Date();
    const headers = input.headers ?? {};
    const siteRef = this.db.doc(paths.site(siteId));
    const ref = this.db.collection(paths.webhooks(siteId)).doc();
    const secret = generateSecret();
    const data = {
      name: input.name,
      description: input.description ?? "",
      url: keepsUrlSecret(input.format ?? "owlette", input.url) ? redactUrl(input.url) : input.url,
      events: input.events,
      signatureScheme: input.signatureScheme ?? "owlette",
      method: input.method ?? "POST",
      format: input.format ?? "owlette",
      // Header values can be credentials: only their names sit in the client-readable doc.
      headerNames: Object.keys(headers),
      enabled: true,
      failCount: 0,
      failStreak: [],
      lastStatus: null,
      lastDeliveryAt: null,
      disabledReason: null,
      secretVersion: 0,
      createdAt: Timestamp.fromDate(now),
      updatedAt: Timestamp.fromDate(now),
      createdBy: input.createdBy,
    };
    await this.db.runTransaction(async (tx) => {
      if (opts.quota !== undefined) {
        const [site, count] = await Promise.all([tx.get(siteRef), tx.get(this.db.collection(paths.webhooks(siteId)).count())]);
        if (count.data().count >= opts.quota) throw new QuotaExceededError(opts.quota);
        if (site.exists) tx.update(siteRef, { webhooksChangedAt: Timestamp.fromDate(now) });
      }
      tx.create(ref, data);
      tx.create(this.db.doc(paths.webhookSecret(siteId, ref.id)), {
        current: secret,
        previous: [],
        headers,
        ...(input.routingKey ? { routingKey: input.routingKey } : {}),
        ...(keepsUrlSecret(input.format ?? "owlette", input.url) ? { url: input.url } : {}),
        createdAt: Timestamp.fromDate(now),
      });
    });
    return { id: ref.id, secret, data };
  }

  /** The site's webhooks, newest first; one the host soft-deleted (`deletedAt`) is hidden, as the host hides it. */
  async listWebhooks(siteId: string): Promise<StoredDoc[]> {
    const snap = await this.db.collection(paths.webhooks(siteId)).orderBy("createdAt", "desc").get();
    return snap.docs.filter((d) => !softDeleted(d.data())).map((d) => ({ id: d.id, data: d.data() }));
  }

  async getWebhook(siteId: string, webhookId: string): Promise<StoredDoc | null> {
    const snap = await this.db.doc(paths.webhook(siteId, webhookId)).get();
    const data = snap.data();
    return data && !softDeleted(data) ? { id: snap.id, data } : null;
  }

  /**
   * Applies a patch in one transaction; returns the updated doc, or null when the webhook does
   * not exist. `enabled` follows `setEnabled`: on resets the health, off is a manual disable.
   */
  async updateWebhook(siteId: string, webhookId: string, patch: WebhookPatch, now = new Date()): Promise<StoredDoc | null> {
    const ref = this.db.doc(paths.webhook(siteId, webhookId));
    const secretRef = this.db.doc(paths.webhookSecret(siteId, webhookId));
    return this.db.runTransaction(async (tx) => {
      const [snap, secretSnap] = await tx.getAll(ref, secretRef);
      if (!snap?.exists) return null;
      const { headers, enabled, routingKey, url, ...fields } = patch;
      const update: DocumentData = {
        ...fields,
        ...(enabled === undefined ? {} : enabledFields(enabled, "manual")),
        ...(headers ? { headerNames: Object.keys(headers) } : {}),
        updatedAt: Timestamp.fromDate(now),
      };
      // Credentials go to the server-only doc beside the webhook. Headers are replaced whole:
      // the stored map is exactly the last one given (an old Authorization never lingers).
      const secrets: DocumentData = { ...(headers ? { headers } : {}), ...(routingKey ? { routingKey } : {}) };
      if (url !== undefined || patch.format !== undefined) {
        const format = (patch.format ?? snap.get("format") ?? "owlette") as Format;
        const storedUrl: unknown = secretSnap?.get("url");
        const realUrl: string = url ?? (typeof storedUrl === "string" ? storedUrl : snap.get("url"));
        // A URL once kept secret stays secret until it is replaced, whatever the new format.
        const secret = keepsUrlSecret(format, realUrl) || (url === undefined && typeof storedUrl === "string");
        update.url = secret ? redactUrl(realUrl) : realUrl;
        secrets.url = secret ? realUrl : FieldValue.delete();
      }
      if (Object.keys(secrets).length > 0) {
        tx.set(secretRef, secrets, { mergeFields: Object.keys(secrets) });
        // Instances' cached copies of the secret doc are stale from now (delivery/secret-cache.ts).
        tx.update(ref, { ...update, secretVersion: FieldValue.increment(1) });
      } else tx.update(ref, update);
      return { id: webhookId, data: { ...snap.data(), ...update } };
    });
  }

  /**
   * Switches delivery on or off. Switching on gives the webhook a clean slate (`failCount` 0,
   * no `disabledReason`); switching off records why: `paused` or `manual`.
   */
  async setEnabled(siteId: string, webhookId: string, enabled: boolean, reason: "paused" | "manual", now = new Date()): Promise<StoredDoc | null> {
    return this.mutateWebhook(siteId, webhookId, now, () => enabledFields(enabled, reason));
  }

  private async mutateWebhook(
    siteId: string,
    webhookId: string,
    now: Date,
    change: (tx: FirebaseFirestore.Transaction) => DocumentData,
  ): Promise<StoredDoc | null> {
    const ref = this.db.doc(paths.webhook(siteId, webhookId));
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      if (!snap.exists) return null;
      const update = { ...change(tx), updatedAt: Timestamp.fromDate(now) };
      tx.update(ref, update);
      return { id: webhookId, data: { ...snap.data(), ...update } };
    });
  }

  /**
   * Deletes the webhook and its secret, then marks its pending deliveries skipped so no
   * scheduled retry is sent (a retry task that still fires finds the delivery settled).
   * Delivery history stays until its TTL. Returns false when there was nothing to delete.
   */
  async deleteWebhook(siteId: string, webhookId: string, now = new Date()): Promise<{ deleted: boolean; pendingSkipped: number }> {
    const ref = this.db.doc(paths.webhook(siteId, webhookId));
    const existed = await this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      if (!snap.exists) return false;
      tx.delete(ref);
      tx.delete(this.db.doc(paths.webhookSecret(siteId, webhookId)));
      return true;
    });
    if (!existed) return { deleted: false, pendingSkipped: 0 };
    const pending = await this.db.collection(paths.deliveries(siteId, webhookId)).where("status", "==", "pending").get();
    const writer = this.db.bulkWriter();
    for (const doc of pending.docs) {
      writer.update(doc.ref, {
        status: "skipped",
        skippedReason: "webhook_deleted",
        nextAttempt: null,
        nextAttemptAt: null,
        updatedAt: Timestamp.fromDate(now),
      });
    }
    await writer.close();
    return { deleted: true, pendingSkipped: pending.size };
  }

  /**
   * Replaces the signing secret. The old one keeps signing beside the new one for
   * `overlapSeconds` (0: it stops at once). Returns the new secret: the only time it is shown.
   * Null when the webhook has no secret doc (it does not exist).
   */
  async rotateSecret(siteId: string, webhookId: string, overlapSeconds: number, now = new Date()): Promise<string | null> {
    const ref = this.db.doc(paths.webhookSecret(siteId, webhookId));
    const webhookRef = this.db.doc(paths.webhook(siteId, webhookId));
    const secret = generateSecret();
    const done = await this.db.runTransaction(async (tx) => {
      const [secretSnap, webhookSnap] = await tx.getAll(ref, webhookRef);
      const doc = parseOrNull(secretDocSchema, secretSnap?.data());
      if (!doc) return false;
      const next = rotateSecrets(toSecretSet(doc), secret, now.getTime(), overlapSeconds);
      tx.update(ref, { ...fromSecretSet(next), rotatedAt: Timestamp.fromDate(now) });
      // Every attempt from now on signs with the new secret, cached copies notwithstanding.
      if (webhookSnap?.exists) tx.update(webhookRef, { secretVersion: FieldValue.increment(1) });
      return true;
    });
    return done ? secret : null;
  }

  /** The test action's result, shown on the dashboard card; health counters are left alone. */
  async recordTestResult(siteId: string, webhookId: string, lastStatus: number | string, now = new Date()): Promise<boolean> {
    try {
      await this.db.doc(paths.webhook(siteId, webhookId)).update({ lastStatus, lastTestAt: Timestamp.fromDate(now) });
      return true;
    } catch (err) {
      // Deleted while the test request was out: nothing to write the result to.
      if ((err as { code?: number }).code === 5) return false;
      throw err;
    }
  }

  /** Newest first, paged by an opaque cursor (the last doc's `createdAt` and id). */
  async listDeliveries(
    siteId: string,
    webhookId: string,
    opts: { limit: number; after?: { createdAtMs: number; id: string }; status?: DeliveryStatus },
  ): Promise<{ docs: StoredDoc[]; more: boolean }> {
    let query: Query = this.db.collection(paths.deliveries(siteId, webhookId));
    if (opts.status) query = query.where("status", "==", opts.status);
    query = query.orderBy("createdAt", "desc").orderBy(FieldPath.documentId(), "desc");
    if (opts.after) query = query.startAfter(Timestamp.fromMillis(opts.after.createdAtMs), opts.after.id);
    const snap = await query.limit(opts.limit + 1).get();
    const docs = snap.docs.slice(0, opts.limit).map((d) => ({ id: d.id, data: d.data() }));
    return { docs, more: snap.size > opts.limit };
  }

  async getDelivery(siteId: string, webhookId: string, deliveryId: string): Promise<StoredDoc | null> {
    const snap = await this.db.doc(paths.delivery(siteId, webhookId, deliveryId)).get();
    return snap.exists ? { id: snap.id, data: snap.data() as DocumentData } : null;
  }

  /**
   * Counts one use of a site's `bucket` in the current fixed window and says whether it is
   * within `limit`. An increment then a read, no transaction: it never admits more than `limit`
   * (a use reads a count at least its own rank), may refuse one racing the limit, and a burst
   * hammering the same doc gets refusals, never aborted transactions.
   */
  async countUse(siteId: string, bucket: string, limit: number, windowSeconds: number, now: Date): Promise<boolean> {
    const window = Math.floor(now.getTime() / (windowSeconds * 1000));
    const ref = this.db.doc(paths.rateLimit(siteId, `${bucket}_${window}`));
    await ref.set({ bucket, window, count: FieldValue.increment(1), expireAt: Timestamp.fromMillis((window + 2) * windowSeconds * 1000) }, { merge: true });
    return Number((await ref.get()).get("count") ?? 0) <= limit;
  }

  // API keys: `apiKeys/{keyId}`, server only (no security rule opens it).

  newApiKeyId(): string {
    return this.db.collection(paths.apiKeys()).doc().id;
  }

  async createApiKey(keyId: string, doc: Omit<ApiKeyDoc, "createdAt" | "lastUsedAt" | "revokedAt">, now: Date): Promise<ApiKeyDoc> {
    const data: ApiKeyDoc = { ...doc, createdAt: Timestamp.fromDate(now), lastUsedAt: null, revokedAt: null };
    await this.db.doc(paths.apiKey(keyId)).create(data);
    return data;
  }

  async loadApiKey(keyId: string): Promise<ApiKeyDoc | null> {
    const snap = await this.db.doc(paths.apiKey(keyId)).get();
    return snap.exists ? (snap.data() as ApiKeyDoc) : null;
  }

  async listApiKeys(siteId: string, uid?: string): Promise<StoredDoc[]> {
    let query: Query = this.db.collection(paths.apiKeys()).where("siteId", "==", siteId);
    if (uid) query = query.where("uid", "==", uid);
    const snap = await query.get();
    return snap.docs.map((d) => ({ id: d.id, data: d.data() })).sort((a, b) => (b.data.createdAt?.toMillis?.() ?? 0) - (a.data.createdAt?.toMillis?.() ?? 0));
  }

  async touchApiKey(keyId: string, now: Date): Promise<void> {
    await this.db.doc(paths.apiKey(keyId)).update({ lastUsedAt: Timestamp.fromDate(now) });
  }

  async revokeApiKey(keyId: string, now: Date): Promise<void> {
    await this.db.doc(paths.apiKey(keyId)).update({ revokedAt: Timestamp.fromDate(now), hash: FieldValue.delete() });
  }
}

const softDeleted = (d: DocumentData) => d.deletedAt !== undefined && d.deletedAt !== null;

function enabledFields(enabled: boolean, reason: "paused" | "manual"): DocumentData {
  return enabled ? { enabled: true, failCount: 0, failStreak: [], disabledReason: null } : { enabled: false, disabledReason: reason };
}
