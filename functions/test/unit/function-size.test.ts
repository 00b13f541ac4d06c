import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import ts from "typescript";

// Every function of the deployed code and of the console reads in one screen (80 lines at most):
// a longer one is split into named steps, the way `deliver()` is.

const ROOT = resolve(__dirname, "../../..");
const TREES = ["functions/src", "console/src"];
const MAX_LINES = 80;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.ts$/.test(name) ? [path] : [];
  });
}

/** Each function-like node with a body, as `file:line name (lines)`, longer than `max` lines. */
function longFunctions(fileName: string, text: string, max: number): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const lines = lineOf(node.end) - lineOf(node.getStart(source)) + 1;
      const named = node.name ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name : undefined);
      if (lines > max) found.push(`${fileName}:${lineOf(node.getStart(source))} ${named?.getText(source) ?? "(anonymous)"} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe("function size", () => {
  it("finds a function over the limit, nested and anonymous ones too", () => {
    const body = Array.from({ length: 85 }, (_, i) => `  const v${i} = ${i};`).join("\n");
    const text = `export function long() {\n${body}\n}\nconst short = () => 1;\nconst outer = () => [1].map(() => {\n${body}\n});\n`;
    expect(longFunctions("x.ts", text, MAX_LINES)).toEqual(["x.ts:1 long (87 lines)", "x.ts:89 outer (87 lines)", "x.ts:89 (anonymous) (87 lines)"]);
    expect(longFunctions("y.ts", "function f() {\n  return 1;\n}\n", MAX_LINES)).toEqual([]);
  });

  it(`no function in ${TREES.join(" or ")} is over ${MAX_LINES} lines`, () => {
    const files = TREES.flatMap((tree) => sources(join(ROOT, tree)));
    expect(files.length).toBeGreaterThan(50);
    const long = files.flatMap((file) => longFunctions(relative(ROOT, file), readFileSync(file, "utf8"), MAX_LINES));
    expect(long).toEqual([]);
  });
});
