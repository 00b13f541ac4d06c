import { FieldValue, Timestamp, type DocumentData } from "firebase-admin/firestore";
import { hostStatus } from "../domain/host-adoption";
import type { HostShape } from "../domain/host-vocabulary";
import type { AttemptOutcomeWord } from "../domain/webhook-vocabulary";
import type { HealthWrite } from "../domain/webhook-health";
import { expiryFrom } from "./paths";
import type { DeliveryStatus } from "./webhook-docs";

/** The fields the delivery record and the webhook's health take from one attempt, and the errors those writes meet. */

export function healthStateOf(
  data: DocumentData | undefined,
): { enabled: boolean; disabledReason: string | null; failStreak: string[]; hostShape: HostShape | null } | null {
  if (!data) return null;
  const streak = data.failStreak;
  return {
    hostShape: data.hostShape === "api" || data.hostShape === "dashboard" ? data.hostShape : null,
    enabled: data.enabled === true,
    disabledReason: typeof data.disabledReason === "string" ? data.disabledReason : null,
    failStreak: Array.isArray(streak) ? streak.filter((k): k is string => typeof k === "string") : [],
  };
}

/**
 * The webhook-doc fields of one outcome's blind write (see domain/webhook-health.ts); on an
 * adopted host doc also in the host's names and types, in the same write, so the host's
 * dashboard shows them without another write (domain/host-adoption.ts `hostHealth`).
 */
export function healthFields(h: HealthWrite, hostShape: HostShape | null = null): DocumentData {
  const at = Timestamp.fromDate(h.at);
  const pipeline: DocumentData =
    h.kind === "reset"
      ? { failCount: 0, failStreak: [], lastStatus: h.lastStatus, lastDeliveryAt: at }
      : {
          failCount: FieldValue.increment(1),
          failStreak: FieldValue.arrayUnion(h.key),
          lastStatus: h.lastStatus,
          lastDeliveryAt: at,
          ...(h.gone ? { enabled: false, disabledReason: "gone" } : {}),
        };
  if (hostShape === "api")
    return { ...pipeline, ...hostCount("api", h.kind === "reset" ? 0 : FieldValue.increment(1)), lastDeliveryStatus: hostStatus(h.lastStatus) };
  if (hostShape === "dashboard") return { ...pipeline, lastStatus: hostStatus(h.lastStatus), lastTriggered: at };
  return pipeline;
}

/** `failureCount`, the public-API doc's name of the failure count, beside `failCount`. */
export function hostCount(hostShape: HostShape | null | undefined, value: number | FieldValue): DocumentData {
  return hostShape === "api" ? { failureCount: value } : {};
}

/** Also what Firestore answers a write that would take a document past its size limit. */
export const INVALID_ARGUMENT = 3;
export const ALREADY_EXISTS = 6;
export const NOT_FOUND = 5;
export const FAILED_PRECONDITION = 9;

export function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

export function ignoreMissing(err: unknown): void {
  if (grpcCode(err) !== NOT_FOUND) throw err;
}

/** A webhook deleted while its attempt was out: the attempt is still recorded, without the webhook write. */
export async function withoutMissingWebhook<T>(commit: (health: HealthWrite | null) => Promise<T>, health: HealthWrite | null): Promise<T> {
  try {
    return await commit(health);
  } catch (err) {
    if (health && grpcCode(err) === NOT_FOUND) return commit(null);
    throw err;
  }
}

export interface AttemptRecord {
  attempt: number;
  at: Date;
  status: number | null;
  /** An outcome word (webhook-vocabulary.ts) when there was no HTTP answer; never the sender's finer reason. */
  error: AttemptOutcomeWord | null;
  /** The round trip of an HTTP answer; null otherwise, as a time would tell a refusal from silence. */
  durationMs: number | null;
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
export function deliveryWrite(d: DeliveryRecordWrite, now: Date, opts: { keepSchedule?: boolean } = {}) {
  return {
    id: d.id,
    siteId: d.siteId,
    webhookId: d.webhookId,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: FieldValue.arrayUnion({ ...d.attempt, at: Timestamp.fromDate(d.attempt.at) }),
    attemptCount: FieldValue.increment(1),
    ...(opts.keepSchedule ? {} : { nextAttempt: d.nextAttempt, nextAttemptAt: d.nextAttemptAt ? Timestamp.fromDate(d.nextAttemptAt) : null }),
    updatedAt: Timestamp.fromDate(now),
    ...(d.firstAttempt ? { createdAt: Timestamp.fromDate(now), expireAt: Timestamp.fromDate(expiryFrom(now)) } : {}),
  };
}
