import { z } from "zod";
import { ComposeInputError, lineOf } from "./rules-text";

/** The shape `firebase deploy --only firestore:indexes` reads, as far as composing needs it. */
const indexField = z
  .object({ fieldPath: z.string().min(1), order: z.enum(["ASCENDING", "DESCENDING"]).optional(), arrayConfig: z.literal("CONTAINS").optional() })
  .passthrough();
const index = z
  .object({ collectionGroup: z.string().min(1), queryScope: z.enum(["COLLECTION", "COLLECTION_GROUP"]), fields: z.array(indexField).min(1) })
  .passthrough();
const fieldOverride = z
  .object({ collectionGroup: z.string().min(1), fieldPath: z.string().min(1), ttl: z.boolean().optional(), indexes: z.array(z.unknown()).optional() })
  .passthrough();
const indexFile = z.object({ indexes: z.array(index).default([]), fieldOverrides: z.array(fieldOverride).default([]) }).passthrough();

export type IndexFile = z.infer<typeof indexFile>;
type FieldOverride = z.infer<typeof fieldOverride>;

/** JSON.parse's message names a position; turn it into the line a person can open. */
export function parseIndexFile(text: string, file: string): IndexFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    const lineNumber = /line (\d+)/.exec(message);
    const line = position ? lineOf(text, Number(position[1])) : lineNumber ? Number(lineNumber[1]) : 1;
    throw new ComposeInputError(file, line, `invalid JSON: ${message.replace(/^JSON\.parse: /, "")}`);
  }
  const parsed = indexFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.join(".") || "(top level)";
    throw new ComposeInputError(file, lineOfPath(text, issue.path), `not a Firestore index file: ${where}: ${issue.message}`);
  }
  return parsed.data;
}

/** Best effort: the line where the offending entry's first key appears. */
function lineOfPath(text: string, path: readonly PropertyKey[]): number {
  const key = [...path].reverse().find((p): p is string => typeof p === "string");
  if (!key) return 1;
  const at = text.indexOf(`"${key}"`);
  return at < 0 ? 1 : lineOf(text, at);
}

const indexKey = (i: IndexFile["indexes"][number]) =>
  JSON.stringify([i.collectionGroup, i.queryScope, i.fields.map((f) => [f.fieldPath, f.order ?? null, f.arrayConfig ?? null])]);
const overrideKey = (o: FieldOverride) => `${o.collectionGroup}/${o.fieldPath}`;
const sameOverride = (a: FieldOverride, b: FieldOverride) => JSON.stringify(a) === JSON.stringify(b);

export interface IndexComposition {
  file: IndexFile;
  added: { indexes: number; fieldOverrides: number };
  /** Field overrides both files set differently: the host's is kept. */
  clashes: { key: string; host: FieldOverride; pipeline: FieldOverride }[];
  /** The pipeline's field overrides on collections the host uses (its indexes, overrides or rules name them). */
  sharedCollections: FieldOverride[];
}

/**
 * Every index and field override of the host, then the pipeline's that the host lacks. An
 * override both set differently keeps the host's and is reported: a deploy must never change
 * how the host's own queries are served.
 */
export function composeIndexes(host: IndexFile, pipeline: IndexFile, hostRuleCollections: ReadonlySet<string> = new Set()): IndexComposition {
  const hostIndexes = new Set(host.indexes.map(indexKey));
  const newIndexes = pipeline.indexes.filter((i) => !hostIndexes.has(indexKey(i)));
  const hostOverrides = new Map(host.fieldOverrides.map((o) => [overrideKey(o), o]));
  const hostCollections = new Set([
    ...host.indexes.map((i) => i.collectionGroup),
    ...host.fieldOverrides.map((o) => o.collectionGroup),
    ...hostRuleCollections,
  ]);
  const clashes: IndexComposition["clashes"] = [];
  const newOverrides: FieldOverride[] = [];
  for (const o of pipeline.fieldOverrides) {
    const theirs = hostOverrides.get(overrideKey(o));
    if (!theirs) newOverrides.push(o);
    else if (!sameOverride(theirs, o)) clashes.push({ key: overrideKey(o), host: theirs, pipeline: o });
  }
  return {
    file: { ...host, indexes: [...host.indexes, ...newIndexes], fieldOverrides: [...host.fieldOverrides, ...newOverrides] },
    added: { indexes: newIndexes.length, fieldOverrides: newOverrides.length },
    clashes,
    sharedCollections: newOverrides.filter((o) => hostCollections.has(o.collectionGroup)),
  };
}
