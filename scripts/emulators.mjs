#!/usr/bin/env node
// Runs the Firebase emulator suite (Firestore, Functions, Cloud Tasks, Auth, Hosting: the console) for the demo, the tests
// and CI, on ports picked free at start, and stops it cleanly.
//
//   node scripts/emulators.mjs exec -- <command...>   run a command against a fresh suite
//   node scripts/emulators.mjs start                  run the suite until Ctrl-C
// Options before exec/start:
//   --quiet            only the emulators' warnings and errors
//   --verbose          function logs and emulator notices here too (else: .cache/logs/<project>-emulators.log)
//   --no-scheduler     never run the scheduled functions (tests that sweep by hand)
//   --project ID       a demo- project id (default demo-owlette); functions/.env.ID applies
//
// Cloud Tasks: the emulator dispatches every task at once, whatever its scheduleTime; the suite
// puts a front before it that holds a task until its time (scripts/lib/tasks-front.mjs), so
// retries keep their schedule as they do deployed.
//
// Offline machines: firebase-tools cannot download its Firestore emulator jar, so when the
// gcloud SDK ships one (google-cloud-cli-firestore-emulator) this script builds a launcher jar
// around it and points FIRESTORE_EMULATOR_BINARY_PATH at it. Elsewhere firebase-tools
// downloads its own.
import { execFileSync, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startTasksFront } from "./lib/tasks-front.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cacheDir = join(root, ".cache", "emulators");
const ONLY = "firestore,functions,tasks,auth,hosting";
const FIRESTORE_MAIN = "com.google.cloud.datastore.emulator.firestore.CloudFirestore";
/** The scheduled functions (onSchedule), all "every 1 minutes". */
const SCHEDULED = ["sweepStaleMachines"];
/** The functions' region (functions/src/config.ts). */
const REGION = "us-central1";

function say(message) {
  process.stderr.write(`[emulators] ${message}\n`);
}

function gcloudSdkRoot() {
  try {
    return execFileSync("gcloud", ["info", "--format=value(installation.sdk_root)"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "";
  }
}

function jarTool() {
  const fromJavaHome = process.env.JAVA_HOME && join(process.env.JAVA_HOME, "bin", "jar");
  return fromJavaHome && existsSync(fromJavaHome) ? fromJavaHome : "jar";
}

/** Manifest lines are limited to 72 bytes; longer values continue on lines starting with a space. */
function manifestLine(name, value) {
  const line = `${name}: ${value}`;
  const parts = [line.slice(0, 72)];
  for (let i = 72; i < line.length; i += 71) parts.push(` ${line.slice(i, i + 71)}`);
  return parts.join("\n");
}

function firestoreLauncher() {
  if (process.env.FIRESTORE_EMULATOR_BINARY_PATH) return process.env.FIRESTORE_EMULATOR_BINARY_PATH;
  const sdkRoot = gcloudSdkRoot();
  const jar = sdkRoot && join(sdkRoot, "platform", "cloud-firestore-emulator", "cloud-firestore-emulator.jar");
  if (!jar || !existsSync(jar)) {
    say("no gcloud Firestore emulator found; firebase-tools will download its own");
    return undefined;
  }
  mkdirSync(cacheDir, { recursive: true });
  const launcher = join(cacheDir, "firestore-launcher.jar");
  const stamp = join(cacheDir, "firestore-launcher.stamp");
  const want = `${jar}\n${statSync(jar).mtimeMs}`;
  if (existsSync(launcher) && existsSync(stamp) && readFileSync(stamp, "utf8") === want) return launcher;
  const manifest = join(cacheDir, "MANIFEST.MF");
  writeFileSync(
    manifest,
    [manifestLine("Manifest-Version", "1.0"), manifestLine("Main-Class", FIRESTORE_MAIN), manifestLine("Class-Path", pathToFileURL(jar).href), ""].join("\n"),
  );
  rmSync(launcher, { force: true });
  execFileSync(jarTool(), ["cfm", launcher, manifest], { stdio: "inherit" });
  writeFileSync(stamp, want);
  say(`built Firestore launcher around ${jar}`);
  return launcher;
}

/** The gcloud SDK's Pub/Sub emulator (google-cloud-cli-pubsub-emulator), where there is one. */
function pubsubBinary() {
  if (process.env.PUBSUB_EMULATOR_BINARY_PATH) return process.env.PUBSUB_EMULATOR_BINARY_PATH;
  const sdkRoot = gcloudSdkRoot();
  const bin = sdkRoot && join(sdkRoot, "platform", "pubsub-emulator", "bin", "cloud-pubsub-emulator");
  return bin && existsSync(bin) ? bin : undefined;
}

/**
 * Cloud Scheduler's stand-in. Deployed, Cloud Scheduler calls each v2 scheduled function over
 * HTTP on its schedule; the functions emulator registers such a function only while a Pub/Sub
 * emulator runs, then never calls it. This calls it the way Cloud Scheduler does (a POST with the
 * X-CloudScheduler headers) through the emulator's trigger endpoint: once when the suite is up,
 * then every `everySeconds` (60: "every 1 minutes", as sweepStaleMachines is declared).
 */
function startScheduler({ project, functionsPort, functions, everySeconds }) {
  const call = (fn) => {
    const url = `http://127.0.0.1:${functionsPort}/functions/projects/${project}/triggers/${REGION}-${fn}-0`;
    const headers = {
      "Content-Type": "application/json",
      "X-CloudScheduler": "true",
      "X-CloudScheduler-JobName": `firebase-schedule-${fn}-${REGION}`,
      "X-CloudScheduler-ScheduleTime": new Date().toISOString(),
    };
    // Resolves once the emulator has taken the call (or refused it); the run itself takes most of
    // a minute (the sweep's passes) and is not waited for.
    return new Promise((resolve) => {
      fetch(url, { method: "POST", headers, body: "{}" })
        .then((res) => {
          if (!res.ok && res.status !== 404) say(`scheduler: ${fn} answered ${res.status}`);
          resolve(res.status);
        })
        .catch(() => resolve(0));
      setTimeout(() => resolve(200), 2_000).unref();
    });
  };
  let timer;
  let stopped = false;
  void whenListening(functionsPort).then(async () => {
    // The first call as soon as the emulator has registered the function (404 until then).
    for (const fn of functions) {
      while (!stopped && (await call(fn)) === 404) await new Promise((r) => setTimeout(r, 2_000));
    }
    if (!stopped) timer = setInterval(() => functions.forEach(call), everySeconds * 1000);
  });
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** Whether `port` (0: any) can be listened on now; the port it got, or null. */
function tryListen(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.on("error", () => resolve(null));
    server.listen(port, "127.0.0.1", () => {
      const got = server.address().port;
      server.close(() => resolve(got));
    });
  });
}

/** The system's range for ports it hands out on its own (Linux; elsewhere the IANA range). */
function ephemeralLow() {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 0) return low;
  } catch {
    // not Linux
  }
  return 49152;
}

/**
 * A port free now, below the system's ephemeral range: the emulators start over a minute, and
 * a port the system hands out to any process meanwhile (a worker's socket, the JVM's) could be
 * taken before the emulator that was given it binds it. Falls back to any free port.
 */
async function freePort() {
  const low = ephemeralLow();
  if (low > 12_000) {
    for (let i = 0; i < 100; i++) {
      const got = await tryListen(10_000 + Math.floor(Math.random() * (low - 10_000)));
      if (got !== null) return got;
    }
  }
  const any = await tryListen(0);
  if (any === null) throw new Error("no free port");
  return any;
}

/** A copy of firebase.json with every emulator port free right now, next to the original. */
async function writeConfig() {
  const config = JSON.parse(readFileSync(join(root, "firebase.json"), "utf8"));
  const ports = [];
  while (ports.length < 11) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const [firestore, websocket, functions, tasks, hub, logging, eventarc, auth, pubsub, tasksFront, hosting] = ports;
  config.emulators = {
    ...config.emulators,
    firestore: { host: "127.0.0.1", port: firestore, websocketPort: websocket },
    functions: { host: "127.0.0.1", port: functions },
    tasks: { host: "127.0.0.1", port: tasks },
    auth: { host: "127.0.0.1", port: auth },
    // The webhook console (console/dist, built by npm run build).
    hosting: { host: "127.0.0.1", port: hosting },
    // Only with a Pub/Sub emulator does the functions emulator register scheduled functions.
    pubsub: { host: "127.0.0.1", port: pubsub },
    hub: { host: "127.0.0.1", port: hub },
    logging: { host: "127.0.0.1", port: logging },
    // Started implicitly alongside v2 functions; pinned so it cannot collide with another suite.
    eventarc: { host: "127.0.0.1", port: eventarc },
    ui: { enabled: false },
  };
  const file = join(root, `.firebase-emulators.${process.pid}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return { file, ports: { firestore, functions, tasks, auth, pubsub, tasksFront, hosting } };
}

/** Resolves once something accepts connections on the port (the emulator is up), or never. */
function whenListening(port) {
  return new Promise((resolve) => {
    const attempt = () => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => setTimeout(attempt, 500).unref());
    };
    attempt();
  });
}

function shellQuote(arg) {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  requireBuilt();
  const binaries = { launcher: firestoreLauncher(), pubsubBin: pubsubBinary() };
  const { file, ports } = await writeConfig();
  const env = suiteEnv(ports, opts);
  const forget = registerSuite(opts.projectId, env);
  announce(opts, ports, env);
  // Tasks due later wait here, not in the emulator, which would dispatch them at once.
  const tasksFront = await startTasksFront({ port: ports.tasksFront, target: `127.0.0.1:${ports.tasks}`, onError: say });
  const { child, log } = spawnSuite(opts, file, env, binaries);
  const stopScheduler = opts.scheduler
    ? startScheduler({ project: opts.projectId, functionsPort: ports.functions, functions: SCHEDULED, everySeconds: 60 })
    : () => {};
  if (opts.scheduler)
    say(`scheduler: ${SCHEDULED.join(", ")} every minute, as Cloud Scheduler runs ${SCHEDULED.length > 1 ? "them" : "it"} deployed (--no-scheduler: never)`);
  supervise(child, log, opts.verbose, () => {
    stopScheduler();
    tasksFront.stop();
    rmSync(file, { force: true });
    forget();
  });
}

/** The options before the mode, the mode and the command; a usage line and exit 2 on anything else. */
function parseArgs(argv) {
  const opts = { quiet: false, verbose: false, scheduler: true, projectId: "demo-owlette" };
  while (argv[0]?.startsWith("--")) {
    const flag = argv.shift();
    if (flag === "--quiet") opts.quiet = true;
    else if (flag === "--verbose") opts.verbose = true;
    else if (flag === "--no-scheduler") opts.scheduler = false;
    else if (flag === "--project" && argv[0]?.startsWith("demo-")) opts.projectId = argv.shift();
    else {
      say(`unknown option ${flag} (--project takes a demo- project id)`);
      process.exit(2);
    }
  }
  const [mode, ...rest] = argv;
  if (mode !== "exec" && mode !== "start") {
    say("usage: emulators.mjs [--quiet] [--verbose] [--no-scheduler] [--project demo-ID] exec -- <command...> | start");
    process.exit(2);
  }
  const command = rest[0] === "--" ? rest.slice(1) : rest;
  if (mode === "exec" && command.length === 0) {
    say("exec needs a command after --");
    process.exit(2);
  }
  return { ...opts, mode, command };
}

function requireBuilt() {
  for (const built of [join("functions", "lib", "index.js"), join("console", "dist", "index.html")]) {
    if (!existsSync(join(root, built))) {
      say(`${built} is missing: run \`npm run build\` first`);
      process.exit(2);
    }
  }
}

/** What the suite's clients need to find it: the exec'd command, the CLI in another shell, other tools. */
function suiteEnv(ports, { projectId, scheduler }) {
  return {
    GCLOUD_PROJECT: projectId,
    FIRESTORE_EMULATOR_HOST: `127.0.0.1:${ports.firestore}`,
    // The front that keeps task schedules (scripts/lib/tasks-front.mjs), not the emulator itself.
    CLOUD_TASKS_EMULATOR_HOST: `127.0.0.1:${ports.tasksFront}`,
    FIREBASE_AUTH_EMULATOR_HOST: `127.0.0.1:${ports.auth}`,
    ...(scheduler ? { PUBSUB_EMULATOR_HOST: `127.0.0.1:${ports.pubsub}` } : {}),
    FUNCTIONS_EMULATOR_ORIGIN: `http://127.0.0.1:${ports.functions}`,
    // The webhook console, served by the Hosting emulator.
    CONSOLE_ORIGIN: `http://127.0.0.1:${ports.hosting}`,
  };
}

/** The CLI in another shell finds the suite here (scripts/cli/suite.ts): no exports needed. Returns the undo. */
function registerSuite(projectId, env) {
  const suitesDir = join(root, ".cache", "suites");
  const suiteFile = join(suitesDir, `${projectId}.json`);
  mkdirSync(suitesDir, { recursive: true });
  writeFileSync(suiteFile, JSON.stringify({ project: projectId, pid: process.pid, env }, null, 2));
  return () => {
    try {
      if (JSON.parse(readFileSync(suiteFile, "utf8")).pid === process.pid) rmSync(suiteFile, { force: true });
    } catch {
      // already gone
    }
  };
}

function announce({ projectId, mode }, ports, env) {
  say(
    `project ${projectId}; firestore :${ports.firestore}, functions :${ports.functions}, tasks :${ports.tasksFront} (schedules kept; emulator :${ports.tasks}), auth :${ports.auth}, console ${env.CONSOLE_ORIGIN}/`,
  );
  const exportLine = `export ${Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ")}`;
  if (mode === "start") {
    // Said again once the functions answer, below the emulators' own start-up lines.
    void whenListening(ports.functions).then(() => say(`ready. The CLI finds this suite by itself (npm run cli -- --help); other tools: ${exportLine}`));
  }
}

/** firebase-tools with the suite's config, in its own process group; its log file opened. */
function spawnSuite({ mode, command, quiet, verbose, scheduler, projectId }, file, env, { launcher, pubsubBin }) {
  const firebaseBin = join(root, "node_modules", "firebase-tools", "lib", "bin", "firebase.js");
  // Pub/Sub only for the scheduler: the functions emulator registers scheduled functions only then.
  const args = [firebaseBin, `emulators:${mode}`, "--config", file, "--project", projectId, "--only", scheduler ? `${ONLY},pubsub` : ONLY];
  if (quiet) args.push("--log-verbosity", "QUIET");
  if (mode === "exec") args.push(command.map(shellQuote).join(" "));
  // Function logs and the emulators' routine notices go to a file; the command's own output and
  // anything else the emulators say (errors included) come through. --verbose: everything here.
  const logsDir = join(root, ".cache", "logs");
  mkdirSync(logsDir, { recursive: true });
  const logFile = join(logsDir, `${projectId}-emulators.log`);
  const log = createWriteStream(logFile);
  if (!verbose) say(`function logs and emulator notices: ${logFile.slice(root.length + 1)} (--verbose shows them here)`);
  const child = spawn(process.execPath, args, {
    cwd: root,
    // Its own process group: a terminal's Ctrl-C reaches this script alone, which stops the
    // suite once (firebase-tools takes a second SIGINT as "force exit").
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      ...(launcher ? { FIRESTORE_EMULATOR_BINARY_PATH: launcher } : {}),
      ...(pubsubBin ? { PUBSUB_EMULATOR_BINARY_PATH: pubsubBin } : {}),
      GCLOUD_PROJECT: projectId,
      // Where the suite serves HTTP functions (the REST API, callables), for tests and the demo.
      FUNCTIONS_EMULATOR_ORIGIN: env.FUNCTIONS_EMULATOR_ORIGIN,
      CONSOLE_ORIGIN: env.CONSOLE_ORIGIN,
      // firebase-tools points CLOUD_TASKS_EMULATOR_HOST at the Cloud Tasks emulator in every
      // function worker and in the exec'd command; the task queue code enqueues here instead
      // when this is set (functions/src/delivery/task-queue.ts), so schedules are kept.
      OWLETTE_TASKS_EMULATOR_HOST: env.CLOUD_TASKS_EMULATOR_HOST,
      // The command may name the project's own tools (jest, tsx) when run outside npm.
      PATH: [join(root, "node_modules", ".bin"), process.env.PATH].filter(Boolean).join(delimiter),
    },
  });
  return { child, log };
}

/**
 * Runs the suite to its end: its output through (routine lines to the log), Ctrl-C and signals
 * stop it once, everything it started is stopped with it, and this process exits with the
 * command's code (exec) or the suite's. `onExit` undoes what main set up.
 */
function supervise(child, log, verbose, onExit) {
  let scriptCode;
  let interrupts = 0;
  let firstAt = 0;
  // Once stopping, what the emulators say about going down goes to the log only.
  const routine = (line) => {
    // exec: the command is done; firebase-tools then waits for function runs in progress (the
    // sweep's minute) before it stops. The command's exit code is known: 5 s, then stop anyway.
    const done = /^(?:✔|⚠) {2}Script exited (?:successfully|unsuccessfully) \(code (\d+)\)/.exec(line);
    if (done && scriptCode === undefined) {
      scriptCode = Number(done[1]);
      setTimeout(() => killGroup(child.pid, "SIGKILL"), 5_000).unref();
    }
    return interrupts > 0 || ROUTINE.some((r) => r.test(line));
  };
  pipeLines(child.stdout, process.stdout, log, verbose, routine);
  pipeLines(child.stderr, process.stderr, log, verbose, routine);
  const stop = (signal) => () => {
    // npm passes the terminal's Ctrl-C on as well: one keypress can arrive twice, at once.
    if (interrupts > 0 && Date.now() - firstAt < 1_000) return;
    interrupts++;
    if (interrupts === 1) {
      firstAt = Date.now();
      say("stopping the suite…");
      // A run in progress (the sweep's minute) can hold a clean stop up: at most 10 s.
      setTimeout(() => killGroup(child.pid, "SIGKILL"), 10_000).unref();
    }
    // A second Ctrl-C: stop waiting for a clean shutdown.
    killGroup(child.pid, interrupts === 1 ? signal : "SIGKILL");
  };
  process.on("SIGINT", stop("SIGINT"));
  process.on("SIGTERM", stop("SIGTERM"));
  process.on("SIGHUP", stop("SIGTERM"));
  const stopNoting = noteDescendants(child);
  child.on("exit", (code, signal) => {
    onExit();
    stopNoting();
    const finish = () => {
      log.end();
      process.exit(interrupts > 0 ? 130 : (scriptCode ?? code ?? (signal ? 1 : 0)));
    };
    // Let the last lines through first.
    child.once("close", finish);
    setTimeout(finish, 2_000).unref();
  });
}

/**
 * Notes the suite's processes while firebase-tools is their parent (after it exits, or is
 * killed, they would be orphans nobody stops). The returned function, called once it has
 * exited, kills its group and every noted process still running the command it ran then (not
 * gone, not a reused pid).
 */
function noteDescendants(child) {
  const known = new Map(); // pid -> command line
  const note = () => descendants(child.pid).forEach((p) => known.has(p) || known.set(p, commandOf(p)));
  const noting = setInterval(note, 2_000);
  noting.unref();
  return () => {
    clearInterval(noting);
    // Anything the suite left behind (an emulator JVM, a function worker) goes too.
    killGroup(child.pid, "SIGKILL");
    signalAll(
      [...known].filter(([p, command]) => command && commandOf(p) === command).map(([p]) => p),
      "SIGKILL",
    );
  };
}

/**
 * Signals the suite: firebase-tools' process group and every process below it. The emulators'
 * JVMs run in process groups of their own, so they are found by parentage, before anything is
 * killed (an orphan's parent is no longer firebase-tools).
 */
function killGroup(pid, signal) {
  const targets = signal === "SIGKILL" ? descendants(pid) : [];
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
  signalAll(targets, signal);
}

function signalAll(pids, signal) {
  for (const p of pids) {
    try {
      process.kill(p, signal);
    } catch {
      // gone already
    }
  }
}

function commandOf(pid) {
  try {
    return execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

function descendants(pid) {
  let table;
  try {
    table = execFileSync("ps", ["-A", "-o", "pid=,ppid="], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map((l) => l.trim().split(/\s+/).map(Number));
  } catch {
    return [];
  }
  const found = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift();
    for (const [child, ppid] of table) {
      if (ppid === parent && !found.includes(child)) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** Emulator lines that are routine (function logs, start-up notices), kept out of the terminal. */
const ROUTINE = [
  /^> {2}/, // a function's own log line
  /^i {2}(functions|firestore|tasks|auth|pubsub|emulators|eventarc|hub|logging|ui|hosting):/,
  /^✔ {2}(functions|firestore|tasks|auth|pubsub|emulators|eventarc|hub|logging|ui|hosting):/,
  /^⚠ {2}pubsub: Env variable override detected/,
  /^[⬢⚠] {2}emulators: firebase-tools will drop support for Java/,
  /^⚠ {2}Unable to fetch the CLI MOTD/,
  /^⚠ {2}firestore: Env variable override detected/,
  /^⚠ {2}emulators: The Emulator UI is not starting/,
  /^⚠ {2}emulators: It seems that you are running multiple instances/,
  /MetadataLookupWarning|Use `node --trace-warnings/,
  /^Serving at port \d+$/,
  /^⚠ {2}Script exited with signal: SIG(INT|TERM)$/, // after a Ctrl-C: the stop we asked for
  /^\s*$/,
];

function pipeLines(from, to, log, verbose, routine) {
  let rest = "";
  from.setEncoding("utf8");
  from.on("data", (chunk) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      log.write(`${line}\n`);
      if (verbose || !routine(line)) to.write(`${line}\n`);
    }
  });
  from.on("end", () => {
    if (rest) {
      log.write(`${rest}\n`);
      to.write(`${rest}\n`);
    }
  });
}

main().catch((err) => {
  say(err.stack ?? String(err));
  process.exit(1);
});
