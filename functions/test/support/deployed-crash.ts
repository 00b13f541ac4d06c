import { randomUUID } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import { handleAgentRequest, type AgentAlertDeps, type IngestDeps } from "../../src/seam";
import { handleLogCreated } from "../../src/seam-handlers";

/**
 * A crash as deployed agents report it, through the pipeline's own handlers run in-process: the
 * `sites/{siteId}/logs/{uuid}` doc's trigger and `POST /agent/alert` with the same message (the
 * agent's token already verified, as the Auth emulator would). For counting what a crash costs
 * on the path the fleet uses (the bench, the cost tests).
 */
export function deployedAgent(siteId: string, machineId: string, deps: IngestDeps) {
  const alertDeps: AgentAlertDeps = {
    ...deps,
    verifyIdToken: async () => ({ uid: `agent_${machineId}`, role: "agent", site_id: siteId, machine_id: machineId }),
  };
  const details = (pid: number) => `Process stopped unexpectedly (PID ${pid} no longer running)`;
  return {
    /** The log doc's trigger, as the emulator delivers it (the doc as the agent wrote it). */
    async log(processName: string, pid: number) {
      const logId = randomUUID();
      return handleLogCreated(
        {
          eventId: randomUUID(),
          occurredAt: new Date(),
          path: `sites/${siteId}/logs/${logId}`,
          params: { siteId, logId },
          before: undefined,
          after: { timestamp: Timestamp.now(), action: "process_crash", level: "error", machineId, machineName: machineId, processName, details: details(pid) },
        },
        deps,
      );
    },
    /** The alert, as `send_alert` posts it. */
    async alert(processName: string, pid: number) {
      const body = { siteId, machineId, eventType: "process_crash", data: { process_name: processName, error_message: details(pid) }, agentVersion: "2.12.4" };
      const res = await handleAgentRequest(
        {
          method: "POST",
          path: "/agent/alert",
          headers: { authorization: "Bearer agent-token", "content-type": "application/json" },
          query: {},
          rawBody: Buffer.from(JSON.stringify(body)),
        },
        alertDeps,
      );
      return { status: res.status, ...(res.body as { outcome?: string; eventId?: string | null }) };
    },
  };
}
