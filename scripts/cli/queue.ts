import { DELIVERY_FUNCTION, REGION } from "../../functions/src/seam";
import { CliError } from "./output";

/**
 * Queue operations on the real Cloud Tasks queue behind `deliverWebhook` (the emulator does not
 * serve this API). Requests are built by pure functions, so they are unit-tested without a
 * project; `--dry-run` prints them instead of sending.
 */
export type QueueAction = "status" | "pause" | "resume" | "purge" | "limits";

export interface QueueTarget {
  project: string;
  location?: string;
  queue?: string;
}

/** Firebase names a task queue function's queue after the function. */
export function queueName(t: QueueTarget): string {
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(t.project)) throw new CliError(`not a project id: ${t.project}`);
  return `projects/${t.project}/locations/${t.location ?? REGION}/queues/${t.queue ?? DELIVERY_FUNCTION}`;
}

export interface QueueRequest {
  method: "getQueue" | "pauseQueue" | "resumeQueue" | "purgeQueue" | "updateQueue";
  request: Record<string, unknown>;
}

/**
 * `limits` caps the queue while a receiver is down: fewer concurrent and per-second dispatches
 * (Cloud Tasks keeps the rest queued). Values outside Cloud Tasks' ranges are refused here.
 */
export function buildQueueRequest(action: QueueAction, t: QueueTarget, limits: { maxConcurrent?: number; maxPerSecond?: number } = {}): QueueRequest {
  const name = queueName(t);
  switch (action) {
    case "status":
      return { method: "getQueue", request: { name } };
    case "pause":
      return { method: "pauseQueue", request: { name } };
    case "resume":
      return { method: "resumeQueue", request: { name } };
    case "purge":
      return { method: "purgeQueue", request: { name } };
    case "limits": {
      const rateLimits: Record<string, number> = {};
      const paths: string[] = [];
      if (limits.maxConcurrent !== undefined) {
        if (!Number.isInteger(limits.maxConcurrent) || limits.maxConcurrent < 1 || limits.maxConcurrent > 5000) {
          throw new CliError("--max-concurrent must be a whole number from 1 to 5000");
        }
        rateLimits.maxConcurrentDispatches = limits.maxConcurrent;
        paths.push("rate_limits.max_concurrent_dispatches");
      }
      if (limits.maxPerSecond !== undefined) {
        if (!(limits.maxPerSecond > 0 && limits.maxPerSecond <= 500)) throw new CliError("--max-per-second must be above 0 and at most 500");
        rateLimits.maxDispatchesPerSecond = limits.maxPerSecond;
        paths.push("rate_limits.max_dispatches_per_second");
      }
      if (paths.length === 0) throw new CliError("give --max-concurrent and/or --max-per-second");
      return { method: "updateQueue", request: { queue: { name, rateLimits }, updateMask: { paths } } };
    }
  }
}

/** The parts of a queue worth showing. */
export function describeQueue(queue: {
  name?: string | null;
  state?: unknown;
  rateLimits?: Record<string, unknown> | null;
  retryConfig?: Record<string, unknown> | null;
}) {
  return {
    name: queue.name ?? "-",
    state: String(queue.state ?? "-"),
    maxConcurrentDispatches: queue.rateLimits?.maxConcurrentDispatches ?? "-",
    maxDispatchesPerSecond: queue.rateLimits?.maxDispatchesPerSecond ?? "-",
    maxAttempts: queue.retryConfig?.maxAttempts ?? "-",
  };
}

export async function sendQueueRequest(req: QueueRequest): Promise<Record<string, unknown>> {
  const { CloudTasksClient } = await import("@google-cloud/tasks");
  const tasks = new CloudTasksClient();
  try {
    const call = tasks[req.method].bind(tasks) as unknown as (r: Record<string, unknown>) => Promise<[Record<string, unknown>]>;
    const [queue] = await call(req.request);
    return queue;
  } catch (err) {
    throw new CliError(`Cloud Tasks ${req.method}: ${(err as Error).message.split("\n")[0]}`);
  } finally {
    await tasks.close();
  }
}
