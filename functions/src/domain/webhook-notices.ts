import { envelope, type EventPayload, type SiteRef } from "./payload";
import { AUTO_DISABLE_AFTER, FAILING_STREAK } from "./webhook-health";
import { needsAdoption } from "./webhook-shape";

/** Why the pipeline switched a webhook off by itself: its failure streak, or its receiver's 410 Gone. */
export const ANNOUNCED_DISABLE_REASONS = ["auto", "gone"] as const;
export type AnnouncedDisableReason = (typeof ANNOUNCED_DISABLE_REASONS)[number];

/** What the site's other webhooks are told about a webhook the pipeline switched off. */
export interface DisableNotice {
  webhookId: string;
  webhookName: string | null;
  reason: AnnouncedDisableReason;
  failCount: number | null;
  /** The last HTTP status, or the outcome word of an attempt without one (`timeout`, `unreachable`, ...). */
  lastStatus: number | string | null;
}

const record = (v: unknown): Record<string, unknown> | null => (typeof v === "object" && v !== null ? (v as Record<string, unknown>) : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** Which webhook a notice is about, as its doc names it, and its last outcome: never its URL. */
function about(webhookId: string, now: Record<string, unknown>) {
  return {
    webhookId,
    webhookName: typeof now.name === "string" && now.name ? now.name.slice(0, 200) : null,
    lastStatus: num(now.lastStatus) ?? (typeof now.lastStatus === "string" && now.lastStatus ? now.lastStatus.slice(0, 32) : null),
  };
}

/**
 * The notice one write of a webhook doc calls for: the write that switched it off for its
 * failures (`disabledReason` `auto` or `gone`, written by the pipeline). A switch-off by people
 * (`manual`, `paused`, a delete) is theirs to know, and any later write of a webhook already
 * off says nothing new.
 */
export function disableNotice(webhookId: string, before: unknown, after: unknown): DisableNotice | null {
  const was = record(before);
  const now = record(after);
  if (!now || now.enabled !== false || was?.enabled === false) return null;
  const reason = now.disabledReason;
  if (!(ANNOUNCED_DISABLE_REASONS as readonly unknown[]).includes(reason)) return null;
  // The pipeline's own switch-off writes its reason or its count: a reason merely left over
  // from an earlier one (a host write switching the doc on and off again) is not it.
  if (was && was.disabledReason === reason && was.failCount === now.failCount) return null;
  return { ...about(webhookId, now), reason: reason as AnnouncedDisableReason, failCount: num(now.failCount) };
}

/**
 * `webhook.disabled`: the envelope every event has, about a webhook rather than a machine. It
 * never carries the disabled webhook's URL: a destination URL can hold a credential (Slack's,
 * Discord's), and the site's other receivers are not all its owners' systems.
 */
export function disableNoticePayload(input: { id: string; site: SiteRef; notice: DisableNotice; at: Date }): EventPayload {
  const { notice } = input;
  return envelope(input.id, "webhook.disabled", input.at, input.site, {
    webhookId: notice.webhookId,
    webhookName: notice.webhookName,
    reason: notice.reason,
    failCount: notice.failCount,
    lastStatus: notice.lastStatus,
  });
}

/** What the site's other webhooks are told about a webhook failing its deliveries in a row. */
export interface FailingNotice {
  webhookId: string;
  webhookName: string | null;
  failCount: number;
  lastStatus: number | string | null;
  /** The streak's first failure key (`failStreak[0]`): one notice per streak, whatever write crossed it. */
  streak: string;
}

const streakOf = (d: Record<string, unknown>): string[] => (Array.isArray(d.failStreak) ? d.failStreak.filter((k): k is string => typeof k === "string") : []);

/**
 * The notice one write of a webhook doc calls for: the write that took an enabled webhook's
 * streak (`failStreak`, one key per failure the pipeline counted) from below FAILING_STREAK to
 * it. The streak, not `failCount`: another sender's count (the host's, still running) and the
 * write that takes it back out leave the streak alone, and a host doc's adoption (which carries
 * its count over) is not a failure. A success clears the streak; the next one is told again.
 */
export function failingNotice(webhookId: string, before: unknown, after: unknown): FailingNotice | null {
  const was = record(before);
  const now = record(after);
  if (!was || !now || now.enabled !== true || now.paused === true || needsAdoption(was)) return null;
  const streak = streakOf(now);
  if (streak.length < FAILING_STREAK || streakOf(was).length >= FAILING_STREAK) return null;
  return { ...about(webhookId, now), failCount: num(now.failCount) ?? streak.length, streak: streak[0] as string };
}

/** `webhook.failing`: as `webhook.disabled`, never with the webhook's URL. */
export function failingNoticePayload(input: { id: string; site: SiteRef; notice: FailingNotice; at: Date }): EventPayload {
  const { notice } = input;
  return envelope(input.id, "webhook.failing", input.at, input.site, {
    webhookId: notice.webhookId,
    webhookName: notice.webhookName,
    failCount: notice.failCount,
    lastStatus: notice.lastStatus,
    disabledAfter: AUTO_DISABLE_AFTER,
  });
}
