import {
  FieldValue,
  Timestamp,
  type DocumentReference,
  type Firestore,
  type QueryDocumentSnapshot,
} from "firebase-admin/firestore";
import type { EventType } from "../domain/event-catalog";
import { siteRefOf, type SiteRef } from "../domain/payload";
import { hasExpiredSecrets, withoutExpired, type SecretSet } from "../domain/secret-rotation";
import { STALE_REASON } from "../domain/detect-machine-events";
import { isStale } from "../domain/staleness";
import { NEEDS_MIGRATION, webhookShape } from "../domain/legacy-webhooks";
import type { QuestionState } from "../domain/event-order";
import { deliveryIdFor } from "../domain/ids";
import { healthAfterAttempt, type HealthUpdate } from "../domain/webhook-health";
import type { Log } from "../log";
import { expiryFrom, paths } from "./paths";
import {
  deliveryDocSchema,
  eventDocSchema,
  secretDocSchema,
  webhookDocSchema,
  type DeliveryDoc,
  type DeliveryStatus,
  type EventDoc,
  type SecretDoc,
  type WebhookDoc,
} from "./webhook-docs";

/** All Firestore access of the pipeline. Triggers and handlers call these, never the SDK. */
export class Store {
  constructor(readonly db: Firestore) {}

  async loadSite(siteId: string): Promise<SiteRef> {
    return (await this.loadSiteSettings(siteId)).site;
  }

  /** The site as payloads name it, and its own emission limit (`eventsPerHour`, server-written), if any. */
  async loadSiteSettings(siteId: string): Promise<{ site: SiteRef; eventsPerHour: number | null }> {
    const data = (await this.db.doc(paths.site(siteId)).get()).data();
    const limit = data?.eventsPerHour;
    return { site: siteRefOf(siteId, data), eventsPerHour: typeof limit === "number" && Number.isInteger(limit) && limit > 0 ? limit : null };
  }

  async loadMachineName(siteId: string, machineId: string): Promise<string | undefined> {
    const snap = await this.db.doc(paths.machine(siteId, machineId)).get();
    const name = snap.get("name");
    return typeof name === "string" && name ? name : undefined;
  }

  /** Idempotent: a replayed report rewrites the same bytes under the same id. */
  async saveEvent(
    siteId: string,
    event: { id: string; type: EventType; body: string; occurredAt: Date; webhookIds?: string[]; follows?: string | undefined },
  ) {
    await this.db.doc(paths.event(siteId, event.id)).set({
      id: event.id,
      type: event.type,
      body: event.body,
      occurredAt: Timestamp.fromDate(event.occurredAt),
      expireAt: Timestamp.fromDate(expiryFrom(event.occurredAt)),
      // Whom it was fanned out to, and the event it answers: an answer waits for its question.
      ...(event.webhookIds ? { webhookIds: event.webhookIds } : {}),
      ...(event.follows ? { follows: event.follows } : {}),
    });
  }

  /**
   * Webhooks of the site subscribed to `type` that get a delivery. One query on `events` alone,
   * so that webhook docs written by deployed Owlette dashboards and its public API (a `secret` or
   * `signingSecret` inside the doc, `paused` instead of `enabled`) are seen too: those are never
   * delivered to before `cli webhooks migrate` moves their secret out of the client-readable doc,
   * and say so on the doc (`disabledReason: "needs_migration"`, `enabled` untouched) instead of
   * being skipped silently.
   * `paused: true` and `deletedAt` are honoured.
   */
  async fanOutTargets(siteId: string, type: EventType, log?: Log): Promise<string[]> {
    const snap = await this.db
      .collection(paths.webhooks(siteId))
      .where("events", "array-contains", type)
      .select(...LEGACY_SHAPE_FIELDS)
      .get();
    const targets: string[] = [];
    for (const doc of snap.docs) {
      const shape = webhookShape(doc.data());
      if (shape === "deliverable") targets.push(doc.id);
      else if (shape === "legacy_active") {
        await flagForMigration(doc.ref, new Date());
        log?.warn("webhook.needs_migration", { siteId, webhookId: doc.id });
      }
    }
    return targets;
  }

  /** Everything one attempt needs, in a single round trip. */
  async loadDeliveryContext(ids: { siteId: string; webhookId: string; eventId: string; deliveryId: string }) {
    const refs = [
      this.db.doc(paths.webhook(ids.siteId, ids.webhookId)),
      this.db.doc(paths.webhookSecret(ids.siteId, ids.webhookId)),
      this.db.doc(paths.event(ids.siteId, ids.eventId)),
      this.db.doc(paths.delivery(ids.siteId, ids.webhookId, ids.deliveryId)),
    ] as const;
    const [webhook, secret, event, delivery] = await this.db.getAll(...refs);
    return {
      webhook: parseOrNull(webhookDocSchema, webhook?.data()),
      secret: parseOrNull(secretDocSchema, secret?.data()),
      event: parseOrNull(eventDocSchema, event?.data()),
      delivery: parseOrNull(deliveryDocSchema, delivery?.data()),
      deliveryExists: delivery?.exists ?? false,
    } satisfies {
      webhook: WebhookDoc | null;
      secret: SecretDoc | null;
      event: EventDoc | null;
      delivery: DeliveryDoc | null;
      deliveryExists: boolean;
    };
  }

  /** Where the event an answer follows stands for one webhook (see domain/event-order.ts), in one round trip. */
  async loadQuestion(ids: { siteId: string; webhookId: string }, questionEventId: string): Promise<QuestionState> {
    const [event, delivery] = await this.db.getAll(
      this.db.doc(paths.event(ids.siteId, questionEventId)),
      this.db.doc(paths.delivery(ids.siteId, ids.webhookId, deliveryIdFor(questionEventId, ids.webhookId))),
    );
    const fannedOutTo = event?.get("webhookIds");
    const status = delivery?.get("status");
    const next = delivery?.get("nextAttemptAt");
    return {
      fannedOutTo: Array.isArray(fannedOutTo) ? fannedOutTo : null,
      delivery: typeof status === "string" ? { status, nextAttemptAtMs: next instanceof Timestamp ? next.toMillis() : null } : null,
    };
  }

  /**
   * Step 1 of recording an attempt: the delivery doc alone. Once this lands, a retried task never
   * sends this attempt again.
   *
   * A success that changes nothing on the webhook (the common case) is one plain write and needs
   * no step 2, keeping the webhook doc off the hot path. Anything else is a transaction on the
   * delivery doc that re-reads it, so a manual retry and a scheduled attempt finishing together
   * cannot undo each other (a succeeded delivery stays succeeded; a failed manual retry leaves a
   * pending delivery on its schedule), and that parks the outcome in `healthPending` for step 2,
   * `applyPendingHealth`.
   */
  async recordAttempt(input: {
    siteId: string;
    webhookId: string;
    delivery: DeliveryRecordWrite;
    outcome: { ok: boolean; lastStatus: number | string; gone?: boolean };
    preloaded: WebhookDoc;
    now: Date;
  }): Promise<{ status: DeliveryStatus; healthPending: boolean }> {
    const deliveryRef = this.db.doc(paths.delivery(input.siteId, input.webhookId, input.delivery.id));
    const quiet =
      input.outcome.ok && healthAfterAttempt(healthOf(input.preloaded), input.outcome, input.now.getTime()) === null;
    if (quiet) {
      await deliveryRef.set(deliveryWrite(input.delivery, input.now), { merge: true });
      return { status: input.delivery.status, healthPending: false };
    }
    const { attempt } = input.delivery;
    const pending: PendingHealth = {
      attempt: attempt.attempt,
      ok: input.outcome.ok,
      gone: input.outcome.gone ?? false,
      lastStatus: input.outcome.lastStatus,
      at: Timestamp.fromDate(input.now),
    };
    return this.db.runTransaction(async (tx) => {
      const current = parseOrNull(deliveryDocSchema, (await tx.get(deliveryRef)).data());
      let write = input.delivery;
      let keepSchedule = false;
      if (current?.status === "succeeded") {
        // Delivered meanwhile (a manual retry and a scheduled attempt crossed): stays delivered.
        write = { ...write, status: "succeeded" };
        keepSchedule = true;
      } else if (attempt.manual && !input.outcome.ok) {
        keepSchedule = current?.status === "pending";
        write = { ...write, status: keepSchedule ? "pending" : "failed" };
      }
      tx.set(
        deliveryRef,
        {
          ...deliveryWrite(write, input.now, { keepSchedule }),
          healthPending: { [`${attempt.attempt}${attempt.manual ? "m" : ""}`]: pending },
        },
        { merge: true },
      );
      return { status: write.status, healthPending: true };
    });
  }

  /**
   * Step 2: applies the delivery's parked outcomes to the webhook's `failCount`, `lastStatus`
   * and auto-disable, in one transaction over both docs that also clears them, so each outcome
   * counts exactly once however often this runs. Stops a pending delivery whose webhook is gone
   * or off, whoever switched it off.
   */
  async applyPendingHealth(ids: { siteId: string; webhookId: string; deliveryId: string }): Promise<{ health: HealthUpdate | null; status: DeliveryStatus }> {
    const webhookRef = this.db.doc(paths.webhook(ids.siteId, ids.webhookId));
    const deliveryRef = this.db.doc(paths.delivery(ids.siteId, ids.webhookId, ids.deliveryId));
    return this.db.runTransaction(
      async (tx) => {
        const [webhookSnap, deliverySnap] = await tx.getAll(webhookRef, deliveryRef);
        const delivery = parseOrNull(deliveryDocSchema, deliverySnap?.data());
        const outcomes = Object.values(delivery?.healthPending ?? {}).sort((a, b) => a.at.toMillis() - b.at.toMillis());
        if (!delivery || outcomes.length === 0) return { health: null, status: delivery?.status ?? "failed" };
        const current = webhookSnap?.exists ? parseOrNull(webhookDocSchema, webhookSnap.data()) : null;
        let state = current ? healthOf(current) : null;
        let health = null as HealthUpdate | null;
        for (const outcome of outcomes) {
          const next = state ? healthAfterAttempt(state, outcome, outcome.at.toMillis()) : null;
          if (!next || !state) continue;
          health = health ? { ...health, ...next } : next;
          state = { enabled: next.enabled ?? state.enabled, failCount: next.failCount, lastStatus: next.lastStatus, lastDeliveryAtMs: next.lastDeliveryAt.getTime() };
        }
        if (health) tx.update(webhookRef, { ...health, lastDeliveryAt: Timestamp.fromDate(health.lastDeliveryAt) });
        const stopped = !state || !state.enabled;
        const status: DeliveryStatus = stopped && delivery.status === "pending" ? "failed" : delivery.status;
        tx.update(deliveryRef, {
          healthPending: FieldValue.delete(),
          ...(status !== delivery.status ? { status, nextAttempt: null, nextAttemptAt: null } : {}),
        });
        return { health, status };
      },
      // Many attempts failing at once all want the same webhook doc: give each room to wait.
      { maxAttempts: 10 },
    );
  }

  /** Marks a delivery that will not be attempted (webhook disabled or deleted, event gone). */
  async recordSkipped(
    ids: { siteId: string; webhookId: string; deliveryId: string; eventId: string; eventType: string | null },
    reason: string,
    now: Date,
    firstRecord: boolean,
  ) {
    await this.db.doc(paths.delivery(ids.siteId, ids.webhookId, ids.deliveryId)).set(
      {
        id: ids.deliveryId,
        siteId: ids.siteId,
        webhookId: ids.webhookId,
        eventId: ids.eventId,
        eventType: ids.eventType,
        status: "skipped",
        skippedReason: reason,
        nextAttempt: null,
        updatedAt: Timestamp.fromDate(now),
        // History is listed by createdAt; a delivery skipped before any attempt starts here.
        ...(firstRecord ? { createdAt: Timestamp.fromDate(now), expireAt: Timestamp.fromDate(expiryFrom(now)) } : {}),
      },
      { merge: true },
    );
  }

  /** Drops rotated-out secrets whose overlap has ended. */
  async purgeExpiredSecrets(siteId: string, webhookId: string, now = new Date()): Promise<void> {
    const ref = this.db.doc(paths.webhookSecret(siteId, webhookId));
    await this.db.runTransaction(async (tx) => {
      const doc = parseOrNull(secretDocSchema, (await tx.get(ref)).data());
      const set = doc && toSecretSet(doc);
      if (!set || !hasExpiredSecrets(set, now.getTime())) return;
      tx.update(ref, { previous: fromSecretSet(withoutExpired(set, now.getTime())).previous });
    });
  }

  /**
   * Machines the agent last reported online whose heartbeat is older than `cutoff`, oldest
   * first, a page at a time: `after` is the previous page's last one, so machines left unmarked
   * (in an announced reboot, say) never hide the ones behind them.
   */
  async findStaleMachines(cutoff: Date, limit: number, after?: QueryDocumentSnapshot): Promise<QueryDocumentSnapshot[]> {
    let query = this.db
      .collectionGroup("machines")
      .where("online", "==", true)
      .where("lastHeartbeat", "<", Timestamp.fromDate(cutoff))
      .orderBy("lastHeartbeat")
      .select("lastHeartbeat");
    if (after) query = query.startAfter(after);
    return (await query.limit(limit).get()).docs;
  }

  /**
   * Marks one machine stale, re-checking inside a transaction: a heartbeat that landed after
   * the query wins, and the machine is left alone. So is a machine in an announced reboot or
   * shutdown: its silence is expected (`inPlannedDowntime`), and it is marked only if it stays
   * silent past the announcement's window.
   */
  async markStale(ref: DocumentReference, cutoff: Date, now: Date): Promise<boolean> {
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      const heartbeat = snap.get("lastHeartbeat");
      const machine = { ...snap.data(), lastHeartbeatMs: heartbeat instanceof Timestamp ? heartbeat.toMillis() : null };
      if (!isStale(machine, now.getTime(), now.getTime() - cutoff.getTime())) return false;
      tx.update(ref, {
        online: false,
        offlineReason: STALE_REASON,
        offlineSince: FieldValue.serverTimestamp(),
      });
      return true;
    });
  }

  /** Clears the sweep's mark (and a held page) once the machine is back, unless it went offline again meanwhile. */
  async clearStaleMark(siteId: string, machineId: string): Promise<void> {
    const ref = this.db.doc(paths.machine(siteId, machineId));
    await this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      if (snap.get("online") !== true || snap.get("offlineReason") !== STALE_REASON) return;
      tx.update(ref, { offlineReason: FieldValue.delete(), offlineSince: FieldValue.delete(), offlinePageHeldUntil: FieldValue.delete() });
    });
  }

  /**
   * The machine.offline of this mark was held back by the emission limit (a machine that went
   * offline once already this hour): if the machine is still silent when the limit's window
   * turns, the sweep marks it again and it is paged then. A page is delayed, never lost.
   */
  async holdOfflinePage(siteId: string, machineId: string, until: Date): Promise<void> {
    const ref = this.db.doc(paths.machine(siteId, machineId));
    await this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      if (snap.get("online") !== false || snap.get("offlineReason") !== STALE_REASON) return;
      tx.update(ref, { offlinePageHeldUntil: Timestamp.fromDate(until) });
    });
  }

  /** Machines whose held page is due. */
  async findHeldPages(now: Date, limit: number): Promise<DocumentReference[]> {
    const snap = await this.db.collectionGroup("machines").where("offlinePageHeldUntil", "<=", Timestamp.fromDate(now)).limit(limit).select().get();
    return snap.docs.map((d) => d.ref);
  }

  /** A due held page: still silent, the machine is marked again (a new outage report); back, the hold just goes. */
  async markHeldAgain(ref: DocumentReference, now: Date): Promise<boolean> {
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      const until = snap.get("offlinePageHeldUntil");
      if (!(until instanceof Timestamp) || until.toMillis() > now.getTime()) return false;
      const stillSilent = snap.get("online") === false && snap.get("offlineReason") === STALE_REASON;
      tx.update(ref, {
        offlinePageHeldUntil: FieldValue.delete(),
        ...(stillSilent ? { offlineSince: FieldValue.serverTimestamp() } : {}),
      });
      return stillSilent;
    });
  }
}

/** The fields that tell a webhook doc of this pipeline from one a deployed Owlette project already holds. */
const LEGACY_SHAPE_FIELDS = ["enabled", "paused", "deletedAt", "secret", "signingSecret", "disabledReason"] as const;

/**
 * Shown on the doc: this pipeline's deliveries wait for the migration. `enabled` is left as it
 * is, for the earlier Owlette that may still deliver from the same doc during a rollout.
 */
async function flagForMigration(ref: DocumentReference, now: Date): Promise<void> {
  await ref.firestore.runTransaction(async (tx) => {
    const d = (await tx.get(ref)).data();
    if (!d || webhookShape(d) !== "legacy_active") return;
    tx.update(ref, { disabledReason: NEEDS_MIGRATION, needsMigrationSince: Timestamp.fromDate(now) });
  });
}

/** An attempt's outcome, kept on the delivery doc until it has been applied to the webhook. */
export interface PendingHealth {
  attempt: number;
  ok: boolean;
  gone: boolean;
  lastStatus: number | string;
  at: Timestamp;
}

function healthOf(doc: WebhookDoc) {
  return {
    enabled: doc.enabled,
    failCount: doc.failCount,
    lastStatus: doc.lastStatus ?? null,
    lastDeliveryAtMs: doc.lastDeliveryAt?.toMillis() ?? null,
  };
}

export interface AttemptRecord {
  attempt: number;
  at: Date;
  status: number | null;
  error: string | null;
  durationMs: number;
  responseSnippet: string | null;
  manual?: true;
}

export interface DeliveryRecordWrite {
  id: string;
  eventId: string;
  eventType: string;
  webhookId: string;
  siteId: string;
  status: DeliveryStatus;
  attempt: AttemptRecord;
  /** The attempt number scheduled next, or null when this one was the last. */
  nextAttempt: number | null;
  nextAttemptAt: Date | null;
  firstAttempt: boolean;
}

/** The delivery-doc fields one attempt writes; `keepSchedule` leaves `nextAttempt*` as they are. */
function deliveryWrite(d: DeliveryRecordWrite, now: Date, opts: { keepSchedule?: boolean } = {}) {
  return {
    id: d.id,
    siteId: d.siteId,
    webhookId: d.webhookId,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: FieldValue.arrayUnion({ ...d.attempt, at: Timestamp.fromDate(d.attempt.at) }),
    attemptCount: FieldValue.increment(1),
    ...(opts.keepSchedule
      ? {}
      : { nextAttempt: d.nextAttempt, nextAttemptAt: d.nextAttemptAt ? Timestamp.fromDate(d.nextAttemptAt) : null }),
    updatedAt: Timestamp.fromDate(now),
    ...(d.firstAttempt ? { createdAt: Timestamp.fromDate(now), expireAt: Timestamp.fromDate(expiryFrom(now)) } : {}),
  };
}

export function toSecretSet(doc: SecretDoc): SecretSet {
  return { current: doc.current, previous: doc.previous.map((p) => ({ secret: p.secret, expiresAtMs: p.expiresAt.toMillis() })) };
}

export function fromSecretSet(set: SecretSet) {
  return { current: set.current, previous: set.previous.map((p) => ({ secret: p.secret, expiresAt: Timestamp.fromMillis(p.expiresAtMs) })) };
}

export function parseOrNull<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, data: unknown): T | null {
  if (data === undefined) return null;
  const r = schema.safeParse(data);
  return r.success ? r.data : null;
}
