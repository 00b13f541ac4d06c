/**
 * Per-function sizing for a fleet of 100,000 machines heartbeating every 5-30 s (docs/BENCHMARKS.md,
 * "Sizing"). Every function scales on its own instances, so heartbeats never wait behind
 * deliveries or management calls. Concurrency 80: each invocation is milliseconds of CPU around
 * I/O (Firestore, one outbound request), so one vCPU serves many at once.
 */
export const SIZING = {
  /** Every heartbeat: up to 20,000 a second (100,000 machines at 5 s); about 1 ms of CPU each. */
  heartbeat: { cpu: 1, memory: "512MiB", concurrency: 80, maxInstances: 100 },
  /** Process docs and log docs: a crash's worth of writes, far fewer than heartbeats. */
  agentDocs: { cpu: 1, memory: "256MiB", concurrency: 80, maxInstances: 30 },
  /** The agent alert endpoint: one request per crash or connection failure. */
  agentApi: { cpu: 1, memory: "256MiB", concurrency: 80, maxInstances: 20 },
  /** Management REST API and callables: people and scripts. */
  management: { cpu: 1, memory: "256MiB", concurrency: 80, maxInstances: 10 },
  /** Fast delivery lane: the queue's 100 concurrent dispatches fit in 2 instances; room for bursts. */
  deliveryFast: { cpu: 1, memory: "512MiB", concurrency: 80, maxInstances: 20 },
  /** Slow delivery lane: 20 concurrent dispatches, mostly waiting on receivers. */
  deliverySlow: { cpu: 1, memory: "512MiB", concurrency: 80, maxInstances: 5 },
  /** The sweep's marks and their clearing (the trigger on presence docs): one each per outage. */
  presence: { cpu: 1, memory: "256MiB", concurrency: 80, maxInstances: 10 },
  /** Webhook doc writes (adoption of the host's docs, its edits) and the host's handed-over events: people's pace. */
  webhookDocs: { cpu: 1, memory: "256MiB", concurrency: 80, maxInstances: 10 },
  /**
   * The sweep's scheduled run and its pass tasks (sweepPass, dispatched one at a time): each
   * function one at a time. A pass outlasting its 10 s may meet the next; that is safe (each
   * machine is decided in a transaction, and a floor covers only what its pass settled).
   */
  sweep: { cpu: 1, memory: "256MiB", concurrency: 1, maxInstances: 1 },
  /** Recover steps (recoverDeliveries): each sends one at a time at a bounded pace, mostly waiting. */
  recovery: { cpu: 1, memory: "256MiB", concurrency: 20, maxInstances: 2 },
} as const;
