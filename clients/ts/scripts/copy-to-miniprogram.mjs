// Puts the CommonJS build where the mini-program sample requires it from, as the WeChat
// devtools' "构建 npm" would (this package's `miniprogram` field names dist/cjs):
// clients/miniprogram/miniprogram/miniprogram_npm/@minimart/client.
import { cpSync, existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const from = join(root, "dist/cjs");
const to = join(root, "../miniprogram/miniprogram/miniprogram_npm/@minimart/client");
if (!existsSync(join(from, "index.js"))) {
  console.error("copy-to-miniprogram: dist/cjs is not built; run npm run build first");
  process.exit(1);
}
rmSync(to, { recursive: true, force: true });
// Only the JavaScript: the mini-program runs .js files, and its type-check, if any, is the
// devtools' own.
cpSync(from, to, { recursive: true, filter: (path) => !path.endsWith(".d.ts") });
console.log(`copy-to-miniprogram: ${from} -> ${to}`);
