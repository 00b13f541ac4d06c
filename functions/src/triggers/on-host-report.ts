import { onDocumentCreated } from "firebase-functions/v2/firestore";
import { SIZING } from "../sizing";
import { hostReportSchema, readHostReport } from "../domain/host-report";
import { paths } from "../data/paths";
import { ingest, type IngestDeps, type IngestOutcome } from "../pipeline/ingest";
import { ingestDeps } from "../wiring";
import { toAgentWrite, type AgentWrite } from "./agent-write";

/**
 * An event the host's sender handed over (`sites/{s}/hostReports/{id}`, written by the drop-in
 * in integrations/owlette-host): one report on the `alert` channel, the host's own channel for
 * what agents tell it, so a crash it reports and the agent's log doc are one occurrence. The
 * report's path is its id: a redelivered trigger is recognised. A report the drop-in should have
 * refused is marked on its doc (`refused`) and logged, never dropped without a word.
 */
export async function handleHostReport(write: AgentWrite, deps: IngestDeps): Promise<IngestOutcome[] | null> {
  const { siteId, reportId } = write.params;
  if (!siteId || !reportId || !write.after) return null;
  const refuse = async (path: string, reason: string) => {
    deps.log.error("host_report.refused", { siteId, reportId, path, reason });
    await deps.store.db.doc(paths.hostReport(siteId, reportId)).update({ refused: { path, reason } });
    return null;
  };
  const parsed = hostReportSchema.safeParse(write.after);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return refuse(issue?.path.join(".") || "report", issue?.message ?? "invalid");
  }
  const reading = readHostReport(parsed.data);
  if (reading.kind === "invalid") return refuse(reading.path, reading.reason);
  if (reading.kind === "own") {
    deps.log.info("host_report.own", { siteId, reportId, event: parsed.data.event, reason: reading.reason });
    return [];
  }
  const outcomes = await ingest({ siteId, channel: "alert", reportId: `host:${reportId}`, at: write.occurredAt }, [reading.event], deps);
  deps.log.info("host_report", { siteId, reportId, event: parsed.data.event, type: reading.event.type, outcome: outcomes[0]?.outcome });
  return outcomes;
}

export const onHostReport = onDocumentCreated({ document: "sites/{siteId}/hostReports/{reportId}", retry: true, ...SIZING.webhookDocs }, async (event) => {
  await handleHostReport(toAgentWrite(event), ingestDeps());
});
