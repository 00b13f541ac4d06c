import { isDisplayEventType, type EventType } from "./event-catalog";
import { owletteApiBody, owletteV1Body } from "./host-formats";
import type { EventPayload } from "./payload";

/**
 * What a webhook's body looks like, chosen per webhook. `owlette` is the signed JSON event;
 * `owlette_v1` and `owlette_api` are the bodies the Owlette host's own senders used (its
 * dashboard's, its public API's: domain/host-formats.ts), for receivers written against the
 * host; the others speak the destination's own incoming-webhook API, so a Slack, Discord or
 * PagerDuty URL gets a readable alert without a relay in between. Signature headers are sent
 * with every format (the destinations ignore them).
 */
export const FORMATS = ["owlette", "slack", "discord", "pagerduty", "owlette_v1", "owlette_api"] as const;
export type Format = (typeof FORMATS)[number];

/**
 * Formats whose URL is itself the credential (Slack and Discord put the token in the path):
 * such a URL is kept server-side and the client-readable webhook doc shows it redacted.
 */
export function urlIsSecret(format: Format): boolean {
  return format === "slack" || format === "discord";
}

/** Known incoming-webhook URLs whose path is a credential, whatever format the webhook uses. */
const CREDENTIAL_PATHS: { host: RegExp; path: RegExp }[] = [
  // Incoming webhooks (/services/), workflow triggers (/triggers/, /workflows/): every path there.
  { host: /^hooks\.slack\.com$/i, path: /^\/[^/]+\//i },
  { host: /^(?:[a-z0-9-]+\.)?discord(?:app)?\.com$/i, path: /^\/api\/(?:v\d+\/)?webhooks\//i },
];

/** `hooks.slack.com.` is `hooks.slack.com`. */
const hostOf = (url: URL) => url.hostname.replace(/\.$/, "");

function credentialPrefix(url: URL): { path: RegExp } | undefined {
  return CREDENTIAL_PATHS.find((c) => c.host.test(hostOf(url)) && c.path.test(url.pathname));
}

/** A Slack or Discord incoming-webhook URL: a credential, kept server-side whatever the format. */
export function isCredentialUrl(raw: string): boolean {
  try {
    return credentialPrefix(new URL(raw)) !== undefined;
  } catch {
    return false;
  }
}

/** The URL is kept server-side (and shown redacted) for a Slack or Discord format, or a Slack or Discord URL in any format. */
export function keepsUrlSecret(format: Format, url: string): boolean {
  return urlIsSecret(format) || isCredentialUrl(url);
}

/**
 * What members see of a credential URL: the origin and the path segments that name the service
 * (`/services`, `/api/webhooks`), never an id, token, suffix or query.
 * `https://discord.com/api/webhooks/1/tok/slack` -> `https://discord.com/api/webhooks/…`;
 * any other URL -> its origin and `/…`.
 */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    const known = credentialPrefix(url);
    // The segments the service's own prefix matched (`services`, `api/v10/webhooks`), nothing after.
    const kept = known ? (known.path.exec(url.pathname)?.[0] ?? "").split("/").filter(Boolean) : [];
    return `${url.origin}/${[...kept, "…"].join("/")}`;
  } catch {
    return "…";
  }
}

/** PagerDuty Events API v2 endpoint, the usual URL of a `pagerduty` webhook. */
export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

interface Look {
  title: string;
  emoji: string;
  /** Discord embed colour. */
  color: number;
  severity: "critical" | "error" | "warning" | "info";
}

const LOOKS: Record<EventType, Look> = {
  "process.crashed": { title: "Process crashed", emoji: "🔴", color: 0xe74c3c, severity: "error" },
  "process.start_failed": { title: "Process failed to start", emoji: "🔴", color: 0xc0392b, severity: "error" },
  "machine.offline": { title: "Machine offline", emoji: "🟠", color: 0xe67e22, severity: "critical" },
  "machine.online": { title: "Machine back online", emoji: "🟢", color: 0x2ecc71, severity: "info" },
  connection_failure: { title: "Connection failure", emoji: "🟡", color: 0xf1c40f, severity: "warning" },
  "machine.flapping": { title: "Machine flapping", emoji: "🔁", color: 0xe67e22, severity: "warning" },
  "machine.stable": { title: "Machine stable again", emoji: "🟢", color: 0x2ecc71, severity: "info" },
  "process.flapping": { title: "Process crashing in a loop", emoji: "🔁", color: 0xe74c3c, severity: "error" },
  "process.stable": { title: "Process stable again", emoji: "🟢", color: 0x2ecc71, severity: "info" },
  "threshold.breached": { title: "Threshold breached", emoji: "🟠", color: 0xe67e22, severity: "warning" },
  "display.monitor_removed": { title: "Monitor removed", emoji: "🟠", color: 0xe67e22, severity: "warning" },
  "display.apply_failed": { title: "Display layout failed to apply", emoji: "🔴", color: 0xc0392b, severity: "error" },
  "display.auto_revert_fired": { title: "Display layout reverted", emoji: "🟡", color: 0xf1c40f, severity: "warning" },
  "display.sync_lost": { title: "Display sync lost", emoji: "🔴", color: 0xe74c3c, severity: "error" },
  "display.drift": { title: "Display layout drifted", emoji: "🟡", color: 0xf1c40f, severity: "warning" },
  "display.monitor_swapped": { title: "Monitor swapped", emoji: "🟡", color: 0xf1c40f, severity: "warning" },
  "display.mosaic_disabled": { title: "Mosaic disabled", emoji: "🟠", color: 0xe67e22, severity: "warning" },
  "display.apply_refused_mosaic": { title: "Display layout refused: Mosaic is on", emoji: "🟡", color: 0xf1c40f, severity: "warning" },
  "display.monitor_added": { title: "Monitor added", emoji: "🔵", color: 0x3498db, severity: "info" },
  "display.apply_succeeded": { title: "Display layout applied", emoji: "🟢", color: 0x2ecc71, severity: "info" },
  "webhook.failing": { title: "Webhook failing", emoji: "⚠️", color: 0xf39c12, severity: "warning" },
  "webhook.disabled": { title: "Webhook disabled", emoji: "⛔", color: 0x95a5a6, severity: "warning" },
  "webhook.test": { title: "Test event", emoji: "🔔", color: 0x3498db, severity: "info" },
};

const text = (v: unknown): string | null => (typeof v === "string" && v.length > 0 ? v : typeof v === "number" ? String(v) : null);

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** A nested object the host sent (`alert`, `monitor`), or an empty one: its fields read as absent. */
const record = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** A threshold alert's value against its limit: "92.5 (threshold > 90)". */
function reading(alert: Record<string, unknown>): string | null {
  const value = text(alert.value);
  const limit = text(alert.threshold);
  if (value === null) return null;
  if (limit === null) return value;
  return `${value} (threshold ${[text(alert.operator), limit].filter((s) => s !== null).join(" ")})`;
}

/** A monitor as people know it: "DELL U2720Q on DP-1", else whichever of its name, id or port came. */
function monitorLabel(d: Record<string, unknown>): string | null {
  const monitor = record(d.monitor);
  const name = text(monitor.friendlyName) ?? text(monitor.id);
  const port = text(monitor.port);
  return name !== null && port !== null ? `${name} on ${port}` : (name ?? port);
}

/** A display event's list of changes, one per line (strings only: the rest of the list is the agent's noise). */
function changeList(d: Record<string, unknown>): string | null {
  const changes = Array.isArray(d.changes) ? d.changes.filter((c): c is string => typeof c === "string" && c.length > 0) : [];
  return changes.length > 0 ? changes.map((c) => `• ${c}`).join("\n") : null;
}

/** PagerDuty severity: a threshold rule's own when it is one PagerDuty knows, else the event type's. */
function severityOf(p: EventPayload): Look["severity"] {
  const given = p.event === "threshold.breached" ? record(p.data.alert).severity : undefined;
  return given === "critical" || given === "error" || given === "warning" || given === "info" ? given : LOOKS[p.event].severity;
}

/** How many events an episode of flapping held back, when it held any. */
const heldBack = (d: Record<string, unknown>) => (typeof d.suppressed === "number" && d.suppressed > 0 ? ` (${d.suppressed} events held back)` : "");

/** One line saying what happened, in plain text. */
export function summary(p: EventPayload): string {
  const d = p.data;
  const machine = text(d.machineName) ?? text(d.machineId) ?? "a machine";
  const where = `${machine} (${p.site.name})`;
  const type = p.event;
  if (isDisplayEventType(type)) {
    const monitor = monitorLabel(d);
    return `${LOOKS[type].title} on ${where}${monitor ? `: ${monitor}` : ""}`;
  }
  switch (type) {
    case "process.crashed":
      return `${text(d.processName) ?? "A process"} crashed on ${where}`;
    case "process.start_failed":
      return `${text(d.processName) ?? "A process"} failed to start on ${where}`;
    case "machine.offline":
      return `${where} stopped sending heartbeats`;
    case "machine.online":
      return `${where} is back online`;
    case "connection_failure":
      return `${where} lost its connection${text(d.errorCode) ? ` (${text(d.errorCode)})` : ""}`;
    case "machine.flapping":
      return `${where} went offline ${text(d.flaps) ?? "several"} times in ${text(d.windowMinutes) ?? "a few"} minutes: its outages are held back until it is stable`;
    case "machine.stable":
      return `${where} is stable again: online, no outage in ${text(d.stableAfterMinutes) ?? "a while"} minutes${heldBack(d)}`;
    case "process.flapping":
      return `${text(d.processName) ?? "A process"} on ${where} crashed ${text(d.flaps) ?? "several"} times in ${text(d.windowMinutes) ?? "a few"} minutes: its crashes are held back until it is stable`;
    case "process.stable":
      return `${text(d.processName) ?? "A process"} on ${where} is stable again: no crash in ${text(d.stableAfterMinutes) ?? "a while"} minutes${heldBack(d)}`;
    case "threshold.breached": {
      const alert = record(d.alert);
      const rule = text(alert.ruleName);
      const value = reading(alert);
      const metric = text(alert.metric);
      const what = [metric, value].filter((s) => s !== null).join(" ");
      return `${rule ? `Threshold "${rule}"` : "A threshold"} breached on ${where}${what ? `: ${what}` : ""}`;
    }
    case "webhook.failing":
      return `Webhook "${text(d.webhookName) ?? text(d.webhookId) ?? "?"}" of ${p.site.name} failed ${text(d.failCount) ?? "several"} deliveries in a row (last: ${text(d.lastStatus) ?? "?"}): it is switched off after ${text(d.disabledAfter) ?? "10"}`;
    case "webhook.disabled":
      return `Webhook "${text(d.webhookName) ?? text(d.webhookId) ?? "?"}" of ${p.site.name} was switched off ${d.reason === "gone" ? "(its receiver answered 410 Gone)" : `after ${text(d.failCount) ?? "repeated"} failed deliveries`}: it gets no events until re-enabled`;
    case "webhook.test":
      return `Test event from ${p.site.name}: this destination receives Owlette alerts`;
  }
}

/** Label/value pairs worth showing, in order; empty values left out. */
function facts(p: EventPayload): [string, string][] {
  const d = p.data;
  const alert = record(d.alert);
  const pairs: [string, string | null][] = [
    ["Site", p.site.name],
    ["Machine", text(d.machineName) ?? text(d.machineId)],
    ["Process", text(d.processName)],
    ["Exit code", text(d.exitCode)],
    ["Error", text(d.errorCode)],
    ["Rule", text(alert.ruleName)],
    ["Metric", text(alert.metric)],
    ["Value", reading(alert)],
    ["Severity", text(alert.severity)],
    ["Monitor", monitorLabel(d)],
    ["Changes", changeList(d)],
    ["Last heartbeat", text(d.lastHeartbeat)],
    ["Offline since", text(d.offlineSince)],
    ["Other machines offline, not paged", text(d.siteSuppressed)],
    ["Flaps", text(d.flaps)],
    ["Flapping since", text(d.flappingSince)],
    ["Webhook", text(d.webhookName) ?? text(d.webhookId)],
    ["Last status", text(d.lastStatus)],
  ];
  return pairs.filter((pair): pair is [string, string] => pair[1] !== null);
}

const detail = (p: EventPayload) => text(p.data.errorMessage) ?? text(p.data.message);

/** Slack's mrkdwn treats &, < and > as control characters. */
const slackEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Slack incoming webhook: `text` (notifications, fallback) and Block Kit `blocks`. */
export function slackMessage(p: EventPayload) {
  const look = LOOKS[p.event];
  const why = detail(p);
  return {
    text: cut(`${look.emoji} ${slackEscape(summary(p))}`, 3000),
    blocks: [
      { type: "header", text: { type: "plain_text", text: cut(`${look.emoji} ${look.title}`, 150), emoji: true } },
      {
        type: "section",
        text: { type: "mrkdwn", text: cut(slackEscape(summary(p)) + (why ? `\n>${slackEscape(why)}` : ""), 3000) },
        fields: facts(p)
          .slice(0, 10)
          .map(([k, v]) => ({ type: "mrkdwn", text: cut(`*${k}*\n${slackEscape(v)}`, 2000) })),
      },
      { type: "context", elements: [{ type: "mrkdwn", text: cut(`${p.event} · ${p.timestamp} · ${p.id}`, 3000) }] },
    ],
  };
}

/** Discord refuses an embed whose title, description, field and footer texts pass this in all. */
export const DISCORD_EMBED_TOTAL = 6000;

/** Discord webhook: `content` plus one embed; mentions in agent text never ping anyone. */
export function discordMessage(p: EventPayload) {
  const look = LOOKS[p.event];
  const why = detail(p);
  const title = cut(look.title, 256);
  const fields = facts(p)
    .slice(0, 25)
    .map(([k, v]) => ({ name: cut(k, 256), value: cut(v, 1024), inline: true }));
  const footer = { text: cut(`${p.event} · ${p.id}`, 2048) };
  const used = title.length + footer.text.length + fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
  return {
    content: cut(`${look.emoji} **${look.title}**: ${summary(p)}`, 2000),
    embeds: [
      {
        title,
        // The description gives way first: the fields carry the facts.
        description: cut(why ? `${summary(p)}\n\n${why}` : summary(p), Math.max(1, Math.min(4096, DISCORD_EMBED_TOTAL - used))),
        color: look.color,
        fields,
        timestamp: p.timestamp,
        footer,
      },
    ],
    allowed_mentions: { parse: [] as string[] },
  };
}

/**
 * The incident an event belongs to: `machine.online` resolves its machine's `machine.offline`;
 * repeated crashes of one process, or connection failures of one machine, group into one open
 * incident instead of paging again.
 */
export function pagerDutyDedupKey(p: EventPayload): string {
  const machine = text(p.data.machineId) ?? "-";
  const base = `owlette/${p.site.id}/${machine}`;
  const type = p.event;
  if (isDisplayEventType(type)) {
    // One incident per kind of display trouble and monitor: a drifting layout pages once.
    const monitor = record(p.data.monitor);
    return `${base}/${type}/${text(monitor.id) ?? text(monitor.edidHash) ?? text(monitor.port) ?? "-"}`;
  }
  switch (type) {
    case "machine.offline":
    case "machine.online":
      return `${base}/offline`;
    case "process.crashed":
    case "process.start_failed":
      return `${base}/process/${text(p.data.processId) ?? text(p.data.processName) ?? "-"}`;
    case "connection_failure":
      return `${base}/connection`;
    case "machine.flapping":
    case "machine.stable":
      // One incident per episode's machine: the stable event resolves it.
      return `${base}/flapping`;
    case "process.flapping":
    case "process.stable":
      return `${base}/process/${text(p.data.processId) ?? text(p.data.processName) ?? "-"}/flapping`;
    case "threshold.breached": {
      // Repeated breaches of one rule on one machine: one incident.
      const alert = record(p.data.alert);
      return `${base}/threshold/${text(alert.ruleName) ?? text(alert.metric) ?? "-"}`;
    }
    case "webhook.failing":
      // One incident per streak (nothing resolves it by itself: a later streak pages again).
      return `owlette/${p.site.id}/webhook/${text(p.data.webhookId) ?? "-"}/failing/${p.id}`;
    case "webhook.disabled":
      // One incident per webhook: disabled again before anyone looked, it does not page twice.
      return `owlette/${p.site.id}/webhook/${text(p.data.webhookId) ?? "-"}/disabled`;
    case "webhook.test":
      return `owlette/test/${p.id}`;
  }
}

/** The events that end an incident: a machine back online, a machine or a process stable after flapping. */
const RESOLVES: ReadonlySet<EventPayload["event"]> = new Set(["machine.online", "machine.stable", "process.stable"]);

/** PagerDuty Events API v2: `trigger` with a payload, or `resolve` for a machine back online or stable again. */
export function pagerDutyEvent(p: EventPayload, routingKey: string) {
  const dedup_key = cut(pagerDutyDedupKey(p), 255);
  if (RESOLVES.has(p.event)) return { routing_key: routingKey, event_action: "resolve" as const, dedup_key };
  return {
    routing_key: routingKey,
    event_action: "trigger" as const,
    dedup_key,
    payload: {
      summary: cut(summary(p), 1024),
      source: cut(text(p.data.machineName) ?? text(p.data.machineId) ?? p.site.name, 255),
      severity: severityOf(p),
      timestamp: p.timestamp,
      component: text(p.data.processName) ?? monitorLabel(p.data) ?? text(record(p.data.alert).metric) ?? undefined,
      group: p.site.name,
      class: p.event,
      custom_details: { ...p.data, eventId: p.id, site: p.site },
    },
    client: "Owlette",
  };
}

/**
 * The body sent for one event in the webhook's format. `owlette` sends the stored bytes as they
 * are; the others are rendered from them at send time (the host's two formats too: the stored
 * event stays the one record of what happened, whoever it is shown to).
 */
export function renderBody(format: Format, storedBody: string, opts: { routingKey?: string | undefined } = {}): string {
  if (format === "owlette") return storedBody;
  const payload = JSON.parse(storedBody) as EventPayload;
  switch (format) {
    case "slack":
      return JSON.stringify(slackMessage(payload));
    case "discord":
      return JSON.stringify(discordMessage(payload));
    case "pagerduty":
      if (!opts.routingKey) throw new Error("a pagerduty webhook needs a routing key");
      return JSON.stringify(pagerDutyEvent(payload, opts.routingKey));
    case "owlette_v1":
      return JSON.stringify(owletteV1Body(payload));
    case "owlette_api":
      return JSON.stringify(owletteApiBody(payload));
  }
}
