/**
 * `npm run bench`: throughput, latency and Firestore cost of the pipeline on the emulator suite.
 * Run inside the suite (scripts/emulators.mjs exec); prints a table and rewrites
 * docs/BENCHMARKS.md with the figures and the machine they came from.
 *
 *   1. CPU: payload build + signing per delivery, against a bare HMAC of the same bytes
 *   2. Firestore cost: reads and writes per event, per delivery, per heartbeat (counted)
 *   3. Fleet: BENCH_MACHINES (1,000) deployed-shape agents at 5/30/120 s cadences, each with one
 *      late beat, 10 % dying: last heartbeat -> machine.offline delivery with the production
 *      threshold and sweep passes, false alarms, and the sweep's cost
 *   4. Flood: 100 crashes of one process at once (log doc + alert each): events emitted
 *   5. Burst: BENCH_EVENTS (1,000) process.crashed writes fanned out to 3 webhooks on local
 *      receivers: agent write -> receiver latency, deliveries/s, exactly-once accounting
 *
 * Environment: BENCH_EVENTS, BENCH_MACHINES, BENCH_NO_WRITE=1 (print only).
 */
import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import { cpus, totalmem, type } from "node:os";
import { join } from "node:path";
import { getApps, initializeApp } from "firebase-admin/app";
import { getFirestore, Timestamp, type Firestore } from "firebase-admin/firestore";
import { appOptions } from "../functions/src/app-options";
import { paths } from "../functions/src/data/paths";
import { ManagementStore } from "../functions/src/data/management-store";
import { Store } from "../functions/src/data/store";
import { EmissionStore } from "../functions/src/data/emission-store";
import { deliver } from "../functions/src/delivery/deliver";
import { sendHttp } from "../functions/src/delivery/http-sender";
import { systemResolver } from "../functions/src/delivery/resolve-destination";
import type { DeliveryTask } from "../functions/src/delivery/task-queue";
import type { EventType } from "../functions/src/domain/event-catalog";
import { buildPayload, serializePayload } from "../functions/src/domain/payload";
import { deliveryHeaders } from "../functions/src/domain/request-headers";
import { generateSecret } from "../functions/src/domain/signing";
import type { Log } from "../functions/src/log";
import { handleMachineWrite } from "../functions/src/triggers/on-machine-written";
import { handleProcessWrite } from "../functions/src/triggers/on-process-written";
import { runSweep } from "../functions/src/triggers/sweep-stale-machines";
import { suiteAgent } from "./lib/agent-auth";
import { OwletteAgent, unsignedAgentToken } from "./lib/owlette-agent";
import { countingFirestore, type OpCounts } from "./lib/counting-firestore";
import { Receiver, type ReceivedDelivery } from "./lib/receiver";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1000);
const MACHINES = Number(process.env.BENCH_MACHINES ?? 1000);
const WEBHOOKS = 3;
/** The deployed defaults (functions/.env), which the fleet run uses as they are. */
const PRODUCTION = { staleAfterSeconds: 210, sweepPassesPerMinute: 6 };
const WRITE_CONCURRENCY = 50;
/** Crash reports of the flood sent at once (see flood()). */
const FLOOD_CONCURRENCY = 10;
/** Burst events written and not yet delivered to every webhook, at most (see burst()). */
const BURST_IN_FLIGHT = 10;
const silent: Log = { info: () => {}, warn: () => {}, error: () => {} };
const root = join(__dirname, "..");

const notes: string[] = [];
function report(label: string, value: string) {
  sections[sections.length - 1]?.rows.push([label, value]);
  console.log(`  ${label.padEnd(58)} ${value}`);
}
const sections: { title: string; rows: [string, string][] }[] = [];
function section(title: string) {
  console.log(`\n${title}`);
  sections.push({ title, rows: [] });
}
const ms = (n: number) => `${Math.round(n)} ms`;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function inChunks<T>(items: T[], size: number, run: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

async function until(what: string, done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) {
      console.log(`  (gave up waiting for ${what} after ${timeoutMs / 1000} s)`);
      return false;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return true;
}

/** A site with `count` webhooks on the receiver, each at its own path, subscribed to `events`. */
async function siteWithWebhooks(db: Firestore, receiver: Receiver, siteId: string, count: number, events: EventType[], opts: { defaultLimits?: boolean } = {}) {
  // Throughput runs lift the site's emission limit (300 agent events an hour by default).
  await db.doc(paths.site(siteId)).set({ name: `Bench ${siteId}`, owner: "bench", ...(opts.defaultLimits ? {} : { eventsPerHour: 1_000_000 }) });
  const manage = new ManagementStore(db);
  const hooks: { id: string; path: string }[] = [];
  for (let i = 1; i <= count; i++) {
    const path = `/${siteId}/${i}`;
    const { id, secret } = await manage.createWebhook(siteId, { name: `receiver ${i}`, url: receiver.url(path), events, createdBy: "bench" }, { quota: 100 });
    receiver.register(path, secret, () => 200);
    hooks.push({ id, path });
  }
  return hooks;
}

function cpuBenchmark() {
  section("1. CPU per delivery (payload build + serialise + sign, vs a bare HMAC of the same bytes)");
  const secret = generateSecret();
  const detected = {
    type: "process.crashed" as const,
    machineId: "DESKTOP-ABC123",
    machineName: "Gallery PC 1",
    fields: { processName: "TouchDesigner", errorMessage: "Process exited with code -1073741819", exitCode: -1073741819, processId: "td" },
  };
  const site = { id: "nyc-office", name: "NYC Office" };
  const body = serializePayload(buildPayload({ id: "evt_0123456789abcdef0123456789abcdef", detected, occurredAt: new Date(), site }));
  const rounds = 50_000;
  const time = (fn: (i: number) => unknown) => {
    for (let i = 0; i < 2_000; i++) fn(i); // warm-up
    const start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) fn(i);
    return Number(process.hrtime.bigint() - start) / 1e3 / rounds; // µs per op
  };
  const bare = time(() => createHmac("sha256", secret).update(body).digest("hex"));
  const full = time((i) => {
    const b = serializePayload(buildPayload({ id: `evt_${i}`, detected, occurredAt: new Date(), site }));
    return deliveryHeaders({ scheme: "owlette", secrets: [secret], body: b, eventId: `evt_${i}`, eventType: "process.crashed", deliveryId: `dlv_${i}`, attempt: 1, timestampSeconds: 1_700_000_000 });
  });
  const standard = time((i) =>
    deliveryHeaders({ scheme: "standard", secrets: [secret], body, eventId: `evt_${i}`, eventType: "process.crashed", deliveryId: `dlv_${i}`, attempt: 1, timestampSeconds: 1_700_000_000 }),
  );
  report(`payload body size`, `${Buffer.byteLength(body)} bytes`);
  report(`bare HMAC-SHA256 (hex) of the body`, `${bare.toFixed(2)} µs`);
  report(`build + serialise + sign (owlette scheme, all headers)`, `${full.toFixed(2)} µs`);
  report(`ratio to the bare HMAC`, `${(full / bare).toFixed(2)}x`);
  report(`sign with the standard scheme (body already built)`, `${standard.toFixed(2)} µs (${(standard / bare).toFixed(2)}x)`);
  notes.push(
    `CPU is not what limits delivery: building, serialising and signing a payload takes ${full.toFixed(1)} µs (${(full / bare).toFixed(1)}x a bare HMAC of the same bytes, the rest being JSON and header assembly), against milliseconds of network and Firestore round trips per delivery.`,
  );
  return { bare, full };
}

async function costAccounting(db: Firestore, receiver: Receiver) {
  section("2. Firestore reads and writes (counted at the data-access layer, steady state)");
  const siteId = "bench-cost";
  const hooks = await siteWithWebhooks(db, receiver, siteId, WEBHOOKS, ["process.crashed"]);
  const counting = countingFirestore(db);
  const store = new Store(counting.db);
  const tasks: DeliveryTask[] = [];
  const enqueue = async (task: DeliveryTask) => {
    tasks.push(task);
    return "enqueued" as const;
  };
  const ingestDeps = { store, emissions: new EmissionStore(counting.db), enqueue, log: silent, now: () => new Date() };
  const deps = {
    store,
    send: sendHttp,
    enqueue,
    now: () => new Date(),
    config: { deliveryTimeoutMs: 5000, fastLaneDeadlineMs: 2000, ...PRODUCTION, retrySchedule: [0, 60, 300, 1800, 7200], allowLocalHttp: true },
    log: silent,
    resolve: systemResolver,
  };
  // The process trigger's handler, run in-process on a crash written by an agent (one machine
  // per crash: the emission limits allow 20 an hour per machine).
  const crash = (eventId: string, processId: string) =>
    handleProcessWrite(
      {
        eventId,
        occurredAt: new Date(),
        path: `sites/${siteId}/machines/m-${processId}/processes/${processId}`,
        params: { siteId, machineId: `m-${processId}`, processId },
        before: { name: "TouchDesigner", status: "running" },
        after: { name: "TouchDesigner", status: "crashed", exitCode: 1 },
      },
      ingestDeps,
    );
  const fanOut: OpCounts[] = [];
  const perDelivery: OpCounts[] = [];
  const rounds = 20;
  for (let i = 0; i < rounds; i++) {
    counting.take();
    await crash(`bench-cost-${i}`, `p${i}`);
    fanOut.push(counting.take());
    while (tasks.length > 0) {
      await deliver(tasks.shift() as DeliveryTask, deps);
      perDelivery.push(counting.take());
    }
  }
  // The first round also pays for each webhook's first lastDeliveryAt; report the steady state.
  const steady = (list: OpCounts[], skip: number) => {
    const rest = list.slice(skip);
    return { reads: rest.reduce((n, c) => n + c.reads, 0) / rest.length, writes: rest.reduce((n, c) => n + c.writes, 0) / rest.length };
  };
  const f = steady(fanOut, 1);
  const d = steady(perDelivery, WEBHOOKS);
  const first = perDelivery[0] as OpCounts;
  report(`fan-out of one event to ${WEBHOOKS} webhooks`, `${f.reads.toFixed(1)} reads, ${f.writes.toFixed(1)} writes`);
  report(`one successful delivery (steady state)`, `${d.reads.toFixed(1)} reads, ${d.writes.toFixed(1)} writes`);
  report(`  first delivery to a webhook (sets lastDeliveryAt)`, `${first.reads} reads, ${first.writes} writes`);
  // A failed attempt: recorded on its delivery doc, then applied to the webhook in a transaction.
  const failing = hooks[0] as { id: string; path: string };
  receiver.respondWith(failing.path, () => 500);
  await crash("bench-cost-fail", "pf");
  const failTask = tasks.find((t) => t.webhookId === failing.id) as DeliveryTask;
  tasks.length = 0;
  counting.take();
  await deliver(failTask, deps);
  const failed = counting.take();
  tasks.length = 0;
  report(`one failed attempt (retry scheduled, failCount + 1)`, `${failed.reads} reads, ${failed.writes} writes`);
  notes.push(
    `A failed attempt costs ${failed.reads} reads and ${failed.writes} writes: it is first recorded on its delivery doc alone, then a transaction re-reads the webhook and the delivery and applies the outcome, so a handler that dies in between never sends the attempt twice and never loses the count.`,
  );
  report(`per delivered event, ${WEBHOOKS} webhooks, all costs`, `${(f.reads + WEBHOOKS * d.reads).toFixed(1)} reads, ${(f.writes + WEBHOOKS * d.writes).toFixed(1)} writes`);

  const t0 = Timestamp.fromMillis(Date.now() - 30_000);
  const t1 = Timestamp.now();
  const machine = { online: true, machineId: "m1", siteId, name: "Gallery PC 1", agent_version: "2.4.0" };
  counting.take();
  await handleMachineWrite(
    { eventId: "bench-hb", occurredAt: new Date(), path: `sites/${siteId}/machines/m1`, params: { siteId, machineId: "m1" }, before: { ...machine, lastHeartbeat: t0 }, after: { ...machine, lastHeartbeat: t1 } },
    ingestDeps,
  );
  const hb = counting.take();
  report(`idle heartbeat: pipeline cost beyond the agent's own write`, `${hb.reads} reads, ${hb.writes} writes`);
  notes.push(
    `Firestore cost grows with webhooks, not with heartbeats: each delivered event costs ${(f.reads + WEBHOOKS * d.reads).toFixed(0)} reads and ${(f.writes + WEBHOOKS * d.writes).toFixed(0)} writes for ${WEBHOOKS} webhooks (per event: matching the report to its occurrence in a transaction, the site's settings, the three emission limits (a read, an append and a read each), the suppressed count and the decision in transactions, the fan-out query, the machine name, one event doc, the emitted mark; per delivery one batched read of webhook, secret, event and delivery docs and one delivery-doc write). A healthy webhook's own doc is rewritten at most once a minute. Per-event cost is the emission limits' price; events are rare beside heartbeats, which cost nothing.`,
  );
  notes.push(`An idle heartbeat costs the agent's own write (1) and nothing else: the machine trigger parses both sides, detects no transition and returns without touching Firestore.`);
}

async function burst(db: Firestore, receiver: Receiver) {
  section(`5. Burst: ${EVENTS} process.crashed writes, fanned out to ${WEBHOOKS} webhooks (emulator triggers + Cloud Tasks)`);
  const siteId = "bench-burst";
  const hooks = await siteWithWebhooks(db, receiver, siteId, WEBHOOKS, ["process.crashed"]);
  const paths_ = new Set(hooks.map((h) => h.path));
  const writtenAt = new Map<string, number>();
  const got: ReceivedDelivery[] = [];
  const stop = receiver.onDelivery((d) => {
    if (paths_.has(d.path)) got.push(d);
  });
  const keys = Array.from({ length: EVENTS }, (_, i) => ({ machine: `m${String(Math.floor(i / 20)).padStart(3, "0")}`, process: `p${i % 20}` }));
  // The emulator runs each concurrent invocation in a worker process of its own: unpaced, a
  // burst of triggers spawns hundreds of them and exhausts a small machine. At most
  // BURST_IN_FLIGHT events are written and not yet delivered everywhere at any time.
  const deliveredTo = new Map<string, number>();
  const listen = receiver.onDelivery((d) => {
    if (!paths_.has(d.path)) return;
    const key = `${d.payload?.data?.machineId}/${d.payload?.data?.processId}`;
    deliveredTo.set(key, (deliveredTo.get(key) ?? 0) + 1);
  });
  const inFlight = () => [...writtenAt.keys()].filter((k) => (deliveredTo.get(k) ?? 0) < WEBHOOKS).length;
  const started = Date.now();
  let lastProgress = started;
  for (const k of keys) {
    while (inFlight() >= BURST_IN_FLIGHT) await new Promise((r) => setTimeout(r, 20));
    if (Date.now() - lastProgress > 15_000) {
      lastProgress = Date.now();
      process.stderr.write(`  burst: ${writtenAt.size}/${EVENTS} written, ${got.length}/${EVENTS * WEBHOOKS} delivered\n`);
    }
    writtenAt.set(`${k.machine}/${k.process}`, Date.now());
    void db
      .doc(`${paths.machine(siteId, k.machine)}/processes/${k.process}`)
      .set({ name: `App ${k.process}`, status: "crashed", exitCode: -1, pid: 1000 })
      .then((result) => writtenAt.set(`${k.machine}/${k.process}`, result.writeTime.toMillis()));
  }
  const writeSeconds = (Date.now() - started) / 1000;
  const expected = EVENTS * WEBHOOKS;
  const uniqueOf = () => new Set(got.map((d) => `${d.path}|${d.payload?.id}`)).size;
  await until("every delivery", () => uniqueOf() >= expected, 600_000);
  await new Promise((r) => setTimeout(r, 2_000)); // late duplicates, if any
  stop();
  listen();

  const latencies = got
    .map((d) => d.receivedAt - (writtenAt.get(`${d.payload?.data?.machineId}/${d.payload?.data?.processId}`) ?? NaN))
    .filter((n) => Number.isFinite(n))
    .sort((a, b) => a - b);
  const unique = uniqueOf();
  const bad = got.filter((d) => !d.verified).length;
  const firstWrite = Math.min(...writtenAt.values());
  const last = Math.max(...got.map((d) => d.receivedAt));
  report(`agent writes issued (at most ${BURST_IN_FLIGHT} events in flight)`, `${EVENTS} in ${writeSeconds.toFixed(1)} s`);
  report(`deliveries received / expected`, `${got.length} / ${expected}`);
  report(`unique (webhook, event id) pairs; lost; duplicates`, `${unique}; ${expected - unique}; ${got.length - unique}`);
  report(`bad signatures`, `${bad}`);
  report(`latency agent write -> receiver p50 / p95 / p99`, `${ms(percentile(latencies, 50))} / ${ms(percentile(latencies, 95))} / ${ms(percentile(latencies, 99))}`);
  report(`throughput (first write to last delivery)`, `${(got.length / ((last - firstWrite) / 1000)).toFixed(1)} deliveries/s, drained in ${((last - firstWrite) / 1000).toFixed(1)} s`);
  notes.push(
    `Burst latency is queueing: ${EVENTS} trigger runs and ${expected} task dispatches, at most ${BURST_IN_FLIGHT} events in flight, wait their turn in the emulator's single-machine functions runtime (one worker process per concurrent invocation, so the bench paces itself rather than exhaust a 2-core machine). The isolated-event row is the pipeline's own latency on the emulator (trigger dispatch, fan-out, task dispatch, delivery); deployed, Cloud Functions scales out instead of queueing.`,
  );

  // The same path with no backlog: one event at a time.
  const isolated: number[] = [];
  const samples = 20;
  for (let i = 0; i < samples; i++) {
    const key = { machine: "solo", process: `p${i}` };
    const seen: ReceivedDelivery[] = [];
    const listen = receiver.onDelivery((d) => {
      if (paths_.has(d.path) && d.payload?.data?.machineId === "solo" && d.payload.data.processId === key.process) seen.push(d);
    });
    const result = await db.doc(`${paths.machine(siteId, key.machine)}/processes/${key.process}`).set({ name: "Solo", status: "crashed", exitCode: -1 });
    await until("the isolated event", () => seen.length >= WEBHOOKS, 30_000);
    listen();
    for (const d of seen) isolated.push(d.receivedAt - result.writeTime.toMillis());
  }
  isolated.sort((a, b) => a - b);
  report(`isolated event (${samples}, one at a time): write -> receiver p50 / p95 / max`, `${ms(percentile(isolated, 50))} / ${ms(percentile(isolated, 95))} / ${ms(isolated[isolated.length - 1] ?? NaN)}`);
  if (expected - unique > 0) notes.push(`The burst lost ${expected - unique} deliveries: investigate before trusting these figures.`);
}

/** Deployed agents' heartbeat cadences: GUI open, processes running, idle. */
const CADENCES = [5, 30, 120] as const;
const LATE_BY_SECONDS = 65;

async function fleet(db: Firestore, receiver: Receiver) {
  const thresholdMs = PRODUCTION.staleAfterSeconds * 1000;
  const passMs = 60_000 / PRODUCTION.sweepPassesPerMinute;
  section(
    `3. Fleet: ${MACHINES} deployed-shape agents beating every 5, 30 or 120 s (each one beat ${LATE_BY_SECONDS} s late), a tenth die; production threshold ${PRODUCTION.staleAfterSeconds} s, a sweep pass every ${passMs / 1000} s`,
  );
  const siteId = "bench-fleet";
  const [hook] = await siteWithWebhooks(db, receiver, siteId, 1, ["machine.offline"]);
  const project = process.env.GCLOUD_PROJECT as string;
  const agents = Array.from({ length: MACHINES }, (_, i) => {
    const machineId = `FLEET-${String(i).padStart(4, "0")}`;
    const token = unsignedAgentToken(project, siteId, machineId);
    // 2 % with the GUI open, about 40 % running processes, the rest idle; the dying tenth spread over them.
    const cadence = i % 50 === 11 ? CADENCES[0] : i % 10 < 4 ? CADENCES[1] : CADENCES[2];
    const agent = new OwletteAgent({ projectId: project, siteId, machineId, firestoreHost: process.env.FIRESTORE_EMULATOR_HOST as string, token: async () => token });
    return { agent, cadence, dies: Math.floor(i / 10) % 10 === i % 10 };
  });
  const silentCount = agents.filter((a) => a.dies).length;
  const lastBeat = new Map<string, number>();
  const beat = async (a: (typeof agents)[number]) => {
    const sent = Date.now();
    await a.agent.heartbeat();
    // The server stamps the beat on arrival: between sending and the answer.
    lastBeat.set(a.agent.id.machineId, Math.round((sent + Date.now()) / 2));
  };
  const offline = new Map<string, number>();
  const stop = receiver.onDelivery((d) => {
    if (d.path === hook?.path && d.payload?.event === "machine.offline") offline.set(String(d.payload.data?.machineId), d.receivedAt);
  });

  const roundStart = Date.now();
  await inChunks(agents, WRITE_CONCURRENCY, async (a) => {
    await a.agent.presence(true);
    await beat(a);
  });
  report(`start: presence + heartbeat of ${MACHINES} agents (Firestore REST, through the rules)`, `${((Date.now() - roundStart) / 1000).toFixed(1)} s`);

  const counting = countingFirestore(db);
  const sweepStore = new Store(counting.db);
  const sweeps: { reads: number; writes: number; marked: number; candidates: number }[] = [];
  let running = true;
  const started = Date.now();
  // Each live agent beats at its cadence after its own last beat, as the agent's loop does; one
  // of its beats, within the first 3 minutes, comes LATE_BY_SECONDS late.
  const beating = agents
    .filter((a) => !a.dies)
    .map(async (a, i) => {
      const lateAt = started + ((i * 7919) % 150_000);
      let late = false;
      while (running) {
        const next = (lastBeat.get(a.agent.id.machineId) ?? started) + a.cadence * 1000;
        const lateNow: boolean = !late && next >= lateAt;
        late ||= lateNow;
        const due = next + (lateNow ? LATE_BY_SECONDS * 1000 : 0);
        while (running && Date.now() < due) await new Promise((r) => setTimeout(r, Math.min(1000, due - Date.now())));
        if (!running) break;
        await beat(a).catch(() => undefined);
      }
    });
  const sweeping = (async () => {
    while (running) {
      await new Promise((r) => setTimeout(r, passMs));
      if (!running) break;
      counting.take();
      const result = await runSweep(sweepStore, { now: new Date(), staleAfterMs: thresholdMs });
      sweeps.push({ ...counting.take(), ...result });
    }
  })();
  const dead = new Set(agents.filter((a) => a.dies).map((a) => a.agent.id.machineId));
  const progressTimer = setInterval(
    () => process.stderr.write(`  fleet: ${[...offline.keys()].filter((id) => dead.has(id)).length}/${silentCount} dead machines paged after ${Math.round((Date.now() - started) / 1000)} s\n`),
    30_000,
  );
  await until("every dead machine's machine.offline", () => [...dead].every((id) => offline.has(id)), thresholdMs + 180_000);
  // Keep the live fleet beating a little longer: a false alarm would show up now.
  await new Promise((r) => setTimeout(r, 20_000));
  clearInterval(progressTimer);
  running = false;
  await Promise.all([...beating, sweeping]);
  stop();

  const falseAlarms = [...offline.keys()].filter((id) => !dead.has(id)).length;
  const fromLastBeat = [...dead]
    .filter((id) => offline.has(id))
    .map((id) => (offline.get(id) as number) - (lastBeat.get(id) as number))
    .sort((a, b) => a - b);
  const idle = sweeps.filter((s) => s.marked === 0);
  const busy = sweeps.filter((s) => s.marked > 0);
  const sum = (list: typeof sweeps, k: "reads" | "writes" | "marked") => list.reduce((n, s) => n + s[k], 0);
  report(`dead machines paged / dead machines; false alarms (late beats included)`, `${offline.size - falseAlarms} / ${silentCount}; ${falseAlarms}`);
  report(`last heartbeat -> machine.offline delivery p50 / max (target: within 4 min)`, `${ms(percentile(fromLastBeat, 50))} / ${ms(fromLastBeat[fromLastBeat.length - 1] ?? NaN)}`);
  report(`  of which over the ${PRODUCTION.staleAfterSeconds} s threshold p50 / max`, `${ms(percentile(fromLastBeat, 50) - thresholdMs)} / ${ms((fromLastBeat[fromLastBeat.length - 1] ?? NaN) - thresholdMs)}`);
  if (idle.length) report(`sweep pass with nothing stale (${MACHINES} machines)`, `${(sum(idle, "reads") / idle.length).toFixed(1)} reads, ${(sum(idle, "writes") / idle.length).toFixed(1)} writes`);
  if (busy.length) {
    const marked = sum(busy, "marked");
    report(`sweep cost per machine marked stale`, `${(sum(busy, "reads") / marked).toFixed(2)} reads, ${(sum(busy, "writes") / marked).toFixed(2)} writes`);
  }
  notes.push(
    `Offline detection is bounded by the threshold (${PRODUCTION.staleAfterSeconds} s: an idle agent beats every 120 s, so one beat ${LATE_BY_SECONDS} s late is no outage), plus up to one sweep pass (${passMs / 1000} s; Cloud Scheduler fires once a minute and each run makes ${PRODUCTION.sweepPassesPerMinute} passes), plus the trigger and delivery. Deployed Owlette takes up to about 11 minutes.`,
  );
}

async function flood(db: Firestore, receiver: Receiver) {
  const CRASHES = 100;
  section(`4. Flood: ${CRASHES} crashes of one process on one machine, ${FLOOD_CONCURRENCY} at a time, each a log doc and an alert (default emission limits)`);
  const siteId = "bench-flood";
  const [hook] = await siteWithWebhooks(db, receiver, siteId, 1, ["process.crashed"], { defaultLimits: true });
  const got: ReceivedDelivery[] = [];
  const stop = receiver.onDelivery((d) => {
    if (d.path === hook?.path) got.push(d);
  });
  const agent = await suiteAgent(siteId, "FLOOD-PC");
  const started = Date.now();
  // As fast as the emulator takes them: it starts a worker process per concurrent invocation,
  // and a hundred at once fail to start on a 2-core machine (deployed, they would all run).
  const answers: Awaited<ReturnType<OwletteAgent["crash"]>>[] = [];
  await inChunks(Array.from({ length: CRASHES }, (_, i) => i), FLOOD_CONCURRENCY, async (i) => {
    answers.push(await agent.crash("TouchDesigner", 10_000 + i));
  });
  const outcomes = new Map<string, number>();
  for (const a of answers) {
    const outcome = String((a.alert?.body as { outcome?: string } | undefined)?.outcome ?? `HTTP ${a.alert?.status ?? "failed"}`);
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  await new Promise((r) => setTimeout(r, 15_000)); // every log trigger has run by then
  stop();
  const counter = await db.collection(`sites/${siteId}/emissionLimits`).where("key", "==", "process|FLOOD-PC|TouchDesigner").get();
  const suppressed = counter.docs.map((d) => d.get("suppressed")).find((n) => typeof n === "number") ?? 0;
  report(`reports sent (log docs + alerts)`, `${CRASHES * 2} in ${((Date.now() - started - 15_000) / 1000).toFixed(1)} s`);
  report(`alert answers`, [...outcomes].map(([k, n]) => `${n} ${k}`).join(", "));
  report(`events delivered (limit: 3 an hour per machine and process)`, `${got.length}`);
  report(`held back and counted (reported by the next event out)`, `${suppressed}`);
  notes.push(
    `A flood is bounded by the emission limits, decided once per occurrence (a crash's log doc and its alert count once): ${got.length} events out of ${CRASHES} crashes, the rest counted. Admission is an ordered append to one window doc per limit, so a hundred concurrent reports contend on no transaction.`,
  );
}

function machineDetails(): string[] {
  const cpu = cpus();
  return [
    `- CPU: ${cpu[0]?.model ?? "unknown"}, ${cpu.length} cores`,
    `- Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB; ${type()}`,
    `- Node ${process.version}; firebase-tools ${require("firebase-tools/package.json").version}, emulators: Firestore, Functions, Cloud Tasks, Auth`,
  ];
}

function writeMarkdown(seconds: number) {
  const tables = sections.flatMap((sec) => [
    `## ${sec.title.replace(/^\d+\. /, "")}`,
    "",
    "| measure | result |",
    "|---|---|",
    ...sec.rows.map(([k, v]) => `| ${k.trim()} | ${v} |`),
    "",
  ]);
  const text = [
    "# Benchmarks",
    "",
    "Produced by `npm run bench` (`scripts/bench.ts`), which starts the emulator suite, runs the",
    "measures below and rewrites this file. The burst and fleet figures go through the emulator's",
    "own trigger and Cloud Tasks dispatch loop, so they measure the pipeline on one small machine,",
    "not Cloud Functions' autoscaling; the Firestore counts and the CPU figures carry over as they are.",
    "",
    `Run on ${new Date().toISOString().slice(0, 10)}, ${Math.round(seconds)} s in all:`,
    "",
    ...machineDetails(),
    "",
    ...tables,
    "## Reading the figures",
    "",
    ...notes.map((n) => `- ${n}`),
    "",
  ].join("\n");
  writeFileSync(join(root, "docs", "BENCHMARKS.md"), text);
}

async function main() {
  if (!process.env.FIRESTORE_EMULATOR_HOST) throw new Error("run through `npm run bench`: it needs the emulator suite");
  const began = Date.now();
  if (getApps().length === 0) initializeApp(appOptions());
  const db = getFirestore();
  const receiver = await new Receiver().start();
  try {
    cpuBenchmark();
    await costAccounting(db, receiver);
    // The fleet first: the emulator keeps a worker process for every concurrent invocation it
    // ever ran, so the burst, run before, would leave the fleet's heartbeats on a crowded machine.
    await fleet(db, receiver);
    await flood(db, receiver);
    await burst(db, receiver);
  } finally {
    await receiver.stop();
  }
  const seconds = (Date.now() - began) / 1000;
  console.log(`\nbench finished in ${seconds.toFixed(0)} s; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (bench process)`);
  if (process.env.BENCH_NO_WRITE !== "1") {
    writeMarkdown(seconds);
    console.log("wrote docs/BENCHMARKS.md");
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
