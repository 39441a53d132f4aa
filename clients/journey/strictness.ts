// The journey is only worth something if it trusts nothing but the generated types:
// fails on any `any` (written or inferred), any cast (`as`, `<T>x`) and any non-null
// assertion (`x!`) in the files named. tsc's strict mode cannot say this on its own.
// Usage: node dist/strictness.js FILE.ts...   (scripts/journey names every .ts here)
import ts from "typescript";

const files = process.argv.slice(2);
// The same program tsc checks, from tsconfig.json.
const config = ts.getParsedCommandLineOfConfigFile("tsconfig.json", {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n")); },
});
if (!config) throw new Error("no tsconfig.json");
const program = ts.createProgram(config.fileNames, config.options);
const checker = program.getTypeChecker();
const found: string[] = [];

for (const file of files) {
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`no such file: ${file}`);
  const report = (node: ts.Node, what: string) => {
    const { line, character } = source.getLineAndCharacterOfPosition(node.getStart());
    found.push(`${file}:${line + 1}:${character + 1}: ${what}: ${node.getText().slice(0, 60)}`);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) report(node, "cast");
    else if (ts.isNonNullExpression(node)) report(node, "non-null assertion");
    else if (node.kind === ts.SyntaxKind.AnyKeyword) report(node, "`any` written");
    // A name or member typed `any` (an untyped JSON value bound without `unknown`, an
    // `Array.isArray` narrowing to `any[]`...). A call whose `any` result is bound to an
    // `unknown` name is fine: the name is what is checked.
    else if (
      (ts.isIdentifier(node) || ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) &&
      !ts.isTypePredicateNode(node.parent) && !ts.isImportSpecifier(node.parent) &&
      !ts.isTypeReferenceNode(node.parent) && !ts.isQualifiedName(node.parent) &&
      checker.getTypeAtLocation(node).flags & ts.TypeFlags.Any
    ) report(node, "typed `any`");
    ts.forEachChild(node, visit);
  };
  visit(source);
}
for (const f of found) console.log(f);
if (found.length > 0) {
  console.log(`${found.length} use(s) of any, casts or non-null assertions`);
  process.exitCode = 1;
}
