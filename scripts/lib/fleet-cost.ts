/**
 * What a fleet costs a month, from unit costs a bench run measured and Google's list prices.
 * Pure: `npm run bench` feeds it the run's figures and prints the tables in docs/BENCHMARKS.md.
 */

/**
 * List prices in USD, read from Google's pricing pages on the date below: Cloud Run functions
 * (request-based billing, tier-1 region), Firestore Standard edition in the `nam5` multi-region,
 * Cloud Tasks. Free tiers are left out (they are small beside a fleet).
 */
export const PRICES = {
  readOn: "2026-12-07",
  perMillionRequests: 0.4,
  perVcpuSecond: 0.000024,
  perGibSecond: 0.0000025,
  per100kReads: 0.06,
  per100kWrites: 0.18,
  per100kDeletes: 0.02,
  perMillionTaskOperations: 0.4,
} as const;

export const SECONDS_PER_MONTH = 30 * 24 * 3600;

/** The share of an instance's CPU Cloud Run's autoscaler aims to use: billed instance time is CPU time over it. */
export const CPU_UTILISATION_TARGET = 0.6;

/**
 * CPU per request spent by the runtime around the function (HTTP server, Eventarc envelope,
 * logging), an estimate: not measured by the bench, which times the trigger's own code.
 */
export const RUNTIME_US_PER_REQUEST = 150;

export interface FunctionLoad {
  invocations: number;
  /** CPU per invocation, the runtime's share included. */
  cpuUs: number;
  memoryGib: number;
  /** An instance held for this long per invocation (one at a time: the sweep), billed as such whatever the CPU. */
  wallSeconds?: number;
}

export interface FirestoreLoad {
  reads: number;
  writes: number;
  deletes?: number;
}

/** One month's bill in parts: function requests, their CPU and memory, Firestore, Cloud Tasks. */
export interface MonthlyCost {
  invocations: number;
  requests: number;
  compute: number;
  firestore: number;
  tasks: number;
  total: number;
}

export function functionCost(load: FunctionLoad): { requests: number; compute: number } {
  const instanceSeconds = load.wallSeconds !== undefined ? load.invocations * load.wallSeconds : (load.invocations * load.cpuUs) / 1e6 / CPU_UTILISATION_TARGET;
  return {
    requests: (load.invocations / 1e6) * PRICES.perMillionRequests,
    compute: instanceSeconds * (PRICES.perVcpuSecond + load.memoryGib * PRICES.perGibSecond),
  };
}

export function firestoreCost(load: FirestoreLoad): number {
  return (load.reads / 1e5) * PRICES.per100kReads + (load.writes / 1e5) * PRICES.per100kWrites + ((load.deletes ?? 0) / 1e5) * PRICES.per100kDeletes;
}

export function monthly(parts: { functions: FunctionLoad[]; firestore: FirestoreLoad; taskOperations: number }): MonthlyCost {
  const fn = parts.functions.map(functionCost);
  const requests = fn.reduce((n, f) => n + f.requests, 0);
  const compute = fn.reduce((n, f) => n + f.compute, 0);
  const firestore = firestoreCost(parts.firestore);
  const tasks = (parts.taskOperations / 1e6) * PRICES.perMillionTaskOperations;
  return {
    invocations: parts.functions.reduce((n, f) => n + f.invocations, 0),
    requests,
    compute,
    firestore,
    tasks,
    total: requests + compute + firestore + tasks,
  };
}

export interface Fleet {
  machines: number;
  beatSeconds: number;
  /** Machines per site (MACHINES_PER_SITE when not given): the sweep queries each site. */
  machinesPerSite?: number;
}

/**
 * Machines per site when pricing a fleet: an assumption (a venue's installation), not a
 * measure. The sweep's pass costs one read per site, so fewer, larger sites cost less.
 */
export const MACHINES_PER_SITE = 50;

/** The sites a fleet has, at its machines per site (at least one when it has machines). */
export const sitesOf = (fleet: Fleet) => (fleet.machines === 0 ? 0 : Math.ceil(fleet.machines / (fleet.machinesPerSite ?? MACHINES_PER_SITE)));

/** Unit costs as the bench measured them (the per-heartbeat trigger as deployed, the sweep). */
export interface PresenceUnits {
  /** The machine trigger's own CPU per on-time heartbeat, decoding included (section 1b). */
  heartbeatUs: number;
  heartbeatMemoryGib: number;
  /** A sweep pass that marks nothing: its reads besides the sites' queries, its writes, and its reads per site (its query: one when it finds nothing) (section 3). */
  idlePass: FirestoreLoad & { readsPerSite: number };
  /** The sweep: scheduled runs a month, passes per run (each an invocation: the run's first, then tasks), and how long a pass holds its instance. */
  sweep: { runsPerMonth: number; passesPerRun: number; passSeconds: number; memoryGib: number };
}

/**
 * Presence as deployed: every heartbeat runs the machine trigger (no Firestore operation when on
 * time), and the sweep's passes look only at machines gone silent since the last pass. Outages
 * themselves are priced per event (see eventCost).
 */
export function perHeartbeatMode(fleet: Fleet, units: PresenceUnits): MonthlyCost {
  const beats = (fleet.machines * SECONDS_PER_MONTH) / fleet.beatSeconds;
  const passes = units.sweep.runsPerMonth * units.sweep.passesPerRun;
  return monthly({
    functions: [
      { invocations: beats, cpuUs: units.heartbeatUs + RUNTIME_US_PER_REQUEST, memoryGib: units.heartbeatMemoryGib },
      { invocations: passes, cpuUs: 0, memoryGib: units.sweep.memoryGib, wallSeconds: units.sweep.passSeconds },
    ],
    firestore: { reads: (units.idlePass.reads + units.idlePass.readsPerSite * sitesOf(fleet)) * passes, writes: units.idlePass.writes * passes },
    taskOperations: sweepTaskOperations(units),
  });
}

/** The sweep's passes after a run's first are Cloud Tasks tasks: each is created and dispatched (2 operations). */
function sweepTaskOperations(units: PresenceUnits): number {
  return units.sweep.runsPerMonth * Math.max(0, units.sweep.passesPerRun - 1) * 2;
}

/**
 * The sweep presence mode: no function per heartbeat. Only the sweep runs, each idle pass
 * reading what it reads in the trigger mode plus its query for returns (measured: `idlePass`
 * here is the sweep mode's). Outages, with the flag's two writes, are priced per event.
 */
export function sweepMode(fleet: Fleet, units: PresenceUnits): MonthlyCost {
  const passes = units.sweep.runsPerMonth * units.sweep.passesPerRun;
  return monthly({
    functions: [{ invocations: passes, cpuUs: 0, memoryGib: units.sweep.memoryGib, wallSeconds: units.sweep.passSeconds }],
    firestore: { reads: (units.idlePass.reads + units.idlePass.readsPerSite * sitesOf(fleet)) * passes, writes: units.idlePass.writes * passes },
    taskOperations: sweepTaskOperations(units),
  });
}

/** The host's design: a cron every 5 minutes that reads every machine doc. Its CPU is not priced (not measured here). */
export function hostCronDesign(fleet: Fleet): MonthlyCost {
  const runs = SECONDS_PER_MONTH / 300;
  return monthly({ functions: [{ invocations: runs, cpuUs: 0, memoryGib: 0 }], firestore: { reads: fleet.machines * runs, writes: 0 }, taskOperations: 0 });
}

/** One event kind's unit costs, measured: Firestore for the whole event (deliveries included) and its deliveries. */
export interface EventUnits {
  reads: number;
  writes: number;
  /** Function invocations besides the deliveries (the triggers and the agent's request that report it). */
  invocations: number;
  deliveries: number;
  /** CPU per invocation, the runtime's share included (an estimate around I/O-bound handlers). */
  cpuUs: number;
}

/** What a number of events of one kind cost: each delivery is a task (create + dispatch) and an invocation. */
export function eventCost(count: number, units: EventUnits): MonthlyCost {
  const invocations = count * (units.invocations + units.deliveries);
  return monthly({
    functions: [{ invocations, cpuUs: units.cpuUs, memoryGib: 0.5 }],
    firestore: { reads: count * units.reads, writes: count * units.writes },
    taskOperations: count * units.deliveries * 2,
  });
}

/**
 * Where the design stops scaling as a fleet grows, in the order it breaks. Firestore keeps an
 * index range in one tablet until it splits it; a range taking a monotonically increasing value
 * sustains about 500 writes a second.
 */
export const HOTSPOT_WRITES_PER_SECOND = 500;

/** Machines at which heartbeats reach a write rate, at a cadence. */
export const machinesAt = (writesPerSecond: number, beatSeconds: number) => writesPerSecond * beatSeconds;

/** Heartbeats a second the machine trigger's instances can take at the utilisation target. */
export function heartbeatCapacity(maxInstances: number, cpuPerInstance: number, heartbeatUs: number): number {
  return (maxInstances * cpuPerInstance * CPU_UTILISATION_TARGET * 1e6) / (heartbeatUs + RUNTIME_US_PER_REQUEST);
}

export const usd = (x: number) =>
  !Number.isFinite(x)
    ? "n/a"
    : x >= 100
      ? `$${Math.round(x).toLocaleString("en-US")}`
      : x >= 1
        ? `$${x.toFixed(2)}`
        : x >= 0.01
          ? `$${x.toFixed(2)}`
          : "< $0.01";
