/**
 * The live demo: run inside the emulator suite by `npm start`.
 *
 * Seeds a demo site with one webhook pointing at a local receiver that verifies every
 * signature, runs simulated agents (heartbeats, a process crash, a machine going silent and
 * coming back, a connection failure), and prints each delivery as it arrives.
 *
 * A second webhook points at a flaky receiver that answers 503 to an event's first two attempts:
 * its retries arrive at the local project's schedule (RETRY_SCHEDULE_SECONDS in
 * functions/.env.demo-owlette: production's at 1/60), as the suite keeps task schedules.
 *
 *   --once           exit 0 as soon as all five event types arrived verified and the flaky
 *                    receiver's third attempt came on schedule (exit 1 on timeout)
 *   --report FILE    with --once: write the outcome as a test report (one check per event type)
 *
 * Environment: DEMO_RECEIVER_PORT (default: any free port). The machine that goes silent is
 * marked by the suite's own scheduled sweep (functions/.env.demo-owlette: a 15 s threshold).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { getApps, initializeApp } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import { getFirestore, Timestamp } from "firebase-admin/firestore";
import { appOptions, paths, generateApiKey, REGION, ManagementStore, Store, type EventType } from "../functions/src/seam";
import { printable } from "./cli/output";
import { suiteAgent } from "./lib/agent-auth";
import type { AgentProcess, OwletteAgent } from "./lib/owlette-agent";
import { startReceiver, type Received } from "./cli/receive";
import { rememberDemoKey } from "./cli/suite";
import { retryScheduleOf } from "./lib/project-settings";
import { Receiver } from "./lib/receiver";

const once = process.argv.includes("--once");
const reportIndex = process.argv.indexOf("--report");
const reportFile = reportIndex > 0 ? process.argv[reportIndex + 1] : undefined;
/** STALE_AFTER_SECONDS of the local suite (functions/.env.demo-owlette); production: 210. */
const STALE_SECONDS = 15;
const HEARTBEAT_MS = 5_000;
const ONCE_TIMEOUT_MS = 150_000;
const SITE = { id: "demo-gallery", name: "Demo Gallery" };
const ADMIN_UID = "demo-admin";
const MEMBER_UID = "demo-member";
/** The console's demo sign-ins (Auth emulator users of the local project only). */
const DEMO_PASSWORD = "owlette-demo";
const ADMIN_EMAIL = "admin@demo-gallery.test";
const MEMBER_EMAIL = "member@demo-gallery.test";
const EXPECTED: EventType[] = ["process.crashed", "process.start_failed", "connection_failure", "machine.offline", "machine.online"];
/** The flaky receiver answers 503 to this many attempts of each event, then 200. */
const FLAKY_FAILURES = 2;
/** The local project's retry schedule (the functions read the same file). */
const SCHEDULE = retryScheduleOf(process.env.GCLOUD_PROJECT ?? "demo-owlette");

const color = process.stdout.isTTY ? (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[0m` : () => (s: string) => s;
const green = color(32);
const red = color(31);
const dim = color(2);
const bold = color(1);

const started = Date.now();
const clock = () => dim(`[+${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s]`);
const say = (message: string) => console.log(`${clock()} ${message}`);

function apiBase(): string {
  const origin = process.env.FUNCTIONS_EMULATOR_ORIGIN;
  if (!origin) throw new Error("FUNCTIONS_EMULATOR_ORIGIN is not set: run the demo through `npm start`");
  return `${origin}/${process.env.GCLOUD_PROJECT}/${REGION}/api`;
}

/** The REST API with an API key; any refusal ends the demo with the API's own message. */
function apiClient(key: string) {
  return async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${apiBase()}${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as any;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json?.error?.message ?? ""}`);
    return json;
  };
}

async function main() {
  if (!process.env.FIRESTORE_EMULATOR_HOST) {
    throw new Error("run the demo through `npm start`: it needs the emulator suite");
  }
  if (getApps().length === 0) initializeApp(appOptions());
  const store = new Store(getFirestore());
  const db = store.db;

  // The same receiver as `npm run cli -- receive`: verifies every scheme, deduplicates by id.
  const receiver = await startReceiver({ port: Number(process.env.DEMO_RECEIVER_PORT ?? 0), secrets: [], json: false, print: () => {} });
  const hookPath = "/owlette";
  await db.doc(paths.site(SITE.id)).set({ name: SITE.name, owner: ADMIN_UID });
  await db.doc(paths.user(ADMIN_UID)).set({ role: "admin", sites: [SITE.id] });
  await db.doc(paths.user(MEMBER_UID)).set({ role: "member", sites: [SITE.id] });
  // Dashboard users for the console: an admin who can act, a member who reads.
  for (const [uid, email] of [
    [ADMIN_UID, ADMIN_EMAIL],
    [MEMBER_UID, MEMBER_EMAIL],
  ] as const) {
    await getAuth()
      .createUser({ uid, email, password: DEMO_PASSWORD })
      .catch((err: { code?: string }) => {
        if (err.code !== "auth/uid-already-exists" && err.code !== "auth/email-already-exists") throw err;
      });
  }
  // Bootstrap: an API key for the site admin, made server-side (in the dashboard this is the
  // `createApiKey` callable). Everything after this goes through the REST API like automation.
  const manage = new ManagementStore(db);
  const keyId = manage.newApiKeyId();
  const apiKey = generateApiKey(keyId);
  await manage.createApiKey(keyId, { siteId: SITE.id, uid: ADMIN_UID, name: "demo", access: "write", hash: apiKey.hash, prefix: apiKey.prefix }, new Date());
  const api = apiClient(apiKey.key);

  const created = await api("POST", "/v1/webhooks", {
    name: "Local receiver",
    url: receiver.url(hookPath),
    events: EXPECTED,
    description: "the demo's receiver, verifying every signature",
  });
  const webhookId: string = created.webhook.id;
  const secret: string = created.secret;
  receiver.addSecret(secret);
  say(`${bold("site")} ${SITE.id} (${SITE.name}), webhook ${webhookId} -> ${receiver.url(hookPath)}`);
  say(`${bold("secret")} ${secret.slice(0, 10)}… (returned once by POST /v1/webhooks; the receiver verifies X-Owlette-Signature with it)`);
  say(`${bold("api")} try: curl -s -H "Authorization: Bearer ${apiKey.key}" ${apiBase()}/v1/webhooks/${webhookId}/deliveries`);
  // The CLI in another shell uses this key for the demo site by itself (scripts/cli/suite.ts).
  if (rememberDemoKey(apiKey.key, SITE.id)) say(`${bold("cli")} in another shell: npm run cli -- webhooks list`);
  if (process.env.CONSOLE_ORIGIN)
    say(`${bold("console")} ${process.env.CONSOLE_ORIGIN}/ sign in as ${ADMIN_EMAIL} / ${DEMO_PASSWORD} (read-only member: ${MEMBER_EMAIL}, same password)`);
  // A second webhook, for crashes only, at a receiver that fails each event's first attempts.
  const flaky = await new Receiver().start();
  const flakyPath = "/flaky";
  const flakyHook = await api("POST", "/v1/webhooks", {
    name: "Flaky receiver",
    url: flaky.url(flakyPath),
    events: ["process.crashed"],
    description: `answers 503 to each event's first ${FLAKY_FAILURES} attempts`,
  });
  const attemptsOf = new Map<string, number[]>();
  flaky.register(flakyPath, flakyHook.secret, (d) => (!d.verified ? 401 : (attemptsOf.get(d.payload?.id ?? "")?.length ?? 0) < FLAKY_FAILURES ? 503 : 200));
  let retriesOnSchedule: boolean | undefined;
  flaky.onDelivery((d) => {
    const id = d.payload?.id ?? "?";
    const times = attemptsOf.get(id) ?? [];
    times.push(d.receivedAt);
    attemptsOf.set(id, times);
    const n = times.length;
    const gap = n > 1 ? (d.receivedAt - (times[n - 2] as number)) / 1000 : 0;
    const due = SCHEDULE[n - 1] ?? 0;
    // Jitter moves a retry by up to 10 % of its delay, rounded to whole seconds.
    const onTime = n === 1 || gap >= Math.round(due * 0.9);
    if (n > 1 && !onTime) retriesOnSchedule = false;
    if (n === FLAKY_FAILURES + 1 && retriesOnSchedule === undefined) retriesOnSchedule = true;
    const outcome = d.status === 200 ? green("✔ 200") : red(`✘ ${d.status}`);
    const when = n === 1 ? "" : ` ${dim(`${gap.toFixed(1)} s after attempt ${n - 1} (schedule: ${due} s)`)}`;
    const next = d.status !== 200 && SCHEDULE[n] !== undefined ? ` ${dim(`next in ${SCHEDULE[n]} s`)}` : "";
    say(`${outcome}  ${bold("flaky receiver".padEnd(18))} ${dim(`${id} attempt ${n}`)}${when}${next}`);
  });
  say(
    `${bold("flaky")} webhook ${flakyHook.webhook.id} -> ${flaky.url(flakyPath)}: answers 503 to each crash's first ${FLAKY_FAILURES} attempts; retries at ${SCHEDULE.join(", ")} s (production's schedule at 1/60)`,
  );

  const tested = await api("POST", `/v1/webhooks/${webhookId}/test`);
  say(`${bold("test")} POST /v1/webhooks/${webhookId}/test -> receiver answered ${tested.result.status} in ${tested.result.durationMs} ms`);

  const writeTimes = new Map<EventType, number>();
  const seen = new Set<EventType>();
  let failures = 0;
  let deliveries = 0;
  const finished = new Promise<void>((resolve) => {
    /** Done: every type delivered and verified, and the flaky receiver's retries judged. */
    const maybeDone = () => void (EXPECTED.every((t) => seen.has(t)) && retriesOnSchedule !== undefined && resolve());
    receiver.onReceive((d: Received) => {
      const verified = d.verdict.status !== "rejected";
      const type = d.payload?.event as EventType | undefined;
      const data = d.payload?.data ?? {};
      const wroteAt = type ? writeTimes.get(type) : undefined;
      const latency = wroteAt ? ` ${dim(`${d.receivedAt - wroteAt} ms after the agent's write`)}` : "";
      const mark = d.verdict.status === "duplicate" ? dim("↺ duplicate") : verified ? green("✔ verified") : red(`✘ REJECTED (${d.verdict.reason})`);
      if (!verified) failures++;
      deliveries++;
      // What agents wrote reaches the terminal escaped (cli/output.ts): it cannot drive it.
      const detail = printable([data.machineName, data.processName, data.errorCode, data.errorMessage].filter(Boolean).join(" · "));
      say(`${mark}  ${bold(printable(type ?? "?").padEnd(18))} ${detail}  ${dim(printable(`${d.payload?.id} attempt ${d.verdict.attempt}`))}${latency}`);
      if (type && verified) seen.add(type);
      maybeDone();
    });
    flaky.onDelivery(maybeDone);
  });

  // Deployed Owlette agents, as the network sees them: Firestore REST writes with an ID token
  // from the Auth emulator (so the security rules apply), alerts to the agent endpoint.
  const agents = await Promise.all(["GALLERY-PC1", "LOBBY-KIOSK", "STAGE-PC"].map((m) => suiteAgent(SITE.id, m)));
  const [gallery, kiosk, stage] = agents as [OwletteAgent, OwletteAgent, OwletteAgent];
  const silent = new Set<OwletteAgent>();
  const td: AgentProcess = { configId: "cfg-td", name: "TouchDesigner", status: "RUNNING", pid: 4242 };
  const beat = (a: OwletteAgent) => a.heartbeat({ processes: a === gallery ? [td] : [] });
  for (const a of agents) {
    await a.presence(true);
    await a.uploadHardwareProfile();
    await beat(a);
  }
  say(
    `${bold("agents")} ${agents.map((a) => a.id.machineId).join(", ")}: Owlette 2.12 write shapes, heartbeating every ${HEARTBEAT_MS / 1000}s through the security rules`,
  );

  const timers: NodeJS.Timeout[] = [];
  timers.push(setInterval(() => void Promise.all(agents.filter((a) => !silent.has(a)).map(beat)).catch(report), HEARTBEAT_MS));
  let markSeen = false;
  // No sweep here: the suite runs the scheduled sweepStaleMachines every minute, as Cloud
  // Scheduler does deployed (scripts/emulators.mjs); this only shows its mark when it lands.
  // The mark is the sweep's own presence doc: the machine doc stays as the agent wrote it.
  const stopWatching = db.doc(paths.presence(SITE.id, "LOBBY-KIOSK")).onSnapshot((snap) => {
    if (snap.get("staleSince") instanceof Timestamp && !markSeen) {
      markSeen = true;
      void db
        .doc(paths.machine(SITE.id, "LOBBY-KIOSK"))
        .get()
        .then((machine) =>
          say(
            `${bold("sweep")} the scheduled sweep marked LOBBY-KIOSK stale in ${snap.ref.path} (no heartbeat for ${STALE_SECONDS}s: STALE_AFTER_SECONDS on the local suite); its machine doc, the agent's, still says online: ${String(machine.get("online"))}`,
          ),
        )
        .catch(report);
    }
  }, report);

  const at = (ms: number, step: () => Promise<unknown>) => timers.push(setTimeout(() => void step().catch(report), ms));
  /** A crash as the agent reports it: the log doc, the relaunch, the alert (one event). */
  const crash = async (pid: number) => {
    writeTimes.set("process.crashed", Date.now());
    const { alert } = await gallery.crash("TouchDesigner", pid);
    td.pid = pid + 1;
    await gallery.heartbeat({ processes: [{ ...td, status: "LAUNCHING" }] });
    return alert;
  };

  at(1_000, async () => {
    silent.add(kiosk);
    say(`${bold("agent")} ${kiosk.id.machineId} goes silent (no more heartbeats)`);
  });
  at(3_000, async () => {
    say(`${bold("agent")} ${gallery.id.machineId}: TouchDesigner crashes (log doc + alert, then relaunch)`);
    await crash(4242);
  });
  at(5_000, async () => {
    say(`${bold("agent")} ${gallery.id.machineId}: Notch fails to start`);
    writeTimes.set("process.start_failed", Date.now());
    await gallery.startFailed("Notch", "[WinError 2] The system cannot find the file specified");
  });
  at(7_000, async () => {
    say(`${bold("agent")} ${stage.id.machineId}: loses its connection to Firestore (alert only)`);
    writeTimes.set("connection_failure", Date.now());
    await stage.sendConnectionFailureAlert("connection_failure", "Waiting 23s before retry");
  });

  // The kiosk comes back a few seconds after its outage was reported.
  const unsubscribe = receiver.onReceive((d) => {
    if (d.payload?.event !== "machine.offline") return;
    writeTimes.set("machine.offline", d.receivedAt);
    unsubscribe();
    at(4_000, async () => {
      silent.delete(kiosk);
      say(`${bold("agent")} ${kiosk.id.machineId} is back: presence, then heartbeats`);
      writeTimes.set("machine.online", Date.now());
      await kiosk.presence(true);
      await beat(kiosk);
    });
  });

  const stop = async (code: number) => {
    timers.forEach((t) => clearTimeout(t));
    stopWatching();
    if (reportFile) {
      // One check per event type, one for the flaky receiver's retries on schedule.
      const passed = EXPECTED.filter((t) => seen.has(t)).length + (retriesOnSchedule ? 1 : 0);
      mkdirSync(dirname(reportFile), { recursive: true });
      writeFileSync(reportFile, JSON.stringify({ numPassedTests: passed, numFailedTests: EXPECTED.length + 1 - passed + failures }));
    }
    await receiver.close();
    await flaky.stop();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  const timeout = new Promise<"timeout">((resolve) => timers.push(setTimeout(() => resolve("timeout"), ONCE_TIMEOUT_MS)));
  const result = await Promise.race([finished.then(() => "done" as const), timeout]);
  if (result === "done") {
    say(green(bold(`all ${EXPECTED.length} event types delivered and verified (${deliveries} deliveries, ${failures} bad signatures)`)));
    if (retriesOnSchedule) say(green(bold(`the flaky receiver's retries came on schedule and its crash got through at attempt ${FLAKY_FAILURES + 1}`)));
    else say(red(`the flaky receiver's retries came EARLY`));
  } else {
    const missing = [...EXPECTED.filter((t) => !seen.has(t)), ...(retriesOnSchedule === undefined ? ["the flaky receiver's retries"] : [])];
    say(red(`timed out; still waiting for: ${missing.join(", ")}`));
    if (once) return stop(1);
  }
  if (once) return stop(failures === 0 && retriesOnSchedule ? 0 : 1);

  say(dim("the demo keeps running: TouchDesigner crashes every 20s (3 an hour get through, the rest are counted); press Ctrl-C to stop"));
  let pid = 5000;
  timers.push(
    setInterval(() => {
      pid += 10;
      void crash(pid)
        .then((alert) => {
          const outcome = (alert?.body as { outcome?: string } | undefined)?.outcome;
          if (outcome === "suppressed")
            say(`${dim("…")} ${bold("limit")} crash (PID ${pid}) held back: 3 an hour per machine and process; the next one out says how many`);
        })
        .catch(report);
    }, 20_000),
  );
}

function report(err: unknown) {
  console.error(red(`demo error: ${err instanceof Error ? err.message : String(err)}`));
}

main().catch((err) => {
  report(err);
  process.exit(1);
});
