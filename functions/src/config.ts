import { defineInt, defineString } from "firebase-functions/params";
import { z } from "zod";
import { PRESENCE_MODES } from "./domain/presence-mode";
import { loadPresenceMode } from "./presence-mode-env";
import { parseRetrySchedule } from "./domain/retry-policy";
import { slowLaneSiteShare } from "./domain/slow-lane-share";

/** Region of every function; the task queue is addressed through it. */
export const REGION = "us-central1";

const deliveryTimeoutMs = defineInt("DELIVERY_TIMEOUT_MS", {
  default: 10_000,
  description: "Deadline for one delivery request, connect to last byte read (ms).",
});
const fastLaneDeadlineMs = defineInt("FAST_LANE_DEADLINE_MS", {
  default: 2_000,
  description: "Deadline of a request in the fast delivery lane (ms): a receiver slower than this is moved to the slow lane (see domain/delivery-lanes.ts).",
});
const staleAfterSeconds = defineInt("STALE_AFTER_SECONDS", {
  default: 210,
  description:
    "A machine whose heartbeat is older than this is marked offline by the sweep. Deployed agents beat every 5, 30 or 120 s: 210 s lets an idle agent's beat be 90 s late.",
});
const sweepPassesPerMinute = defineInt("SWEEP_PASSES_PER_MINUTE", {
  default: 6,
  description: "Sweep passes per scheduled run (once a minute): 6 marks a dead machine within threshold + 10 s.",
});
const retryScheduleSeconds = defineString("RETRY_SCHEDULE_SECONDS", {
  default: "0,60,300,1800,7200",
  description: "Delay before each delivery attempt, comma-separated seconds.",
});

/**
 * The delivery queue's rate limits, applied by `firebase deploy` to the Cloud Tasks queue: a
 * ceiling on what a receiver outage can pile onto the functions, and on how hard receivers get
 * hit. `npm run cli -- queue limits` changes them on a live queue until the next deploy.
 */
export const deliveryMaxConcurrent = defineInt("DELIVERY_MAX_CONCURRENT", {
  default: 100,
  description: "Cloud Tasks maxConcurrentDispatches of the delivery queue.",
});
export const deliveryMaxPerSecond = defineInt("DELIVERY_MAX_PER_SECOND", {
  default: 200,
  description: "Cloud Tasks maxDispatchesPerSecond of the delivery queue.",
});

/** The slow lane's queue: receivers that hang or answer late wait here, not in everyone's way. */
export const deliverySlowMaxConcurrent = defineInt("DELIVERY_SLOW_MAX_CONCURRENT", {
  default: 20,
  description: "Cloud Tasks maxConcurrentDispatches of the slow delivery lane.",
});

const configSchema = z.object({
  deliveryTimeoutMs: z.number().int().min(100).max(60_000),
  fastLaneDeadlineMs: z.number().int().min(100).max(60_000),
  staleAfterSeconds: z.number().int().min(1).max(86_400),
  sweepPassesPerMinute: z.number().int().min(1).max(12),
  presenceMode: z.enum(PRESENCE_MODES),
  retrySchedule: z.array(z.number().int().nonnegative()).min(1),
  /** Slow-lane starts a site may make at once (domain/slow-lane-share.ts): a quarter of the lane. */
  slowLaneSiteShare: z.number().int().min(1),
  /** Plain http to loopback receivers: the emulator's local demo and tests, never production. */
  allowLocalHttp: z.boolean(),
});
export type PipelineConfig = z.infer<typeof configSchema>;

let cached: PipelineConfig | undefined;

/** Read and validated once per instance; a bad value fails loudly on the first invocation. */
export function getConfig(): PipelineConfig {
  cached ??= configSchema.parse({
    deliveryTimeoutMs: deliveryTimeoutMs.value(),
    fastLaneDeadlineMs: fastLaneDeadlineMs.value(),
    staleAfterSeconds: staleAfterSeconds.value(),
    sweepPassesPerMinute: sweepPassesPerMinute.value(),
    // The dotenv files as index.ts read them to choose the functions, never a different source.
    presenceMode: loadPresenceMode(),
    retrySchedule: parseRetrySchedule(retryScheduleSeconds.value()),
    slowLaneSiteShare: slowLaneSiteShare(deliverySlowMaxConcurrent.value()),
    allowLocalHttp: process.env.FUNCTIONS_EMULATOR === "true",
  });
  return cached;
}
