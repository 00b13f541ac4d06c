/**
 * Just enough of the Firestore rules language to compose two rulesets: comments and strings
 * are blanked (offsets and lines kept), then `service`, `match`, `function` and `allow`
 * statements are read into a tree of match blocks. Conditions are kept as text: composing
 * needs where blocks are and which paths they allow, not what the conditions compute.
 */

export class ComposeInputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
  }
}

export type RuleMethod = "get" | "list" | "create" | "update" | "delete";

export interface AllowStatement {
  methods: RuleMethod[];
  /** The condition's text, `true` for an `allow` without one. */
  condition: string;
  line: number;
}

export interface MatchBlock {
  /** The path as written, e.g. `/sites/{siteId}/machines/{machineId}`. */
  pattern: string;
  /** Segments of the whole path from the documents root, outer blocks' included. */
  segments: string[];
  line: number;
  /** Offsets of its `{` and `}` in the source. */
  open: number;
  close: number;
  allows: AllowStatement[];
  children: MatchBlock[];
}

export interface ParsedRuleset {
  text: string;
  /** The `match /databases/{database}/documents` block; its children are the document rules. */
  documents: MatchBlock;
}

const METHODS: Record<string, RuleMethod[]> = {
  read: ["get", "list"],
  write: ["create", "update", "delete"],
  get: ["get"],
  list: ["list"],
  create: ["create"],
  update: ["update"],
  delete: ["delete"],
};

/** The source with comments and string contents turned to spaces (newlines kept). */
export function blankCommentsAndStrings(text: string): string {
  const out = text.split("");
  let i = 0;
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  while (i < text.length) {
    const c = text[i];
    if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      const stop = end < 0 ? text.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
      blank(i + 1, Math.min(j, text.length));
      i = j + 1;
    } else {
      i++;
    }
  }
  return out.join("");
}

/** Throws the input error for `offset` of `text`: the file and the line a person can open. */
function failAt(text: string, file: string, offset: number, message: string): never {
  throw new ComposeInputError(file, lineOf(text, offset), message);
}

/** The 1-based line of `offset` in `text`. */
export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset && k < text.length; k++) if (text[k] === "\n") line++;
  return line;
}

/** Offset of the `}` closing the `{` at `open`, counting braces of the blanked source. */
function closingBrace(code: string, open: number): number {
  let depth = 0;
  for (let k = open; k < code.length; k++) {
    if (code[k] === "{") depth++;
    else if (code[k] === "}" && --depth === 0) return k;
  }
  return -1;
}

/** The end (offset of `;`) of a statement, outside parentheses and brackets. */
function statementEnd(code: string, from: number): number {
  let depth = 0;
  for (let k = from; k < code.length; k++) {
    const c = code[k];
    if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if ((c === ";" || c === "}") && depth <= 0) return c === ";" ? k : -1;
  }
  return -1;
}

function pathSegments(pattern: string): string[] {
  return pattern.split("/").filter((s) => s.length > 0);
}

export function parseRuleset(text: string, file: string): ParsedRuleset {
  const code = blankCommentsAndStrings(text);
  const fail = (offset: number, message: string) => failAt(text, file, offset, message);
  const service = /\bservice\s+([\w.]+)\s*\{/g.exec(code);
  if (!service) fail(firstCodeOffset(code), "not a Firestore ruleset: no `service cloud.firestore {` block");
  if (service![1] !== "cloud.firestore") fail(service!.index, `not a Firestore ruleset: \`service ${service![1]}\` (expected cloud.firestore)`);
  const serviceOpen = service!.index + service![0].length - 1;
  const serviceClose = closingBrace(code, serviceOpen);
  if (serviceClose < 0) fail(service!.index, "the service block is never closed (unbalanced braces)");
  const blocks = readBlockBody(text, code, serviceOpen, serviceClose, [], file);
  const documents = blocks.find((b) => b.pattern.replace(/\s+/g, "") === "/databases/{database}/documents");
  if (!documents) {
    const other = blocks.find((b) => /^\/databases\//.test(b.pattern));
    fail(
      other ? other.open : serviceOpen,
      "no `match /databases/{database}/documents` block in the service (the documents root must use the variable `database`)",
    );
  }
  return { text, documents: documents! };
}

function firstCodeOffset(code: string): number {
  const m = /\S/.exec(code);
  return m ? m.index : 0;
}

/** Reads the statements between `open` and `close` (exclusive): match blocks, functions, allows. */
function readBlockBody(text: string, code: string, open: number, close: number, outer: string[], file: string, allows?: AllowStatement[]): MatchBlock[] {
  const fail = (offset: number, message: string) => failAt(text, file, offset, message);
  const blocks: MatchBlock[] = [];
  let k = open + 1;
  while (k < close) {
    const rest = code.slice(k, close);
    const ws = /^\s*/.exec(rest)![0].length;
    k += ws;
    if (k >= close) break;
    const head = code.slice(k, close);
    let m: RegExpExecArray | null;
    if ((m = /^match\s+((?:[^\s{}]|\{[^}\s]*\})+)\s*\{/.exec(head))) {
      const braceAt = k + m[0].length - 1;
      const end = closingBrace(code, braceAt);
      if (end < 0 || end > close) fail(k, `\`match ${m[1]}\` is never closed (unbalanced braces)`);
      const pattern = m[1]!.trim();
      if (!pattern.startsWith("/")) fail(k, `a match path must start with "/": \`${pattern}\``);
      const segments = [...outer, ...pathSegments(pattern)];
      const block: MatchBlock = { pattern, segments, line: lineOf(text, k), open: braceAt, close: end, allows: [], children: [] };
      block.children = readBlockBody(text, code, braceAt, end, segments, file, block.allows);
      blocks.push(block);
      k = end + 1;
    } else if ((m = /^function\s+\w+\s*\([^)]*\)\s*\{/.exec(head))) {
      const braceAt = k + m[0].length - 1;
      const end = closingBrace(code, braceAt);
      if (end < 0 || end > close) fail(k, "a function body is never closed (unbalanced braces)");
      k = end + 1;
    } else if ((m = /^allow\s+([\w\s,]+?)\s*(?::\s*if\b|;)/.exec(head))) {
      if (!allows) fail(k, "`allow` outside a match block");
      const end = statementEnd(code, k);
      if (end < 0) fail(k, "an `allow` statement without its closing `;`");
      const methods = m[1]!.split(",").map((s) => s.trim());
      const unknown = methods.find((x) => !(x in METHODS));
      if (unknown !== undefined) fail(k, `unknown method \`${unknown}\` in an allow statement`);
      const ifAt = head.indexOf(":");
      const condition = m[0].endsWith(";")
        ? "true"
        : text
            .slice(k + ifAt + 1, end)
            .replace(/^\s*if\b/, "")
            .trim();
      allows!.push({ methods: [...new Set(methods.flatMap((x) => METHODS[x]!))], condition, line: lineOf(text, k) });
      k = end + 1;
    } else {
      const word = /^\S+/.exec(head)![0];
      fail(k, `unexpected \`${word.slice(0, 40)}\` (expected match, function or allow)`);
    }
  }
  return blocks;
}

/** Every match block under `block`, depth first. */
export function allBlocks(block: MatchBlock): MatchBlock[] {
  return block.children.flatMap((c) => [c, ...allBlocks(c)]);
}

/** Collection names the ruleset's match paths spell out (the literal segments at collection positions). */
export function collectionNames(documents: MatchBlock): Set<string> {
  const names = allBlocks(documents).flatMap((b) => b.segments.slice(documents.segments.length).filter((seg, i) => i % 2 === 0 && !seg.startsWith("{")));
  return new Set(names);
}

/**
 * Whether a match path covers a concrete document path: `{x}` takes one segment, `{x=**}` the
 * rest (none or more, as in rules version 2).
 */
export function patternMatches(patternSegments: string[], docSegments: string[]): boolean {
  for (let i = 0; i < patternSegments.length; i++) {
    const p = patternSegments[i]!;
    if (/^\{\w+=\*\*\}$/.test(p)) return true;
    const d = docSegments[i];
    if (d === undefined) return false;
    if (/^\{\w+\}$/.test(p)) continue;
    if (p !== d) return false;
  }
  return patternSegments.length === docSegments.length;
}

/** A condition that can never hold as written (`false`), as opposed to one that may. */
export function neverHolds(condition: string): boolean {
  return condition.replace(/\s+/g, "") === "false";
}
