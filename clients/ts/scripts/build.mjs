// Builds dist/esm (import) and dist/cjs (require: Node's CommonJS and WeChat mini-programs,
// whose `miniprogram` field in package.json points here), after type-checking test/types.ts,
// the compile-time tests of the typed calls.
import { spawnSync } from "node:child_process";
import { copyFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = join(root, "node_modules/typescript/bin/tsc");

function run(project) {
  const result = spawnSync(process.execPath, [tsc, "-p", join(root, project)], { stdio: "inherit" });
  if (result.status !== 0) {
    process.exit(result.status ?? 1);
  }
}

rmSync(join(root, "dist"), { recursive: true, force: true });
run("tsconfig.typetest.json");
run("tsconfig.json");
run("tsconfig.cjs.json");
// tsc does not copy declaration files it is given; the emitted .d.ts files import this one.
for (const dir of ["esm", "cjs"]) {
  copyFileSync(join(root, "src/schema.d.ts"), join(root, "dist", dir, "schema.d.ts"));
}
// The package is "type": "module"; this marks the CommonJS build as such for Node.
writeFileSync(join(root, "dist/cjs/package.json"), '{ "type": "commonjs" }\n');
