import { onDocumentDeleted } from "firebase-functions/v2/firestore";
import { SIZING } from "../sizing";
import { presenceDeps } from "../wiring";

/**
 * The sweep presence mode's only trigger on machine docs: on a delete, never on a heartbeat. A
 * deleted machine leaves no presence doc behind (in the trigger mode the machine trigger does it).
 */
export const onMachineDeleted = onDocumentDeleted({ document: "sites/{siteId}/machines/{machineId}", retry: true, ...SIZING.presence }, async (event) => {
  const { siteId, machineId } = event.params;
  if (siteId && machineId) await presenceDeps().presence.forget(siteId, machineId);
});
