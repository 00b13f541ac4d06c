import { composeIndexes, parseIndexFile, type IndexComposition } from "./indexes";
import { conflictReport, findConflicts, type Conflict } from "./conflicts";
import { collectionNames, parseRuleset } from "./rules-text";

/** The functions' codebase in every deploy of this repository: never the host's "default". */
export const CODEBASE = "owlette-webhooks";

export interface ComposeInput {
  hostRules: { text: string; file: string };
  hostIndexes: { text: string; file: string };
  pipelineRules: { text: string; file: string };
  pipelineIndexes: { text: string; file: string };
  /** The functions source folder, relative to the output folder. */
  functionsSource: string;
}

export interface Composition {
  files: Record<"firestore.rules" | "firestore.indexes.json" | "firebase.json" | "conflicts.txt", string>;
  conflicts: Conflict[];
  indexes: IndexComposition;
  blocking: Conflict[];
}

const BEGIN = "// ==== owlette-webhooks pipeline: added by `npm run host:compose`; edit firestore.host.rules, not this ====";
const END = "// ==== end of owlette-webhooks pipeline ====";

/**
 * The host's ruleset with the pipeline's host-mode rules inside its documents block, the host's
 * indexes plus the pipeline's, and a firebase.json that deploys them with the functions under
 * their own codebase. Everything is parsed before anything is returned: bad input throws a
 * ComposeInputError naming the file and line.
 */
export function compose(input: ComposeInput): Composition {
  const host = parseRuleset(input.hostRules.text, input.hostRules.file);
  const ours = parseRuleset(input.pipelineRules.text, input.pipelineRules.file);
  const hostIndexes = parseIndexFile(input.hostIndexes.text, input.hostIndexes.file);
  const ourIndexes = parseIndexFile(input.pipelineIndexes.text, input.pipelineIndexes.file);

  const previous = host.text.indexOf(BEGIN);
  if (previous >= 0) {
    throw new Error(
      `${input.hostRules.file} already holds the pipeline's rules (line ${host.text.slice(0, previous).split("\n").length}): compose from the host's own ruleset`,
    );
  }
  const body = ours.text.slice(ours.documents.open + 1, ours.documents.close).replace(/^\n+|\s+$/g, "");
  const close = host.documents.close;
  const lineStart = host.text.lastIndexOf("\n", close - 1) + 1;
  const insertAt = /^\s*$/.test(host.text.slice(lineStart, close)) ? lineStart : close;
  const rules = `${host.text.slice(0, insertAt)}\n    ${BEGIN}\n${body}\n    ${END}\n${host.text.slice(insertAt)}`;
  // The composed text must still read as one ruleset with the host's documents block intact.
  parseRuleset(rules, "composed firestore.rules");

  const conflicts = findConflicts(host.documents);
  const indexes = composeIndexes(hostIndexes, ourIndexes, collectionNames(host.documents));
  const firebaseJson = {
    firestore: { rules: "firestore.rules", indexes: "firestore.indexes.json" },
    functions: [
      {
        source: input.functionsSource,
        codebase: CODEBASE,
        ignore: ["node_modules", ".git", "src", "test", "*.log", "tsconfig.json"],
        predeploy: ['npm --prefix "$RESOURCE_DIR" run build'],
      },
    ],
  };
  return {
    files: {
      "firestore.rules": rules,
      "firestore.indexes.json": JSON.stringify(indexes.file, null, 2) + "\n",
      "firebase.json": JSON.stringify(firebaseJson, null, 2) + "\n",
      "conflicts.txt": conflictReport(conflicts, input.hostRules.file) + indexReport(indexes),
    },
    conflicts,
    indexes,
    blocking: conflicts.filter((c) => c.guard.severity === "blocking"),
  };
}

function indexReport(i: IndexComposition): string {
  const lines = [
    "",
    `Indexes: the host's ${i.file.indexes.length - i.added.indexes} kept, ${i.added.indexes} of the pipeline's added; field overrides: ${i.file.fieldOverrides.length - i.added.fieldOverrides} kept, ${i.added.fieldOverrides} added.`,
  ];
  for (const c of i.clashes) {
    lines.push(`[warning] field override ${c.key}: the host's is kept (${JSON.stringify(c.host)}), the pipeline's differs (${JSON.stringify(c.pipeline)})`);
  }
  for (const o of i.sharedCollections) {
    const what = o.ttl
      ? "a TTL policy"
      : Array.isArray(o.indexes) && o.indexes.length === 0
        ? "no single-field indexes (exempted)"
        : "its own single-field indexes";
    lines.push(
      `[note] field override ${o.collectionGroup}/${o.fieldPath} added on a collection the host uses: ${what}; host queries on ${o.fieldPath} are served as that says`,
    );
  }
  return lines.join("\n") + "\n";
}
