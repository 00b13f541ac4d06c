import { onDocumentCreated } from "firebase-functions/v2/firestore";
import type { DocumentData } from "firebase-admin/firestore";
import { SIZING } from "../sizing";
import { handleHostReport } from "../pipeline/host-reports";
import { ingestDeps } from "../wiring";
import { toAgentWrite } from "./agent-write";

/** An event the host's sender handed over (pipeline/host-reports.ts). */
export const onHostReport = onDocumentCreated({ document: "sites/{siteId}/hostReports/{reportId}", retry: true, ...SIZING.webhookDocs }, async (event) => {
  const write = toAgentWrite(event);
  const { siteId, reportId } = write.params;
  if (!siteId || !reportId || !write.after) return;
  await handleHostReport({ siteId, reportId }, write.after as DocumentData, write.occurredAt, ingestDeps());
});
