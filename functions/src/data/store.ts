import type { Firestore } from "firebase-admin/firestore";
import { AttemptReads } from "./attempt-reads";
import { DeliveryRecords } from "./delivery-records";
import { EventStore } from "./event-store";
import { FlapStore } from "./flap-store";
import { SecretStore } from "./secret-store";
import { SiteStore } from "./site-store";
import { WebhookHealthStore } from "./webhook-health-store";

/**
 * The pipeline's Firestore access, one room per concern. Triggers and handlers call these, never
 * the SDK (the management API has its own, management-store.ts; the sweep presence-store.ts; the
 * emission limits emission-store.ts).
 */
export class Store {
  /** Sites' settings and machine names (read through a 30 s per-instance cache). */
  readonly sites: SiteStore;
  /** Events stored, read and fanned out. */
  readonly events: EventStore;
  /** What an attempt reads. */
  readonly reads: AttemptReads;
  /** The delivery record's writes, one per transition (domain/delivery-states.ts). */
  readonly deliveries: DeliveryRecords;
  /** A webhook's health after failures, and its lane. */
  readonly health: WebhookHealthStore;
  /** Signing secrets. */
  readonly secrets: SecretStore;
  /** Episodes of flapping (domain/flapping.ts). */
  readonly flaps: FlapStore;

  constructor(readonly db: Firestore) {
    this.sites = new SiteStore(db);
    this.events = new EventStore(db);
    this.reads = new AttemptReads(db);
    this.deliveries = new DeliveryRecords(db);
    this.health = new WebhookHealthStore(db);
    this.secrets = new SecretStore(db);
    this.flaps = new FlapStore(db);
  }
}
