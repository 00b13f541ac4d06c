/**
 * The operator CLI: `npm run cli -- <command>` (`--help` on any command).
 *
 *   webhooks list|create|get|update|delete|enable|disable|pause|resume|test|rotate-secret
 *   deliveries list|retry|recover  through the REST API with an API key
 *   webhooks migrate [--apply]     adopt webhook docs the Owlette host wrote before the deploy (Admin SDK; a dry run first)
 *   keys create --site S --uid U   a site's first API key (Admin SDK)
 *   events emit <type>             agent writes that make the pipeline emit a catalog event
 *   receive --secret whsec_...     a local receiver verifying every signature scheme
 *           [--forward-to URL]     ... handing verified deliveries on to your app
 *   simulate --machines N          simulated agents: heartbeats, crashes, connection failures
 *   queue status|pause|resume|purge|limits   the Cloud Tasks delivery queue (real projects)
 *
 * Errors are one line on stderr and a non-zero exit (1; 2 for usage).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { apiBase, client, type ApiTarget } from "./cli/api";
import { emitEvent, firestore, simulate } from "./lib/agents";
import {
  applyMigration,
  findLegacyWebhooks,
  createService,
  ApiError,
  ManagementStore,
  Store,
  sendHttp,
  systemResolver,
  type VerifyScheme,
  HTTP_METHODS,
  SIGNATURE_SCHEMES,
  FORMATS,
} from "../functions/src/seam";
import { CliError, details, printable, printableLines, progress, table } from "./cli/output";
import { buildQueueRequest, describeQueue, sendQueueRequest, type QueueAction } from "./cli/queue";
import { startReceiver } from "./cli/receive";
import { useRunningSuite } from "./cli/suite";
import { moment } from "./cli/when";

const program = new Command("cli")
  .description("Operate Owlette webhooks: manage them over the REST API, emit test events, receive, simulate agents, control the delivery queue.")
  .option("--api <url>", "REST API base URL (env OWLETTE_API_URL; default: the running emulator suite)")
  .option("--key <apiKey>", "API key, owk_... (env OWLETTE_API_KEY)")
  .option("--json", "print JSON instead of tables")
  .version(require("../package.json").version as string, "-V, --version", "print the CLI's version")
  .showHelpAfterError("(add --help for usage)")
  .exitOverride();

// No exports needed beside `npm start` / `npm run emulators`: the running suite is found.
const suite = useRunningSuite(process.argv);
const globals = () => ({ ...program.opts<ApiTarget & { json?: boolean }>(), suiteKey: suite?.demo?.apiKey });
const api = () => client(globals());
/**
 * JSON as it is for `--json`; for people, text whose values were made `printable` where they were
 * put in (so a line break inside one is shown, not obeyed), and every line of it once more here,
 * so a value that reached it unescaped still cannot send a control character to the terminal.
 */
const out = (value: unknown, human: () => string) => console.log(globals().json ? JSON.stringify(value, null, 2) : printableLines(human()));

const int = (name: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
  return n;
};
const httpUrl = (value: string) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`must be an http:// or https:// URL, like http://localhost:3000/webhooks`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidArgumentError(`must be an http:// or https:// URL, got ${url.protocol}`);
  return url.toString();
};
const number = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number ≥ 0`);
  return n;
};
const list = (value: string) =>
  value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
const headerPair = (value: string, previous: Record<string, string> = {}) => {
  const i = value.indexOf("=");
  if (i < 1) throw new InvalidArgumentError(`headers are Name=value, got "${value}"`);
  return { ...previous, [value.slice(0, i)]: value.slice(i + 1) };
};
const when = (value: string) => {
  try {
    return moment(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};
const bool = (value: string) => {
  if (value !== "true" && value !== "false") throw new InvalidArgumentError("must be true or false");
  return value === "true";
};

const WEBHOOK_COLUMNS = ["id", "name", "enabled", "failCount", "lastStatus", "format", "events", "url"];
/**
 * A test's or retry's outcome: the HTTP status and its round trip, or, when no HTTP answer came,
 * the outcome word alone (`unreachable`, `blocked_url`, `invalid_request`: the API gives no time then).
 */
const outcome = (r: { status?: number | null; error?: string | null; durationMs?: number | null }) =>
  typeof r.durationMs === "number" ? `${r.status ?? r.error} in ${r.durationMs} ms` : String(r.status ?? r.error);
const DELIVERY_COLUMNS = ["id", "eventType", "status", "attemptCount", "lastAttempt", "createdAt"];
const deliveryRow = (d: any) => {
  const last = d.attempts?.[d.attempts.length - 1];
  return { ...d, lastAttempt: last ? (last.status ?? last.error) : d.skippedReason };
};
const webhookDetails = (w: any) =>
  details(w, [
    "id",
    "name",
    "description",
    "url",
    "events",
    "enabled",
    "disabledReason",
    "failCount",
    "lastStatus",
    "lastDeliveryAt",
    "format",
    "signatureScheme",
    "method",
    "headerNames",
    "createdAt",
    "createdBy",
  ]);

// ---- webhooks ---------------------------------------------------------------------------

const webhooks = program.command("webhooks").description("manage the site's webhooks (REST API)");

webhooks
  .command("list")
  .description("list webhooks")
  .action(async () => {
    const res = await api()("GET", "/v1/webhooks");
    out(res, () => table(res.data, WEBHOOK_COLUMNS));
  });

/** How a webhook's requests are made: the same options on create and update. */
function requestOptions(cmd: Command): Command {
  return cmd
    .option("--description <text>")
    .addOption(new Option("--method <method>").choices([...HTTP_METHODS]))
    .addOption(new Option("--scheme <scheme>", "signature scheme").choices([...SIGNATURE_SCHEMES]))
    .addOption(new Option("--format <format>", "body format").choices([...FORMATS]))
    .option("--routing-key <key>", "PagerDuty integration key (with --format pagerduty)")
    .option("--header <Name=value>", "custom header, repeatable (on update: replaces all)", headerPair);
}

/** CLI option -> API field, for the options given. */
const WEBHOOK_FIELDS: Record<string, string> = {
  name: "name",
  url: "url",
  events: "events",
  description: "description",
  enabled: "enabled",
  method: "method",
  scheme: "signatureScheme",
  format: "format",
  routingKey: "routingKey",
  header: "headers",
};
const webhookFields = (o: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(WEBHOOK_FIELDS)
      .filter(([opt]) => o[opt] !== undefined)
      .map(([opt, field]) => [field, o[opt]]),
  );

requestOptions(
  webhooks
    .command("create")
    .description("create a webhook; prints its signing secret, the only time it is shown")
    .requiredOption("--name <name>", "display name")
    .requiredOption("--url <url>", "https destination")
    .requiredOption("--events <types>", "comma-separated event types", list),
).action(async (o) => {
  progress(`creating webhook "${o.name}"…`);
  const res = await api()("POST", "/v1/webhooks", webhookFields(o));
  out(res, () => `${webhookDetails(res.webhook)}\n\nsigning secret (shown once, store it now): ${printable(res.secret)}`);
});

webhooks
  .command("get <webhookId>")
  .description("show a webhook and its latest deliveries")
  .action(async (id: string) => {
    const res = await api()("GET", `/v1/webhooks/${encodeURIComponent(id)}`);
    out(res, () => `${webhookDetails(res.webhook)}\n\nlatest deliveries:\n${table(res.recentDeliveries.map(deliveryRow), DELIVERY_COLUMNS)}`);
  });

requestOptions(
  webhooks
    .command("update <webhookId>")
    .description("change a webhook")
    .option("--name <name>")
    .option("--url <url>")
    .option("--events <types>", "comma-separated event types", list)
    .option("--enabled <true|false>", "switch on or off", bool),
).action(async (id: string, o) => {
  const res = await api()("PATCH", `/v1/webhooks/${encodeURIComponent(id)}`, webhookFields(o));
  out(res, () => webhookDetails(res.webhook));
});

for (const [name, action, what] of [
  ["enable", "enable", "switch on (resets failCount)"],
  ["disable", "disable", "switch off"],
  ["pause", "pause", "pause deliveries"],
  ["resume", "resume", "resume deliveries (resets failCount)"],
] as const) {
  webhooks
    .command(`${name} <webhookId>`)
    .description(what)
    .action(async (id: string) => {
      const res = await api()("POST", `/v1/webhooks/${encodeURIComponent(id)}/${action}`);
      out(res, () =>
        printable(
          `${res.webhook.id}: enabled ${res.webhook.enabled}${res.webhook.disabledReason ? ` (${res.webhook.disabledReason})` : ""}, failCount ${res.webhook.failCount}`,
        ),
      );
    });
}

webhooks
  .command("delete <webhookId>")
  .description("delete a webhook; pending deliveries are skipped, history is kept 30 days")
  .action(async (id: string) => {
    const res = await api()("DELETE", `/v1/webhooks/${encodeURIComponent(id)}`);
    out(res, () => printable(`deleted ${res.id} (${res.pendingDeliveriesSkipped} pending deliveries skipped)`));
  });

webhooks
  .command("test <webhookId>")
  .description("send a signed webhook.test now; the answer becomes lastStatus")
  .action(async (id: string) => {
    progress("sending webhook.test…");
    const res = await api()("POST", `/v1/webhooks/${encodeURIComponent(id)}/test`);
    const r = res.result;
    // The snippet is whatever the receiver answered.
    out(res, () => printable(`${r.ok ? "✔" : "✘"} ${outcome(r)}${r.responseSnippet ? `: ${String(r.responseSnippet).slice(0, 120)}` : ""}`));
    if (!r.ok) process.exitCode = 1;
  });

webhooks
  .command("rotate-secret <webhookId>")
  .description("replace the signing secret; prints the new one, the only time it is shown")
  .option("--overlap <seconds>", "how long the old secret keeps signing (0: stop now)", int("--overlap", 0, 604_800), 86_400)
  .action(async (id: string, o: { overlap: number }) => {
    const res = await api()("POST", `/v1/webhooks/${encodeURIComponent(id)}/rotate-secret`, { overlapSeconds: o.overlap });
    out(
      res,
      () =>
        `new signing secret (shown once): ${printable(res.secret)}\nold secret ${printable(res.previousSecretExpiresAt ? `signs until ${res.previousSecretExpiresAt}` : "stopped signing")}`,
    );
  });

const keys = program.command("keys").description("API keys: the first one of a site, made with the Admin SDK");
keys
  .command("create")
  .description("make an API key for a site, acting for a user who has access to it (as the createApiKey callable would for that user); the key is printed once")
  .requiredOption("--site <siteId>", "the site")
  .requiredOption("--uid <uid>", "the user the key acts for (users/{uid}: admin of the site for a write key)")
  .option("--name <name>", "a name to tell keys apart", "cli")
  .addOption(new Option("--access <access>", "what the key may do").choices(["read", "write"]).default("write"))
  .option("--project <projectId>", "Firebase project (default: the emulator suite's; a real project uses application default credentials)")
  .action(async (o: { site: string; uid: string; name: string; access: "read" | "write"; project?: string }) => {
    const db = firestore(o.project);
    const manage = new ManagementStore(db);
    const service = createService({
      store: new Store(db),
      manage,
      send: sendHttp,
      resolve: systemResolver,
      now: () => new Date(),
      log: { info: () => {}, warn: () => {}, error: () => {} },
      config: {
        deliveryTimeoutMs: 10_000,
        fastLaneDeadlineMs: 2_000,
        staleAfterSeconds: 210,
        sweepPassesPerMinute: 6,
        presenceMode: "trigger",
        retrySchedule: [0],
        slowLaneSiteShare: 5,
        allowLocalHttp: false,
      },
    });
    let created: { apiKey: { id: string; prefix: string }; key: string };
    try {
      created = (await service.run(
        "apiKeys.create",
        { kind: "user", user: await manage.loadUser(o.uid) },
        { siteId: o.site, name: o.name, access: o.access },
      )) as typeof created;
    } catch (err) {
      if (err instanceof ApiError) throw new CliError(`${err.message} (${err.code})`);
      throw err;
    }
    out(created, () => `${printable(created.key)}\n${printable(`(shown once; key ${created.apiKey.id}, ${o.access}, site ${o.site}, acting for ${o.uid})`)}`);
  });

webhooks
  .command("migrate")
  .description(
    "adopt webhook docs the Owlette host wrote before this pipeline was deployed (docs written since are adopted on write); a dry run unless --apply (Admin SDK)",
  )
  .option("--site <siteId>", "one site (default: every site)")
  .option("--apply", "write the changes (without it: only show them)")
  .option("--project <projectId>", "Firebase project (default: the emulator suite's)")
  .action(async (o: { site?: string; apply?: boolean; project?: string }) => {
    const db = firestore(o.project);
    const rows = await findLegacyWebhooks(db, o.site);
    const view = rows.map((r) => ({
      site: r.siteId,
      webhook: r.webhookId,
      action: "adopt",
      format: r.preview.format,
      scheme: r.preview.scheme,
      enabled: r.preview.enabled,
      events: r.preview.events,
      notes: r.preview.notes.join("; "),
    }));
    if (!o.apply) {
      out(
        { dryRun: true, webhooks: view },
        () => `${table(view, ["site", "webhook", "action", "format", "scheme", "enabled", "events", "notes"])}
${rows.length} webhook(s) to adopt; nothing written (add --apply)`,
      );
      return;
    }
    const results: { site: string; webhook: string; action: string; applied: boolean; newSecret?: string }[] = [];
    for (const row of rows) {
      const { applied, newSecret } = await applyMigration(db, row);
      results.push({ site: row.siteId, webhook: row.webhookId, action: "adopt", applied, ...(newSecret ? { newSecret } : {}) });
      progress(`${applied ? "adopted" : "unchanged"} ${row.siteId}/${row.webhookId}${newSecret ? ` (new secret, shown once: ${newSecret})` : ""}`);
    }
    out({ dryRun: false, webhooks: results }, () => `${results.filter((r) => r.applied).length} of ${rows.length} webhook(s) adopted`);
  });

// ---- deliveries -------------------------------------------------------------------------

const deliveries = program.command("deliveries").description("delivery history and manual retry (REST API)");

deliveries
  .command("list <webhookId>")
  .description("list deliveries, newest first")
  .addOption(new Option("--status <status>").choices(["pending", "succeeded", "failed", "skipped"]))
  .option("--limit <n>", "page size", int("--limit", 1, 100), 20)
  .option("--cursor <cursor>", "next page, from the previous output")
  .action(async (id: string, o: { status?: string; limit: number; cursor?: string }) => {
    const query = new URLSearchParams({ limit: String(o.limit), ...(o.status ? { status: o.status } : {}), ...(o.cursor ? { cursor: o.cursor } : {}) });
    const res = await api()("GET", `/v1/webhooks/${encodeURIComponent(id)}/deliveries?${query}`);
    out(res, () => `${table(res.data.map(deliveryRow), DELIVERY_COLUMNS)}${res.nextCursor ? `\nmore: --cursor ${printable(res.nextCursor)}` : ""}`);
  });

deliveries
  .command("retry <webhookId> <deliveryId>")
  .description("send a failed, skipped or pending delivery again, now")
  .action(async (id: string, deliveryId: string) => {
    progress(`retrying ${deliveryId}…`);
    const res = await api()("POST", `/v1/webhooks/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(deliveryId)}/retry`);
    const r = res.result;
    out(res, () => printable(`${r.ok ? "✔" : "✘"} attempt ${r.attempt}: ${outcome(r)}; delivery is ${res.delivery?.status}`));
    if (!r.ok) process.exitCode = 1;
  });

deliveries
  .command("recover <webhookId>")
  .description(
    "re-send, oldest first and at most 5 a second, what the webhook did not get since a time: failed deliveries, ones skipped while it was off, events it missed while off",
  )
  .requiredOption("--since <when>", "start of the window: a time with its offset (2026-12-07T08:00:00Z) or a span back from now (90m, 6h, 2d)", when)
  .option("--until <when>", "end of the window (default: now)", when)
  .option("--no-wait", "start it and print its id, without following it")
  .action(async (id: string, o: { since: string; until?: string; wait: boolean }) => {
    const base = `/v1/webhooks/${encodeURIComponent(id)}`;
    let r = (await api()("POST", `${base}/recover`, { since: o.since, ...(o.until ? { until: o.until } : {}) })).recovery;
    progress(`recovery ${r.id}: ${r.total} to re-send since ${r.since}`);
    while (o.wait && r.status === "running") {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      r = (await api()("GET", `${base}/recoveries/${encodeURIComponent(r.id)}`)).recovery;
      progress(`… ${r.total - r.remaining} of ${r.total}`);
    }
    const counts = `${r.sent} re-sent, ${r.rejected} refused by the receiver, ${r.alreadyDelivered} delivered meanwhile, ${r.answered} offline already answered, ${r.unavailable} unavailable, ${r.remaining} left`;
    const why =
      r.status === "stopped" ? `; stopped (${r.reason}${r.stoppedAt ? ` at ${r.stoppedAt}` : ""}): recover again from the same --since once fixed` : "";
    out({ recovery: r }, () => printable(`${r.status === "stopped" ? "✘" : "✔"} ${r.id} ${r.status}: ${counts}${why}`));
    if (r.status === "stopped") process.exitCode = 1;
  });

// ---- events, receive, simulate ------------------------------------------------------------

program
  .command("events")
  .description("fire catalog events for testing")
  .command("emit <type>")
  .description("make the agent write that emits <type>: process.crashed, process.start_failed, connection_failure, machine.offline, machine.online")
  .requiredOption("--site <siteId>")
  .option("--machine <machineId>", "machine id", "cli-machine")
  .option("--process <processId>", "process id (process.crashed)", "cli-process")
  .option("--process-name <name>", "process name (process.crashed, process.start_failed)", "CLI Test App")
  .option("--project <projectId>", "Firebase project (default: the emulator suite's)")
  .action(async (type: string, o) => {
    const db = firestore(o.project);
    const steps = await emitEvent(db, type, { siteId: o.site, machineId: o.machine, processId: o.process, processName: o.processName });
    out({ event: type, steps }, () =>
      [...steps.map((s) => `• ${s}`), `${type} emitted for site ${o.site}; subscribed webhooks receive it shortly`].map(printable).join("\n"),
    );
  });

program
  .command("receive")
  .description("run a local receiver that verifies every signature scheme, refuses stale or bad signatures, and deduplicates by event id")
  .option("--port <port>", "port (0: any free port)", int("--port", 0, 65_535), 8787)
  .option("--host <host>", "interface", "127.0.0.1")
  .requiredOption("--secret <whsec>", "signing secret; repeat for a rotation overlap", (v: string, prev: string[] = []) => [...prev, v])
  .option("--tolerance <seconds>", "replay window for timestamped schemes", int("--tolerance", 1, 86_400), 300)
  .addOption(new Option("--scheme <scheme>", "accept only this signature scheme (the webhook's); default: recognise any").choices([...SIGNATURE_SCHEMES]))
  .option("--forward-to <url>", "hand each verified delivery on to your app's endpoint (same body and headers) and answer with its status", httpUrl)
  .action(async (o: { port: number; host: string; secret: string[]; tolerance: number; scheme?: VerifyScheme; forwardTo?: string }) => {
    const receiver = await startReceiver({
      port: o.port,
      host: o.host,
      secrets: o.secret,
      toleranceSeconds: o.tolerance,
      ...(o.scheme ? { scheme: o.scheme } : {}),
      ...(o.forwardTo ? { forwardTo: o.forwardTo } : {}),
      json: !!globals().json,
      print: (l) => console.log(l),
    });
    progress(`receiving on http://${o.host}:${receiver.port}/${o.forwardTo ? `, forwarding verified deliveries to ${o.forwardTo}` : ""} (Ctrl-C to stop)`);
    await new Promise<void>((resolve) => {
      for (const s of ["SIGINT", "SIGTERM"] as const) process.once(s, () => void receiver.close().then(resolve));
    });
  });

program
  .command("simulate")
  .description("simulated agents: heartbeats, random process crashes and connection failures")
  .requiredOption("--site <siteId>")
  .option("--machines <n>", "how many machines", int("--machines", 1, 10_000), 10)
  .option("--seconds <n>", "how long (0: until Ctrl-C)", int("--seconds", 0, 86_400), 60)
  .option("--heartbeat <seconds>", "heartbeat interval", int("--heartbeat", 1, 3600), 5)
  .option("--crash-chance <p>", "chance per machine per heartbeat of a crash", number("--crash-chance"), 0.01)
  .option("--failure-chance <p>", "chance per machine per heartbeat of a connection failure", number("--failure-chance"), 0.005)
  .option("--project <projectId>", "Firebase project (default: the emulator suite's)")
  .action(async (o) => {
    const db = firestore(o.project);
    const stop = new AbortController();
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort());
    progress(`simulating ${o.machines} machines on site ${o.site}${o.seconds ? ` for ${o.seconds} s` : ""}…`);
    const totals = await simulate(
      db,
      {
        siteId: o.site,
        machines: o.machines,
        seconds: o.seconds,
        heartbeatSeconds: o.heartbeat,
        crashChance: o.crashChance,
        failureChance: o.failureChance,
        onTick: progress,
      },
      stop.signal,
    );
    out(totals, () => `done: ${totals.heartbeats} heartbeats, ${totals.crashes} crashes, ${totals.failures} connection failures`);
  });

// ---- queue --------------------------------------------------------------------------------

const queue = program.command("queue").description("the Cloud Tasks queue behind deliverWebhook (a real project; not the emulator)");
for (const [action, what] of [
  ["status", "show state and rate limits"],
  ["pause", "stop dispatching (tasks stay queued)"],
  ["resume", "dispatch again"],
  ["purge", "delete every queued task (deliveries stay pending until retried by hand)"],
  ["limits", "set rate limits until the next deploy (which applies DELIVERY_MAX_CONCURRENT / DELIVERY_MAX_PER_SECOND again)"],
] as const) {
  const cmd = queue
    .command(action)
    .description(what)
    .requiredOption("--project <projectId>")
    .option("--location <region>", "region of the function", "us-central1")
    .option("--queue <id>", "queue id", "deliverWebhook")
    .option("--dry-run", "print the request instead of sending it");
  if (action === "limits") {
    cmd.option("--max-concurrent <n>", "maxConcurrentDispatches", int("--max-concurrent", 1, 5000));
    cmd.option("--max-per-second <n>", "maxDispatchesPerSecond", number("--max-per-second"));
  }
  cmd.action(async (o) => {
    const req = buildQueueRequest(
      action as QueueAction,
      { project: o.project, location: o.location, queue: o.queue },
      { maxConcurrent: o.maxConcurrent, maxPerSecond: o.maxPerSecond },
    );
    if (o.dryRun) {
      out(req, () => printable(`${req.method} ${JSON.stringify(req.request)}`));
      return;
    }
    const result = describeQueue(await sendQueueRequest(req));
    out(result, () => details(result, Object.keys(result)));
  });
}

program
  .command("whoami")
  .description("show which API the commands talk to")
  .action(() => out({ api: apiBase(globals()) }, () => printable(`api ${apiBase(globals())}`)));

const NO_CREDENTIALS = /Could not load the default credentials|default credentials|invalid_grant|reauth/i;

/**
 * One line for anything that went wrong, including failed Google credentials, with the fix. Its
 * writers pass it through `printable`: an API's or a library's message is not ours to trust.
 */
function oneLine(err: unknown): string {
  if (err instanceof CliError) return err.message;
  const message = String((err as Error)?.message ?? err);
  if (NO_CREDENTIALS.test(message)) {
    return "no usable Google credentials for this project: run `gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file)";
  }
  return `unexpected: ${message.split("\n")[0]}`;
}

// The Google client libraries may reject a second time in the background after the command has
// failed, and warn about the metadata server: neither adds to the one error line.
let reported = false;
process.on("unhandledRejection", (err) => {
  if (!reported) {
    reported = true;
    process.stderr.write(`error: ${printable(oneLine(err))}\n`);
  }
  process.exitCode = 1;
});
process.removeAllListeners("warning");
process.on("warning", (w) => {
  if (w.name !== "MetadataLookupWarning") process.stderr.write(`warning: ${printable(w.message)}\n`);
});

async function main() {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version print and exit 0; usage errors were printed by commander.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (!reported) process.stderr.write(`error: ${printable(oneLine(err))}\n`);
    reported = true;
    process.exitCode = 1;
  }
}

// Admin SDK and HTTP keep-alive handles would keep a finished command alive.
void main().then(() => setImmediate(() => process.exit()));
