import { Timestamp, type DocumentData, type Firestore } from "firebase-admin/firestore";
import type { EventType } from "../domain/event-catalog";
import type { QuestionState } from "../domain/event-order";
import { subscriptionNames } from "../domain/host-vocabulary";
import { deliveryIdFor } from "../domain/ids";
import { webhookShape } from "../domain/webhook-shape";
import type { Log } from "../log";
import { eventDocData, type StoredEvent } from "./event-doc";
import { snapshotOf, takes, type FanOutTarget } from "./fan-out";
import { upkeepWebhook } from "./host-webhook-store";
import { ALREADY_EXISTS, grpcCode } from "./delivery-writes";
import { parseOrNull } from "./parse";
import { paths } from "./paths";
import { eventDocSchema, webhookDocSchema, type EventDoc } from "./webhook-docs";

function questionDelivery(snap: FirebaseFirestore.DocumentSnapshot | undefined): QuestionState["delivery"] {
  const status = snap?.get("status");
  const next = snap?.get("nextAttemptAt");
  return typeof status === "string" ? { status, nextAttemptAtMs: next instanceof Timestamp ? next.toMillis() : null } : null;
}

/** Events: stored once, read by their deliveries, fanned out to the site's subscribers; where a question an answer follows stands. */
export class EventStore {
  constructor(private readonly db: Firestore) {}

  /** Idempotent: a replayed report rewrites the same bytes under the same id. */
  async saveEvent(siteId: string, event: StoredEvent) {
    await this.db.doc(paths.event(siteId, event.id)).set(eventDocData(event));
  }

  /** The event stored under its id unless one is there already: false when it was. */
  async createEvent(siteId: string, event: StoredEvent): Promise<boolean> {
    try {
      await this.db.doc(paths.event(siteId, event.id)).create(eventDocData(event));
      return true;
    } catch (err) {
      if (grpcCode(err) === ALREADY_EXISTS) return false;
      throw err;
    }
  }

  /**
   * Webhooks of the site subscribed to `type` that get a delivery. One query on `events` alone
   * (`array-contains-any` of the pipeline's name and the host's, see domain/host-vocabulary.ts),
   * so that webhook docs the Owlette host wrote are found too: one not adopted yet (written
   * before this pipeline was deployed, or a moment ago) is adopted here, in the same transaction
   * the write trigger uses, and delivered to. `paused: true` and `deletedAt` are honoured.
   */
  async fanOutTargets(siteId: string, type: EventType, log?: Log, now = new Date()): Promise<FanOutTarget[]> {
    return (await this.fanOut(siteId, type, log, now)).targets;
  }

  /**
   * The same query, also naming the subscribed webhooks that are off (switched off, paused;
   * not deleted): the event is recorded as missed by them (`missedBy`), for a recover later.
   */
  async fanOut(siteId: string, type: EventType, log?: Log, now = new Date()): Promise<{ targets: FanOutTarget[]; missed: string[] }> {
    const names = subscriptionNames(type);
    const query = this.db.collection(paths.webhooks(siteId));
    const snap = await (names.length === 1 ? query.where("events", "array-contains", type) : query.where("events", "array-contains-any", names)).get();
    const targets: FanOutTarget[] = [];
    const missed: string[] = [];
    for (const doc of snap.docs) {
      let data: DocumentData | null = doc.data();
      if (webhookShape(data) === "legacy_active") {
        const adopted = await upkeepWebhook(this.db, { siteId, webhookId: doc.id }, null, now);
        data = adopted.doc;
        log?.info("webhook.upkeep", { siteId, webhookId: doc.id, findings: adopted.plan?.findings ?? [] });
      }
      if (!data || !takes(data, type)) continue;
      const parsed = parseOrNull(webhookDocSchema, data);
      if (!parsed) continue;
      const shape = webhookShape(data);
      if (shape === "deliverable") targets.push({ id: doc.id, snapshot: snapshotOf(parsed, now.getTime()) });
      else if (shape === "off" && (parsed.deletedAt ?? null) === null) missed.push(doc.id);
    }
    return { targets, missed };
  }

  async loadEvent(ids: { siteId: string; eventId: string }): Promise<EventDoc | null> {
    return parseOrNull(eventDocSchema, (await this.db.doc(paths.event(ids.siteId, ids.eventId)).get()).data());
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
}
