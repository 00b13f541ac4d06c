import type { EmissionStore, EmitWith, ReportInput, StoredOccurrence } from "../../src/data/emission-store";
import { decideInLedger, type Ledger, type LedgerQuestion } from "../../src/domain/emission-ledger";
import type { Store } from "../../src/data/store";
import type { DeliveryTask } from "../../src/delivery/task-queue";
import { logDocSchema, parseAgentDoc } from "../../src/domain/agent-docs";
import type { DetectedEvent } from "../../src/domain/detected-event";
import { renderBody } from "../../src/domain/destination-formats";
import { detectLogEvents, processEvent } from "../../src/domain/detect-process-events";
import { EMISSION_LIMITS, joinOccurrence } from "../../src/domain/emission-policy";
import type { Log } from "../../src/log";
import { ingest, type Report } from "../../src/pipeline/ingest";

// Security review, issue 20, finding 6: what agents say was shown as fact. A log doc's own
// `machineName` named the machine in payloads and renderings, `screenshotUrl` went on
// unchecked, and a few machines could spend their site's hourly budget for all the others.
// Each test fails on the code before the fix.

const SITE = "site-1";
const silent: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };
const ts = { toMillis: () => Date.parse("2026-03-22T10:30:00Z") };

/** A log doc as the rules let an agent of GALLERY-PC1 write it (its machineId is checked, nothing else). */
function logDoc(fields: Record<string, unknown>) {
  const parsed = parseAgentDoc(logDocSchema, {
    timestamp: ts,
    action: "process_crash",
    level: "error",
    machineId: "GALLERY-PC1",
    machineName: "GALLERY-PC1",
    processName: "TouchDesigner",
    details: "Process stopped unexpectedly (PID 4242 no longer running)",
    ...fields,
  });
  if (!parsed.ok) throw new Error(parsed.problems);
  return parsed.value;
}

/**
 * An in-memory pipeline: the stores hold what ingest and the fan-out need, one webhook of
 * every format subscribes, and the machine docs hold the given names.
 */
function pipeline(opts: { machineNames?: Record<string, string>; eventsPerHour?: number } = {}) {
  const bodies: string[] = [];
  const occurrences = new Map<string, StoredOccurrence>();
  let ledger: Ledger | null = null;
  const store = {
    sites: {
      recentSiteSettings: async () => ({ site: { id: SITE, name: "Gallery" }, eventsPerHour: opts.eventsPerHour ?? null }),
      recentMachineName: async (_s: string, machineId: string) => opts.machineNames?.[machineId],
    },
    events: { fanOut: async () => ({ targets: [{ id: "wh-1", snapshot: {} }], missed: [] }) },
  };
  // As the store decides: a claim per occurrence, and one ledger for the site's limits.
  const emissions = {
    claim: async (_s: string, id: string, _event: DetectedEvent, report: ReportInput) => {
      const state = occurrences.get(id) ?? null;
      const join = joinOccurrence(state, { channel: report.channel, reportId: report.reportId, atMs: report.at.getTime() });
      if (join !== "new" && state) return { join, state };
      const next: StoredOccurrence = {
        eventId: report.newEventId,
        firstAtMs: report.at.getTime(),
        channels: { [report.channel]: true },
        reports: report.reportId ? [report.reportId] : [],
        decision: null,
        claimedAtMs: report.at.getTime(),
        version: null,
      };
      occurrences.set(id, next);
      return { join, state: next };
    },
    decisionOf: async (_s: string, state: StoredOccurrence) => state.decision,
    decide: async (_s: string, id: string, _state: StoredOccurrence, q: LedgerQuestion, emit: EmitWith) => {
      const answer = decideInLedger(ledger, q);
      ledger = answer.next;
      const event = answer.decision === "emitted" ? await emit(answer) : null;
      if (event) bodies.push(event.body);
      occurrences.set(id, { ...(occurrences.get(id) as StoredOccurrence), decision: answer.decision });
      return { decision: answer.decision, answer, event, stored: false };
    },
  };
  const deps = {
    store: store as unknown as Store,
    emissions: emissions as unknown as EmissionStore,
    enqueue: async (_t: DeliveryTask) => "enqueued" as const,
    log: silent,
    now: () => new Date("2026-03-22T10:30:00Z"),
  };
  let n = 0;
  const report = (channel: Report["channel"] = "log"): Report => ({ siteId: SITE, channel, reportId: `logs/${++n}`, at: deps.now() });
  return {
    bodies,
    /** One agent report through the one ingest path; its outcome. */
    report: async (events: DetectedEvent[]) => (await ingest(report(), events, deps)).map((o) => o.outcome),
  };
}

describe("issue 20, finding 6: a machine is named by its machine doc, never by what a report says of itself", () => {
  const impostor = () => detectLogEvents(logDoc({ machineName: "STAGE-PC" }));

  it("a log doc naming another machine: the payload and every rendering name the machine doc's name", async () => {
    const p = pipeline({ machineNames: { "GALLERY-PC1": "Gallery PC 1" } });
    expect(await p.report(impostor())).toEqual(["emitted"]);
    const [body] = p.bodies;
    expect(JSON.parse(body as string).data).toMatchObject({ machineId: "GALLERY-PC1", machineName: "Gallery PC 1" });
    for (const format of ["owlette", "slack", "discord", "pagerduty"] as const) {
      const rendered = renderBody(format, body as string, { routingKey: "R0UTING" });
      expect(rendered).toContain("Gallery PC 1");
      expect(rendered).not.toContain("STAGE-PC");
    }
    expect(JSON.parse(renderBody("pagerduty", body as string, { routingKey: "R" })).payload.source).toBe("Gallery PC 1");
  });

  it("without a name on the machine doc, the machine id: the one the rules and the token vouch for", async () => {
    const p = pipeline();
    await p.report(impostor());
    const [body] = p.bodies;
    expect(JSON.parse(body as string).data).toMatchObject({ machineId: "GALLERY-PC1", machineName: "GALLERY-PC1" });
    expect(JSON.parse(renderBody("slack", body as string)).text).toBe("🔴 TouchDesigner crashed on GALLERY-PC1 (Gallery)");
    expect(renderBody("discord", body as string)).not.toContain("STAGE-PC");
  });

  it("a detected report event carries no name of its own", () => {
    expect(impostor()[0]).not.toHaveProperty("machineName");
  });
});

describe("issue 20, finding 6: a screenshot link goes on only as a public https URL", () => {
  const STORAGE = "https://firebasestorage.googleapis.com/v0/b/owlette.appspot.com/o/shots%2Fc.png?alt=media&token=abc";
  it.each([
    ["javascript:", "javascript:alert(document.cookie)"],
    ["javascript: in mixed case", "JaVaScRiPt:alert(1)"],
    ["javascript: split by a newline", "java\nscript:alert(1)"],
    ["data:", "data:image/png;base64,iVBORw0KGgo="],
    ["plain http", "http://cdn.example.com/c.png"],
    ["a relative URL", "/shots/c.png"],
    ["a scheme-relative URL", "//cdn.example.com/c.png"],
    ["credentials", "https://user:pw@cdn.example.com/c.png"],
    ["a private address", "https://10.0.0.5/c.png"],
    ["the metadata address", "https://169.254.169.254/latest/meta-data/"],
    ["loopback as a decimal number", "https://2130706433/c.png"],
    ["IPv6 loopback", "https://[::1]/c.png"],
    ["the metadata server's name", "https://metadata.google.internal/computeMetadata/v1/"],
    ["an mDNS name", "https://printer.local/c.png"],
    ["localhost", "https://localhost/c.png"],
    ["a single-label name", "https://intranet/c.png"],
    ["a link past 2048 characters", `https://cdn.example.com/${"x".repeat(2048)}`],
  ])("%s is dropped", (_what, url) => {
    const [event] = detectLogEvents(logDoc({ screenshotUrl: url }));
    expect(event?.type).toBe("process.crashed");
    expect(event?.fields).not.toHaveProperty("screenshotUrl");
  });

  it("a link that is not even a string is dropped, never the crash", () => {
    const [event] = detectLogEvents(logDoc({ screenshotUrl: { href: STORAGE } }));
    expect(event).toMatchObject({ type: "process.crashed", fields: { processName: "TouchDesigner" } });
    expect(event?.fields).not.toHaveProperty("screenshotUrl");
  });

  it("a public https link goes on", () => {
    expect(detectLogEvents(logDoc({ screenshotUrl: STORAGE }))[0]?.fields.screenshotUrl).toBe(STORAGE);
    expect(processEvent({ type: "process.crashed", machineId: "m", processName: "TD", screenshotUrl: "https://8.8.8.8/c.png" }).fields.screenshotUrl).toBe(
      "https://8.8.8.8/c.png",
    );
  });
});

describe("issue 20, finding 6: a site's budget cannot be spent for all its machines", () => {
  const crashOf = (machineId: string, i: number) =>
    processEvent({ type: "process.crashed", machineId, processName: `proc-${i % 7}`, errorMessage: `crash ${machineId} ${i}` });

  it(`machines at their own limit spend the site's ${EMISSION_LIMITS.perSite}; another machine's first event of the hour still goes out`, async () => {
    const p = pipeline();
    const hogs = 20;
    let emitted = 0;
    for (let m = 0; m < hogs; m++) {
      for (let i = 0; i <= EMISSION_LIMITS.perMachine; i++) emitted += (await p.report([crashOf(`HOG-${m}`, i)])).filter((o) => o === "emitted").length;
    }
    // Each hog's first event came from its own reserve (one an hour); the rest shared the site's budget until it ran out.
    expect(emitted).toBe(hogs + EMISSION_LIMITS.perSite);
    expect(await p.report([crashOf("LOBBY-PC", 0)])).toEqual(["emitted"]);
    expect(await p.report([crashOf("LOBBY-PC", 1)])).toEqual(["suppressed"]);
  });

  it("a site's own smaller budget: one machine spends it, the others still get their first event", async () => {
    const p = pipeline({ eventsPerHour: 2 });
    const first: string[] = [];
    for (let i = 0; i < 4; i++) first.push(...(await p.report([crashOf("STAGE-PC", i)])));
    // Its reserve, then the site's 2, then nothing more this hour.
    expect(first).toEqual(["emitted", "emitted", "emitted", "suppressed"]);
    expect(await p.report([crashOf("LOBBY-PC", 0)])).toEqual(["emitted"]);
    expect(await p.report([crashOf("LOBBY-PC", 1)])).toEqual(["suppressed"]);
  });
});
