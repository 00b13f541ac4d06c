import { FieldValue, Timestamp, type DocumentData, type Firestore } from "firebase-admin/firestore";
import type { EventType } from "../domain/event-catalog";
import { shownLastStatus } from "../domain/attempt-result";
import { siteRefOf, type SiteRef } from "../domain/payload";
import { hasExpiredSecrets, withoutExpired } from "../domain/secret-rotation";
import { webhookShape } from "../domain/webhook-shape";
import { subscriptionNames, type HostShape } from "../domain/host-vocabulary";
import { upkeepWebhook } from "./host-webhook-store";
import { fromSecretSet, parseOrNull, toSecretSet } from "./parse";
import { snapshotOf, takes, type FanOutTarget } from "./fan-out";
import {
  ALREADY_EXISTS,
  deliveryWrite,
  FAILED_PRECONDITION,
  grpcCode,
  healthFields,
  healthStateOf,
  hostCount,
  ignoreMissing,
  withoutMissingWebhook,
  type DeliveryRecordWrite,
} from "./delivery-writes";
import type { QuestionState } from "../domain/event-order";
import { deliveryIdFor } from "../domain/ids";
import {
  AUTO_DISABLE_AFTER,
  failureKey,
  failureKeyTime,
  healthAfterAttempt,
  streakAfterSuccess,
  streakDecision,
  type HealthUpdate,
  type HealthWrite,
} from "../domain/webhook-health";
import type { WebhookSnapshot } from "./webhook-docs";
import type { Log } from "../log";
import { expiryFrom, paths } from "./paths";
import { eventDocData, type StoredEvent } from "./event-doc";
import { ReadCache } from "./read-cache";
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

/** The most a site's own `eventsPerHour` or `offlinePerHour` admits in an hour (larger values are read as this). */
export const MAX_SITE_LIMIT = 10_000;

function questionDelivery(snap: FirebaseFirestore.DocumentSnapshot | undefined): QuestionState["delivery"] {
  const status = snap?.get("status");
  const next = snap?.get("nextAttemptAt");
  return typeof status === "string" ? { status, nextAttemptAtMs: next instanceof Timestamp ? next.toMillis() : null } : null;
}

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

/** All Firestore access of the pipeline. Triggers and handlers call these, never the SDK. */
export class Store {
  constructor(readonly db: Firestore) {}

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

  /** Idempotent: a replayed report rewrites the same bytes under the same id. */
  async saveEvent(siteId: string, event: StoredEvent) {
    await this.db.doc(paths.event(siteId, event.id)).set(eventDocData(event));
  }

  /**
   * Webhooks of the site subscribed to `type` that get a delivery. One query on `events` alone
   * (`array-contains-any` of the pipeline's name and the host's, see domain/host-vocabulary.ts),
   * so that webhook docs the Owlette host wrote are found too: one not adopted yet (written
   * before this pipeline was deployed, or a moment ago) is adopted here, in the same transaction
   * the write trigger uses, and delivered to. `paused: true` and `deletedAt` are honoured.
   */
  async fanOutTargets(siteId: string, type: EventType, log?: Log, now = new Date()): Promise<FanOutTarget[]> {
    const names = subscriptionNames(type);
    const query = this.db.collection(paths.webhooks(siteId));
    const snap = await (names.length === 1 ? query.where("events", "array-contains", type) : query.where("events", "array-contains-any", names)).get();
    const targets: FanOutTarget[] = [];
    for (const doc of snap.docs) {
      let data: DocumentData | null = doc.data();
      if (webhookShape(data) === "legacy_active") {
        const adopted = await upkeepWebhook(this.db, { siteId, webhookId: doc.id }, null, now);
        data = adopted.doc;
        log?.info("webhook.upkeep", { siteId, webhookId: doc.id, findings: adopted.plan?.findings ?? [] });
      }
      if (!data || webhookShape(data) !== "deliverable" || !takes(data, type)) continue;
      const parsed = parseOrNull(webhookDocSchema, data);
      if (parsed) targets.push({ id: doc.id, snapshot: snapshotOf(parsed, now.getTime()) });
    }
    return targets;
  }

  /** Everything one attempt needs, in a single round trip (the retry action, the test action). */
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

  /** The webhook as an attempt sees it, read now (one read). */
  async loadWebhookSnapshot(ids: { siteId: string; webhookId: string }, now = new Date()): Promise<WebhookSnapshot | null> {
    const doc = parseOrNull(webhookDocSchema, (await this.db.doc(paths.webhook(ids.siteId, ids.webhookId)).get()).data());
    return doc ? snapshotOf(doc, now.getTime()) : null;
  }

  async loadSecret(ids: { siteId: string; webhookId: string }): Promise<SecretDoc | null> {
    return parseOrNull(secretDocSchema, (await this.db.doc(paths.webhookSecret(ids.siteId, ids.webhookId)).get()).data());
  }

  async loadEvent(ids: { siteId: string; eventId: string }): Promise<EventDoc | null> {
    return parseOrNull(eventDocSchema, (await this.db.doc(paths.event(ids.siteId, ids.eventId)).get()).data());
  }

  async loadDelivery(ids: { siteId: string; webhookId: string; deliveryId: string }): Promise<{ doc: DeliveryDoc | null; exists: boolean }> {
    const snap = await this.db.doc(paths.delivery(ids.siteId, ids.webhookId, ids.deliveryId)).get();
    return { doc: parseOrNull(deliveryDocSchema, snap.data()), exists: snap.exists };
  }

  /** The delivery of the event an answer follows to one webhook (one read), when whom it went to is known. */
  async loadQuestionDelivery(ids: { siteId: string; webhookId: string }, questionEventId: string): Promise<QuestionState["delivery"]> {
    return questionDelivery(await this.db.doc(paths.delivery(ids.siteId, ids.webhookId, deliveryIdFor(questionEventId, ids.webhookId))).get());
  }

  /** Where the event an answer follows stands for one webhook (see domain/event-order.ts), in one round trip. */
  async loadQuestion(ids: { siteId: string; webhookId: string }, questionEventId: string): Promise<QuestionState> {
    const [event, delivery] = await this.db.getAll(
      this.db.doc(paths.event(ids.siteId, questionEventId)),
      this.db.doc(paths.delivery(ids.siteId, ids.webhookId, deliveryIdFor(questionEventId, ids.webhookId))),
    );
    const fannedOutTo = event?.get("webhookIds");
    return { fannedOutTo: Array.isArray(fannedOutTo) ? fannedOutTo : null, delivery: questionDelivery(delivery) };
  }

  /**
   * The record of a first attempt dispatched for the first time: the delivery doc is created,
   * with the outcome's webhook write (if any) in the same commit, and nothing is read. Another
   * dispatch of the same task that recorded first makes this one a duplicate (Cloud Tasks
   * delivers at least once); the request went out twice, with the same ids.
   */
  async recordFirstAttempt(input: {
    siteId: string;
    webhookId: string;
    delivery: DeliveryRecordWrite;
    health: HealthWrite | null;
    now: Date;
    /** An adopted host doc: its health is also written in the host's names (domain/host-adoption.ts). */
    hostShape?: HostShape | null | undefined;
  }): Promise<"recorded" | "duplicate"> {
    const deliveryRef = this.db.doc(paths.delivery(input.siteId, input.webhookId, input.delivery.id));
    const commit = (health: HealthWrite | null) => {
      const batch = this.db.batch();
      // Created whole: on a new doc the append and the increment give [attempt] and 1.
      batch.create(deliveryRef, deliveryWrite({ ...input.delivery, firstAttempt: true }, input.now));
      if (health) batch.update(this.db.doc(paths.webhook(input.siteId, input.webhookId)), healthFields(health, input.hostShape));
      return batch.commit();
    };
    try {
      await withoutMissingWebhook(commit, input.health);
      return "recorded";
    } catch (err) {
      if (grpcCode(err) === ALREADY_EXISTS) return "duplicate";
      throw err;
    }
  }

  /**
   * The record of any other attempt (a later one, a redispatched task, a manual retry): a
   * transaction on the delivery doc alone, which re-reads it so a manual retry and a scheduled
   * attempt finishing together cannot undo each other (a succeeded delivery stays succeeded; a
   * failed manual retry leaves a pending delivery on its schedule), with the outcome's webhook
   * write blind in the same commit. Returns null when this attempt was recorded meanwhile.
   */
  async recordAttempt(input: {
    siteId: string;
    webhookId: string;
    delivery: DeliveryRecordWrite;
    ok: boolean;
    health: HealthWrite | null;
    now: Date;
    hostShape?: HostShape | null | undefined;
  }): Promise<{ status: DeliveryStatus } | null> {
    const deliveryRef = this.db.doc(paths.delivery(input.siteId, input.webhookId, input.delivery.id));
    const { attempt } = input.delivery;
    const run = (health: HealthWrite | null) =>
      this.db.runTransaction(async (tx) => {
        const snap = await tx.get(deliveryRef);
        const current = parseOrNull(deliveryDocSchema, snap.data());
        if (!attempt.manual && current?.attempts.some((a) => a.attempt === attempt.attempt && !a.manual)) return null;
        let write = input.delivery;
        let keepSchedule = false;
        if (current?.status === "succeeded") {
          // Delivered meanwhile (a manual retry and a scheduled attempt crossed): stays delivered.
          write = { ...write, status: "succeeded" };
          keepSchedule = true;
        } else if (attempt.manual && !input.ok) {
          keepSchedule = current?.status === "pending";
          write = { ...write, status: keepSchedule ? "pending" : "failed" };
        }
        tx.set(deliveryRef, deliveryWrite({ ...write, firstAttempt: !snap.exists }, input.now, { keepSchedule }), { merge: true });
        if (health) tx.update(this.db.doc(paths.webhook(input.siteId, input.webhookId)), healthFields(health, input.hostShape));
        return { status: write.status };
      });
    return withoutMissingWebhook(run, input.health);
  }

  /**
   * After a failure's blind write: reads the webhook back and acts on the failure's rank in the
   * streak (domain/webhook-health.ts `streakDecision`). Only the failure that reaches the limit
   * runs a transaction, so a hundred concurrent failures contend on nothing. Idempotent: a task
   * redispatched after a crash runs it again for its recorded failure.
   */
  async settleFailure(
    ids: { siteId: string; webhookId: string },
    key: string,
    disableAfter = AUTO_DISABLE_AFTER,
  ): Promise<{ disabled: boolean; failCount: number | null; disabledNow?: true }> {
    const ref = this.db.doc(paths.webhook(ids.siteId, ids.webhookId));
    const state = healthStateOf((await ref.get()).data());
    if (!state) return { disabled: true, failCount: null };
    const decision = streakDecision(state, key, disableAfter);
    if (decision === "uncount") {
      await ref
        .update({ failCount: FieldValue.increment(-1), failStreak: FieldValue.arrayRemove(key), ...hostCount(state.hostShape, FieldValue.increment(-1)) })
        .catch(ignoreMissing);
      return { disabled: true, failCount: null };
    }
    if (decision !== "disable") return { disabled: !state.enabled, failCount: state.failStreak.length };
    const rank = state.failStreak.indexOf(key);
    if (rank > disableAfter - 1) {
      // Past the limit while the webhook is still on: the failure at the limit is switching it
      // off. Only if it still is on after a moment (that handler died) does this one do it.
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 250 * (i + 1)));
        const later = healthStateOf((await ref.get()).data());
        if (!later || streakDecision(later, key, disableAfter) !== "disable") return this.settleFailure(ids, key, disableAfter);
      }
    }
    // Did a delivery succeed since the streak began? Asked outside the transaction: a query in a
    // transaction locks the range it read, and every delivery record of this webhook is in it.
    const first = failureKeyTime(state.failStreak[0] ?? "");
    const success = await this.db
      .collection(paths.deliveries(ids.siteId, ids.webhookId))
      .where("status", "==", "succeeded")
      .where("updatedAt", ">", Timestamp.fromMillis(first))
      .orderBy("updatedAt", "desc")
      .limit(1)
      .get();
    const lastSuccess = success.docs[0]?.get("updatedAt");
    const lastSuccessMs = lastSuccess instanceof Timestamp ? lastSuccess.toMillis() : null;
    return this.db.runTransaction(async (tx) => {
      const now = healthStateOf((await tx.get(ref)).data());
      if (!now || streakDecision(now, key, disableAfter) !== "disable") return { disabled: !now?.enabled, failCount: null };
      const streak = streakAfterSuccess(now.failStreak, lastSuccessMs);
      if (streak.length < disableAfter) {
        // Not consecutive after all: a success came between. The count restarts after it.
        tx.update(ref, { failStreak: streak, failCount: streak.length, ...hostCount(now.hostShape, streak.length) });
        return { disabled: false, failCount: streak.length };
      }
      tx.update(ref, {
        enabled: false,
        disabledReason: "auto",
        failStreak: streak.slice(0, disableAfter),
        failCount: disableAfter,
        ...hostCount(now.hostShape, disableAfter),
      });
      return { disabled: true, failCount: disableAfter, disabledNow: true as const };
    });
  }

  /** A pending delivery whose webhook was switched off while its attempt was out: no further attempt. */
  async stopDelivery(ids: { siteId: string; webhookId: string; deliveryId: string }, now: Date): Promise<void> {
    // A conditional write, not a transaction: it applies only if the doc is unchanged since read.
    const ref = this.db.doc(paths.delivery(ids.siteId, ids.webhookId, ids.deliveryId));
    for (let i = 0; i < 5; i++) {
      const snap = await ref.get();
      if (snap.get("status") !== "pending" || !snap.updateTime) return;
      try {
        await ref.update({ status: "failed", nextAttempt: null, nextAttemptAt: null, updatedAt: Timestamp.fromDate(now) }, { lastUpdateTime: snap.updateTime });
        return;
      } catch (err) {
        if (grpcCode(err) !== FAILED_PRECONDITION) throw err;
      }
    }
  }

  /** The webhook's deliveries go to the slow lane until `until` (a plain write; see domain/delivery-lanes.ts). */
  async markSlow(ids: { siteId: string; webhookId: string }, until: Date): Promise<void> {
    await this.db
      .doc(paths.webhook(ids.siteId, ids.webhookId))
      .update({ slowUntil: Timestamp.fromDate(until) })
      .catch(ignoreMissing);
  }

  /**
   * Outcomes an earlier version parked on a delivery doc (`healthPending`) before applying them
   * to the webhook: applied once, in one transaction over both docs that also clears them. The
   * current version records an outcome and its webhook write in one commit and parks nothing.
   * Stops a pending delivery whose webhook is gone or off.
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
        let state = current ? { enabled: current.enabled, failCount: current.failCount, lastStatus: current.lastStatus ?? null } : null;
        let streak = current?.failStreak ?? [];
        let health = null as HealthUpdate | null;
        for (const outcome of outcomes) {
          // Parked with the sender's finer word; the webhook doc gets the outcome word.
          const shown = { ...outcome, lastStatus: shownLastStatus(outcome.lastStatus) ?? outcome.lastStatus };
          const next = state ? healthAfterAttempt(state, shown, outcome.at.toMillis()) : null;
          if (!next || !state) continue;
          streak = outcome.ok ? [] : [...streak, failureKey(outcome.at.toMillis(), ids.deliveryId, outcome.attempt)];
          health = health ? { ...health, ...next } : next;
          state = { enabled: next.enabled ?? state.enabled, failCount: next.failCount, lastStatus: next.lastStatus };
        }
        if (health) tx.update(webhookRef, { ...health, failStreak: streak, lastDeliveryAt: Timestamp.fromDate(health.lastDeliveryAt) });
        const stopped = !state || !state.enabled;
        const status: DeliveryStatus = stopped && delivery.status === "pending" ? "failed" : delivery.status;
        tx.update(deliveryRef, {
          healthPending: FieldValue.delete(),
          ...(status !== delivery.status ? { status, nextAttempt: null, nextAttemptAt: null } : {}),
        });
        return { health, status };
      },
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
}
