import { deliver, type DeliverDeps, type DeliveryTask, type Log, SecretCache, sendHttp, type Store, systemResolver } from "../../src/seam";

/**
 * Cloud Tasks as a list, for cost harnesses that run the handlers in-process: what the pipeline
 * enqueues is kept in `tasks` and delivered, in order, by `deliverAll` to the local receivers
 * (local HTTP allowed, a short retry schedule, one warm secret cache).
 */
export function inProcessQueue(store: Store, opts: { staleAfterSeconds: number; log: Log }) {
  const tasks: DeliveryTask[] = [];
  const enqueue = async (task: DeliveryTask) => {
    tasks.push(task);
    return "enqueued" as const;
  };
  const deliverDeps: DeliverDeps = {
    store,
    send: sendHttp,
    enqueue,
    now: () => new Date(),
    config: {
      deliveryTimeoutMs: 1500,
      fastLaneDeadlineMs: 1000,
      staleAfterSeconds: opts.staleAfterSeconds,
      sweepPassesPerMinute: 6,
      presenceMode: "trigger",
      retrySchedule: [0, 60],
      slowLaneSiteShare: 5,
      allowLocalHttp: true,
    },
    log: opts.log,
    resolve: systemResolver,
    secrets: new SecretCache(),
  };
  const deliverAll = async () => {
    while (tasks.length > 0) await deliver(tasks.shift() as DeliveryTask, deliverDeps);
  };
  return { tasks, enqueue, deliverAll };
}
