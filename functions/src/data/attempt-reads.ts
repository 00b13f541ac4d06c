import type { Firestore } from "firebase-admin/firestore";
import { snapshotOf } from "./fan-out";
import { parseOrNull } from "./parse";
import { paths } from "./paths";
import {
  deliveryDocSchema,
  eventDocSchema,
  secretDocSchema,
  webhookDocSchema,
  type DeliveryDoc,
  type EventDoc,
  type SecretDoc,
  type WebhookDoc,
  type WebhookSnapshot,
} from "./webhook-docs";

/** What an attempt reads before it sends: its delivery record, its webhook, or all it needs at once. */
export class AttemptReads {
  constructor(private readonly db: Firestore) {}

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

  async loadDelivery(ids: { siteId: string; webhookId: string; deliveryId: string }): Promise<{ doc: DeliveryDoc | null; exists: boolean }> {
    const snap = await this.db.doc(paths.delivery(ids.siteId, ids.webhookId, ids.deliveryId)).get();
    return { doc: parseOrNull(deliveryDocSchema, snap.data()), exists: snap.exists };
  }
}
