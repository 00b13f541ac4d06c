/**
 * The triggers' handlers, run in-process by the bench and its cost harnesses (functions/test/support): the
 * other half of the scripts' seam (seam.ts), apart so that loading the CLI does not load them.
 */
export { handleMachineWrite, MACHINE_FIELDS } from "./triggers/on-machine-written";
export { handleProcessWrite } from "./triggers/on-process-written";
export { handleLogCreated } from "./triggers/on-log-created";
export { handlePresenceWrite } from "./triggers/on-presence-written";
export { runSweep } from "./pipeline/sweep-pass";
export { presencePass } from "./pipeline/presence-pass";
export { onDocumentWrittenLean } from "./triggers/lean-document-trigger";
export { toAgentWrite, type AgentWrite } from "./triggers/agent-write";
export { readDocumentEvent } from "./domain/document-wire";
