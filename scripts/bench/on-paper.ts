/**
 * "Scale on paper" of docs/BENCHMARKS.md: sizing, a month of presence priced, events priced, a
 * 100,000-machine outage and the hot spots, worked out from the unit costs a run measured (no
 * emulator, no I/O).
 */
import { MAX_LEDGER_KEYS, SIZING, SWEEP_SITE_CONCURRENCY } from "../../functions/src/seam";
import {
  CPU_UTILISATION_TARGET,
  eventCost,
  heartbeatCapacity,
  HOTSPOT_WRITES_PER_SECOND,
  hostCronDesign,
  MACHINES_PER_SITE,
  machinesAt,
  perHeartbeatMode,
  PRICES,
  RUNTIME_US_PER_REQUEST,
  SECONDS_PER_MONTH,
  sweepMode,
  usd,
} from "../lib/fleet-cost";
import { PRODUCTION, WEBHOOKS, type UnitCosts } from "./units";

/** Sizing, a month of presence priced, events priced, a 100,000-machine outage and the hot spots, worked out from this run's unit costs. */
export function scaleOnPaper(unit: UnitCosts): string[] {
  return [...sizing(unit), ...priced(unit), ...siteOutage(unit), ...hotSpots(unit)];
}

const n = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a");
/** The delivery queue's maxDispatchesPerSecond by default (DELIVERY_MAX_PER_SECOND, functions/src/config.ts). */
const CONFIGURED_RATE = 200;
/** Cloud Tasks' ceiling on dispatches per second of one queue. */
const QUEUE_CEILING = 500;

function sizing(unit: UnitCosts): string[] {
  const hb = SIZING.heartbeat;
  const perBeat = unit.heartbeatUs + RUNTIME_US_PER_REQUEST;
  const capacity = heartbeatCapacity(hb.maxInstances, hb.cpu, unit.heartbeatUs);
  const peak = 20_000;
  const busy = (peak * perBeat) / 1e6;
  return [
    "## Sizing (functions/src/sizing.ts)",
    "",
    `100,000 machines beating every 5-30 s send 3,300-20,000 heartbeats a second; each is one trigger run that reads and writes nothing: ${unit.heartbeatUs.toFixed(0)} µs of CPU as deployed (section 1b), plus the runtime's share around a request, taken here as ${RUNTIME_US_PER_REQUEST} µs (an estimate, not measured). Cloud Run aims at ${CPU_UTILISATION_TARGET * 100} % of an instance's CPU, so the headroom is counted against that, not against 100 %. Every function has its own instances, so heartbeats never wait behind deliveries:`,
    "",
    "| function | cpu | concurrency | max instances | why |",
    "|---|---|---|---|---|",
    `| onMachineWritten | ${hb.cpu} | ${hb.concurrency} | ${hb.maxInstances} | 20,000 runs/s at 5 s beats, ~${perBeat.toFixed(0)} µs each: ${busy.toFixed(1)} busy vCPUs, ${Math.ceil(busy / CPU_UTILISATION_TARGET)} instances at the target; the limit takes ${n(capacity)} a second, ${(capacity / peak).toFixed(0)}x headroom |`,
    "| onProcessWritten, onLogCreated | 1 | 80 | 30 | a crash's writes; rare beside heartbeats |",
    "| agentApi | 1 | 80 | 20 | one request per crash or connection failure |",
    `| deliverWebhook (fast lane) | 1 | 80 | 20 | the queue dispatches at most 100 at once (\`DELIVERY_MAX_CONCURRENT\`) and ${CONFIGURED_RATE} a second: 2 instances; the rest is burst headroom |`,
    "| deliverWebhookSlow | 1 | 80 | 5 | 20 dispatches at once, mostly waiting on receivers |",
    "| api + callables | 1 | 80 | 10 | people and scripts |",
    "| sweepStaleMachines, sweepPass | 1 | 1 | 1 | the minute's first pass, then 5 tasks 10 s apart, one at a time: no instance waits between passes |",
    "| onPresenceWritten | 1 | 80 | 10 | the sweep's marks and their clearing: a few writes per outage |",
    "| onWebhookWritten, onHostReport, onHostRequest | 1 | 80 | 10 | webhook doc writes (people, and health writes after failures), the host's handed-over events and test button |",
    "",
  ];
}

/** A month of presence at fleet sizes and cadences, and events per thousand, at list prices. */
function priced(unit: UnitCosts): string[] {
  const presence = {
    heartbeatUs: unit.heartbeatUs,
    heartbeatMemoryGib: parseInt(SIZING.heartbeat.memory, 10) / 1024,
    // Measured with the suite's sites: one query read each, the rest fixed; priced at MACHINES_PER_SITE.
    idlePass: { reads: unit.idlePassReads - unit.idlePassSites, writes: unit.idlePassWrites, readsPerSite: 1 },
    // Cloud Scheduler fires once a minute; the run makes the first pass, the others are tasks 10 s apart: each an invocation of about an idle pass's time.
    sweep: { runsPerMonth: SECONDS_PER_MONTH / 60, passesPerRun: PRODUCTION.sweepPassesPerMinute, passSeconds: unit.idlePassMs / 1000, memoryGib: 0.25 },
  };
  // The sweep presence mode's idle pass as section 3b measured it: its query for returns besides.
  const sweepPresence = { ...presence, idlePass: { ...presence.idlePass, reads: unit.sweepIdlePassReads - unit.sweepIdlePassSites } };
  const sweepMeasured = Number.isFinite(sweepPresence.idlePass.reads);
  const sweepOnly = perHeartbeatMode({ machines: 0, beatSeconds: 30 }, presence);
  const sweepSleeping = perHeartbeatMode({ machines: 0, beatSeconds: 30 }, { ...presence, sweep: { ...presence.sweep, passesPerRun: 1, passSeconds: 50 } });
  const rows: string[] = [];
  for (const machines of [1_000, 10_000, 100_000])
    for (const beatSeconds of [5, 30, 120]) {
      const fleet = { machines, beatSeconds };
      const ours = perHeartbeatMode(fleet, presence);
      const large = sweepMeasured ? `**${usd(sweepMode(fleet, sweepPresence).total)}**` : "not measured in this run";
      const host = hostCronDesign(fleet);
      rows.push(
        `| ${n(machines)} | ${beatSeconds} s | ${n(ours.invocations / 1e6)} M | ${usd(ours.requests)} | ${usd(ours.compute)} | ${usd(ours.firestore)} | **${usd(ours.total)}** | ${large} | ${usd(host.total)} |`,
      );
    }
  // The triggers that report an event: a crash's log doc trigger and the agent's alert request; an outage's presence trigger and the machine trigger that sees it end.
  const crash = eventCost(1_000, { reads: unit.crashReads, writes: unit.crashWrites, invocations: 2, deliveries: 1, cpuUs: 2_000 });
  const outage = eventCost(1_000, { reads: unit.outageReads, writes: unit.outageWrites, invocations: 2, deliveries: 2 * WEBHOOKS, cpuUs: 2_000 });
  // In the sweep mode only the presence trigger reports it: the sweep's pass answers the return.
  const sweepOutage = eventCost(1_000, {
    reads: unit.sweepOutageReads,
    writes: unit.sweepOutageWrites,
    invocations: 1,
    deliveries: 2 * WEBHOOKS,
    cpuUs: 2_000,
  });
  return [
    "## Priced: a month of presence",
    "",
    `At list prices read on ${PRICES.readOn} (Cloud Run functions with request-based billing: $${PRICES.perMillionRequests.toFixed(2)} per million requests, $${PRICES.perVcpuSecond} per vCPU-second, $${PRICES.perGibSecond} per GiB-second; Firestore in nam5: $${PRICES.per100kReads} per 100,000 reads, $${PRICES.per100kWrites} per 100,000 writes; Cloud Tasks: $${PRICES.perMillionTaskOperations.toFixed(2)} per million operations), free tiers left out, a 30-day month. As deployed, every heartbeat runs the machine trigger (${unit.heartbeatUs.toFixed(0)} µs measured + ${RUNTIME_US_PER_REQUEST} µs runtime, billed over the ${CPU_UTILISATION_TARGET * 100} % target, ${SIZING.heartbeat.memory} instances) and reads and writes nothing; the sweep's idle passes (section 3, 6 a minute: ${(unit.idlePassReads - unit.idlePassSites).toFixed(1)} reads, plus one per site for its query, and ${unit.idlePassWrites.toFixed(1)} writes each; sites taken as ${MACHINES_PER_SITE} machines each, an assumption) and the passes themselves (each an invocation holding its instance for an idle pass's time, ${unit.idlePassMs.toFixed(0)} ms on the emulator) are the rest. Eventarc's delivery of the Firestore events is not priced here. Outages and crashes are priced per event below. The host's design is its cron every 5 minutes reading every machine doc (Firestore reads only; its CPU is not measured here).`,
    "",
    "| machines | beat | invocations | requests | CPU + memory | Firestore | trigger mode (default) | sweep mode (large fleets) | host's cron |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    `The sweep alone (a fleet of 0) is ${usd(sweepOnly.total)} a month, ${usd(sweepOnly.compute)} of it instance time. Its scheduled run makes the first pass and enqueues the other 5 as tasks; a run that waited between its passes held an instance about 50 s a minute: ${usd(sweepSleeping.compute)} of instance time a month, whatever the fleet's size.`,
    "",
    `Request fees are most of the bill in the trigger mode: a function per heartbeat costs $${PRICES.perMillionRequests.toFixed(2)} per million heartbeats before it does anything, however little CPU it spends. The sweep presence mode (\`PRESENCE_MODE=sweep\`: no function per heartbeat; the sweep's idle pass ${sweepMeasured ? `measured at ${sweepPresence.idlePass.reads.toFixed(1)} reads besides its site queries, its query for returns included (section 3b)` : "not measured in this run"}) costs the sweep alone, the same at every cadence: its Firestore reads grow with the sites, not the machines or their beats. Both columns include the sweep's later passes as Cloud Tasks tasks (a create and a dispatch each).`,
    "",
    "## Priced: events",
    "",
    "| 1,000 events | Firestore reads / writes per event (measured) | invocations | Cloud Tasks operations | cost |",
    "|---|---|---|---|---|",
    `| process.crashed by log doc + alert, 1 webhook | ${unit.crashReads} / ${unit.crashWrites} (section 2c) | ${n(crash.invocations)} | ${n(2_000)} | ${usd(crash.total)} |`,
    `| machine.offline and its machine.online, ${WEBHOOKS} webhooks | ${unit.outageReads} / ${unit.outageWrites} (section 2d) | ${n(outage.invocations)} | ${n(2_000 * WEBHOOKS)} | ${usd(outage.total)} |`,
    `| the same in the sweep presence mode | ${unit.sweepOutageReads} / ${unit.sweepOutageWrites} (section 2e) | ${n(sweepOutage.invocations)} | ${n(2_000 * WEBHOOKS)} | ${usd(sweepOutage.total)} |`,
    "",
    "An event's invocations are the triggers that report it and one per delivery, each taken as 2 ms of CPU around its I/O (an estimate); a delivery's task is created and dispatched (two operations).",
    "",
  ];
}

/** A whole site going dark and coming back, priced with the outage's own unit costs. */
function siteOutage(unit: UnitCosts): string[] {
  const machines = 100_000;
  const webhooks = WEBHOOKS;
  const tasks = machines * webhooks;
  const cost = eventCost(machines, { reads: unit.outageReads, writes: unit.outageWrites, invocations: 2, deliveries: 2 * webhooks, cpuUs: 2_000 });
  return [
    `## Scale on paper: a ${n(machines)}-machine site goes dark and comes back (${webhooks} webhooks subscribed to machine.offline and machine.online)`,
    "",
    "By default a site's `machine.offline` pages are bounded (`offlinePerHour`, 100 an hour): such a",
    `site gets 100 pages (${n(100 * webhooks)} deliveries) and the other outages are counted and said on its`,
    "next page. The figures below price every page as if the bound let it out (it can be raised to",
    "10,000 an hour; `eventsPerHour` never applied to `machine.offline`). Unit costs are this run's",
    "outage and its end (section 2d), not a crash's.",
    "",
    "| quantity | figure |",
    "|---|---|",
    `| machine.offline events, then machine.online | ${n(machines)} each (one per machine) |`,
    `| delivery tasks | ${n(tasks)} of each |`,
    `| sweep: marked per pass / per minute | up to 6,000 / 36,000 (20 pages of 300 per pass across its sites, furthest behind first; 6 passes): all marked within 3 minutes of the threshold |`,
    `| Firestore reads / writes | ${n(machines * unit.outageReads)} / ${n(machines * unit.outageWrites)} |`,
    `| cost at list prices | ${usd(cost.total)} |`,
    `| machine.offline deliveries drained at the configured ${CONFIGURED_RATE} dispatches/s, one queue | ${(tasks / CONFIGURED_RATE / 60).toFixed(0)} minutes |`,
    `| the same at Cloud Tasks' ceiling of ${QUEUE_CEILING}/s | ${(tasks / QUEUE_CEILING / 60).toFixed(0)} minutes; with 4 queues, ${(tasks / QUEUE_CEILING / 4 / 60).toFixed(1)} minutes |`,
    "",
    "Past one queue, shard: N delivery functions (`deliverWebhook0..N-1`, each its own queue, same",
    "handler), the fan-out picking the queue by a hash of the webhook id, so a webhook's deliveries",
    "stay in one queue and its lane rules still apply (not built).",
    "",
  ];
}

/** Where the design breaks as a fleet or its event rate grows, first first. */
function hotSpots(unit: UnitCosts): string[] {
  const hb = SIZING.heartbeat;
  const capacity = heartbeatCapacity(hb.maxInstances, hb.cpu, unit.heartbeatUs);
  const at = (perSecond: number) => [5, 30, 120].map((b) => n(machinesAt(perSecond, b))).join(" / ");
  return [
    "## Hot spots, in the order they break",
    "",
    "| # | what | limit | breaks at |",
    "|---|---|---|---|",
    `| 1 | a site's ledger doc (\`emissionLimits/ledger\`): every occurrence of a site is decided on it, a read and a write conditioned on it | about 1 sustained write/s per doc (bursts go higher); past it, conditions fail and are read again, after 8 a decision takes the lock | a few events a second in one site; the flood (section 4) decides 100 crashes at once |`,
    `| 2 | the delivery queue | ${CONFIGURED_RATE} dispatches/s configured, ${QUEUE_CEILING}/s per queue at most | ${n(CONFIGURED_RATE)} deliveries a second, e.g. ${n(CONFIGURED_RATE / WEBHOOKS)} events/s to ${WEBHOOKS} webhooks |`,
    `| 3 | a site's own machines collection: \`lastHeartbeat\` under the sweep's per-site index and Firestore's automatic single-field index (the agent's field) | about ${HOTSPOT_WRITES_PER_SECOND} writes/s per site, not per fleet | ${at(HOTSPOT_WRITES_PER_SECOND)} machines in one site |`,
    `| 4 | the sweep's pass: one query per site, ${SWEEP_SITE_CONCURRENCY} at a time | its 60 s deadline | about ${n((60_000 * SWEEP_SITE_CONCURRENCY) / (unit.idlePassMs / unit.idlePassSites))} sites, if each site took what this run's idle pass took per site (${(unit.idlePassMs / unit.idlePassSites).toFixed(0)} ms on the emulator, its fixed reads included) and ${SWEEP_SITE_CONCURRENCY} ran at once; its reads grow with the sites long before (priced above) |`,
    `| 5 | the machine trigger's instances (${hb.maxInstances} of ${hb.cpu} vCPU; the trigger mode only: the sweep mode runs no function per heartbeat) | ${n(capacity)} heartbeats/s at the ${CPU_UTILISATION_TARGET * 100} % target | ${at(capacity)} machines |`,
    `| 6 | the ledger's size | ${MAX_LEDGER_KEYS.toLocaleString("en-US")} limit keys an hour (about 560 KB) | a site with more distinct machine-and-process pairs reporting in one hour: held back like an event over its limit |`,
    "",
    "No index range of the pipeline holds the whole fleet's heartbeats: the sweep queries each site's machines under a collection-scope index (one range per site). The collection-group indexes that remain take only writes the pipeline makes, at the rates docs/data-contract.md gives (`presence.dueAt`, `hostReports.reportedAt`, `webhooks.url`, and the sweep mode's `machines.sweepAwaitingReturn+lastHeartbeat`, which holds flagged machines only).",
    "",
  ];
}
