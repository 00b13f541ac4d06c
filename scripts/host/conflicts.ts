import { allBlocks, neverHolds, patternMatches, type MatchBlock, type RuleMethod } from "./rules-text";

/**
 * What the pipeline relies on that a host rule can undo. Rules of one path are OR-ed, so a
 * host rule that allows more on a path than the pipeline's does wins, and composing cannot
 * take that back. Each guard names a sample document path, the methods that matter there, and
 * what a client could do if the host allows them.
 */
export interface Guard {
  id: string;
  path: string;
  methods: RuleMethod[];
  /** blocking: a secret or a server-only record opened to clients; the tool refuses to write. */
  severity: "blocking" | "warning";
  what: string;
  consequence: string;
}

const WRITE: RuleMethod[] = ["create", "update", "delete"];
const ANY: RuleMethod[] = ["get", "list", ...WRITE];

export const GUARDS: Guard[] = [
  {
    id: "signing-secrets",
    path: "sites/S/webhooks/W/private/signing",
    methods: ANY,
    severity: "blocking",
    what: "webhook signing secrets (server-only)",
    consequence: "a client could read a webhook's signing secret and forge deliveries its receiver accepts, or replace it",
  },
  ...["events/E", "occurrences/O", "emissionLimits/L", "flaps/F", "rateLimits/R", "laneShares/slow"].map((sub): Guard => ({
    id: `server-only-${sub.split("/")[0]}`,
    path: `sites/S/${sub}`,
    methods: ANY,
    severity: "blocking",
    what: `the pipeline's ${sub.split("/")[0]} records (server-only)`,
    consequence: "a client could read event bodies of every webhook of the site, or change what the pipeline dedupes and limits",
  })),
  {
    id: "sweep-presence",
    path: "sites/S/presence/M",
    methods: ANY,
    severity: "blocking",
    what: "the sweep's record of silent machines (server-only)",
    consequence:
      "a client could forge a stale mark (a false machine.offline) or clear one (an outage's machine.online and its held page lost), or read which machines are silent",
  },
  {
    id: "host-handover",
    path: "sites/S/hostReports/R",
    methods: ANY,
    severity: "blocking",
    what: "events the host's server hands over to the pipeline (server-only)",
    consequence: "a client could forge a crash, a threshold or a display event for any machine of the site, delivered signed to every subscriber",
  },
  {
    id: "host-test-requests",
    path: "hostRequests/Q",
    methods: ANY,
    severity: "blocking",
    what: "the host's test requests (server-only)",
    consequence: "a client could make the pipeline send signed test requests to any webhook of any site, or read their answers",
  },
  {
    id: "sweep-floor",
    path: "pipelineState/sweep",
    methods: WRITE,
    severity: "blocking",
    what: "the sweep's floor (server-only)",
    consequence: "a client could move the floor past machines that just went silent, and they would never be paged",
  },
  {
    id: "api-key-hashes",
    path: "apiKeys/K",
    methods: ANY,
    severity: "blocking",
    what: "the pipeline's API key records (server-only)",
    consequence: "a client could read key hashes and owners, or mint a key for any site",
  },
  {
    id: "webhook-docs-writable",
    path: "sites/S/webhooks/W",
    methods: WRITE,
    severity: "warning",
    what: "webhook docs (url, events, enabled, failCount, lastStatus)",
    consequence:
      "whoever the condition admits can change a webhook's URL, events or health fields without the management API's checks (SSRF guard, quotas, audit); deliveries still carry only their own site's events and secrets stay server-only",
  },
  {
    id: "deliveries-writable",
    path: "sites/S/webhooks/W/deliveries/D",
    methods: WRITE,
    severity: "warning",
    what: "delivery records",
    consequence:
      "whoever the condition admits can rewrite the site's delivery history shown in the console; what is sent is decided from the server's own state",
  },
  {
    id: "machine-doc-agent-fields",
    path: "sites/S/machines/M",
    methods: ["create", "update"],
    severity: "warning",
    what: "the machine doc's fields the pipeline reads (online, lastHeartbeat, name, health, reboot and shutdown announcements); the sweep's own state is elsewhere (sites/{s}/presence, server-only)",
    consequence:
      "unless the condition checks fields, an agent can write any field of its own machine doc: a lastHeartbeat that is not the server's clock or a standing reboot announcement can hide or fake its own machine's outage, and its own payloads can carry any name; machines of other agents and other sites are untouched, since events are keyed by the document's own site and machine path and the sweep's marks are in docs no client can write",
  },
  {
    id: "logs-agent-create",
    path: "sites/S/logs/L",
    methods: ["create"],
    severity: "warning",
    what: "log docs, from which crashes and start failures become events",
    consequence:
      "unless the condition ties the doc's machineId to the agent's machine_id claim, an agent can report a crash as another machine of its own site; other sites are untouched (the path's site decides whose webhooks get it)",
  },
];

export interface Conflict {
  guard: Guard;
  /** The host rules that allow it: where they are and what they say. */
  rules: { line: number; pattern: string; methods: RuleMethod[]; condition: string }[];
}

/** Host rules that allow, on a guarded path, a method the guard names under a condition that may hold. */
export function findConflicts(documents: MatchBlock, guards: Guard[] = GUARDS): Conflict[] {
  const blocks = allBlocks(documents);
  const conflicts: Conflict[] = [];
  for (const guard of guards) {
    const docPath = guard.path.split("/");
    const rules = blocks
      .map((b) => ({ b, path: b.segments.slice(documents.segments.length) }))
      .filter(({ path }) => patternMatches(path, docPath))
      .flatMap(({ b, path }) =>
        b.allows
          .filter((a) => !neverHolds(a.condition))
          .map((a) => ({
            line: a.line,
            pattern: "/" + path.join("/"),
            methods: a.methods.filter((m) => guard.methods.includes(m)),
            condition: a.condition,
          }))
          .filter((a) => a.methods.length > 0),
      );
    if (rules.length > 0) conflicts.push({ guard, rules });
  }
  return conflicts;
}

/** The conflict report, as the tool prints it and writes it beside the composed files. */
export function conflictReport(conflicts: Conflict[], hostFile: string): string {
  if (conflicts.length === 0) return "No conflicts: no host rule allows clients anything on the paths the pipeline guards.\n";
  const lines = [`${conflicts.length} conflict(s) between ${hostFile} and the pipeline's guarantees:`, ""];
  for (const c of conflicts) {
    lines.push(`[${c.guard.severity}] ${c.guard.id}: ${c.guard.what}`);
    for (const r of c.rules) lines.push(`  ${hostFile}:${r.line}  match ${r.pattern}  allow ${r.methods.join(", ")}: if ${oneLine(r.condition)}`);
    lines.push(`  what it means: ${c.guard.consequence}`, "");
  }
  return lines.join("\n");
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}
