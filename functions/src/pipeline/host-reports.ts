import { Timestamp, type DocumentData } from "firebase-admin/firestore";
import { hostReportSchema, readHostReport } from "../domain/host-report";
import { paths } from "../data/paths";
import { ingest, type IngestDeps, type IngestOutcome } from "./ingest";

/**
 * Events the host's sender handed over (`sites/{s}/hostReports/{id}`, written by the drop-in in
 * integrations/owlette-host): each is one report on the `alert` channel, the host's channel for
 * what agents tell it, so a crash it reports and the agent's log doc are one occurrence. The
 * report's path is its id: a report handled twice (a redelivered trigger, the pickup below) is
 * recognised. A report is deleted once handled; one its trigger never handled (written before
 * the pipeline was deployed, or after its trigger's retries ran out) is picked up by the sweep.
 */
export async function handleHostReport(ids: { siteId: string; reportId: string }, data: DocumentData, at: Date, deps: IngestDeps): Promise<IngestOutcome[]> {
  const { siteId, reportId } = ids;
  const done = () => deps.store.db.doc(paths.hostReport(siteId, reportId)).delete();
  const parsed = hostReportSchema.safeParse(data);
  const reading = parsed.success
    ? readHostReport(parsed.data)
    : { kind: "invalid" as const, path: parsed.error.issues[0]?.path.join(".") || "report", reason: parsed.error.issues[0]?.message ?? "invalid" };
  if (reading.kind === "invalid") {
    // The drop-in refuses these before writing: only another writer gets here. Said in the log, with why.
    deps.log.error("host_report.refused", { siteId, reportId, path: reading.path, reason: reading.reason });
    await done();
    return [];
  }
  if (reading.kind === "own") {
    deps.log.info("host_report.own", { siteId, reportId, event: data.event, reason: reading.reason });
    await done();
    return [];
  }
  const outcomes = await ingest({ siteId, channel: "alert", reportId: `host:${reportId}`, at }, [reading.event], deps);
  deps.log.info("host_report", { siteId, reportId, event: data.event, type: reading.event.type, outcome: outcomes[0]?.outcome });
  await done();
  return outcomes;
}

/** A report older than this and still there was not handled by its trigger. */
export const STRANDED_AFTER_MS = 120_000;
const PICKUP_PAGE = 50;
const REPORT_PATH = /^sites\/([^/]+)\/hostReports\/([^/]+)$/;

/** Reports no trigger handled, oldest first (one query; 1 read when there are none). */
export async function pickUpStrandedHostReports(deps: IngestDeps, now: Date): Promise<number> {
  const cutoff = Timestamp.fromMillis(now.getTime() - STRANDED_AFTER_MS);
  const snap = await deps.store.db.collectionGroup("hostReports").where("reportedAt", "<", cutoff).orderBy("reportedAt").limit(PICKUP_PAGE).get();
  let handled = 0;
  for (const doc of snap.docs) {
    const match = REPORT_PATH.exec(doc.ref.path);
    if (!match) continue;
    const reportedAt = doc.get("reportedAt") as Timestamp;
    try {
      await handleHostReport({ siteId: match[1] as string, reportId: match[2] as string }, doc.data(), reportedAt.toDate(), deps);
      handled++;
    } catch (err) {
      deps.log.warn("host_report.pickup_failed", { path: doc.ref.path, error: String((err as Error)?.message ?? err).slice(0, 200) });
    }
  }
  if (handled > 0) deps.log.warn("host_report.picked_up", { handled });
  return handled;
}
