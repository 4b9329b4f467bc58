// Builds static/vendor/graphviz/wasm-graphviz-<version>.js (one minified ES module with Graphviz's
// WebAssembly embedded, so pages and node load it without a second request or a system `dot`) and
// copies the licence beside it. Run from this folder: `npm ci && node build.mjs`.
import { build } from "esbuild";
import { mkdirSync, readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "node_modules/@hpcc-js/wasm-graphviz");
const out = join(here, "..", "graphviz");
const version = JSON.parse(readFileSync(join(pkg, "package.json"))).version;
const file = join(out, `wasm-graphviz-${version}.js`);
mkdirSync(out, { recursive: true });
for (const name of readdirSync(out)) {
  if (/^wasm-graphviz-.*\.js$/.test(name)) unlinkSync(join(out, name));
}
await build({
  entryPoints: [join(here, "entry.js")],
  bundle: true,
  format: "esm",
  platform: "neutral",
  minify: true,
  target: "es2020",
  legalComments: "eof",
  outfile: file,
});
// The wrapper's licence, and a word on the Graphviz compiled into it (Graphviz's own licence).
const { Graphviz } = await import(file);
const graphviz = (await Graphviz.load()).version();
writeFileSync(join(out, "LICENSE"), [
  `wasm-graphviz-${version}.js bundles @hpcc-js/wasm-graphviz ${version} (Apache License 2.0, below),`,
  `which embeds Graphviz ${graphviz} compiled to WebAssembly. Graphviz is distributed under the`,
  "Eclipse Public License 2.0: https://graphviz.org/license/ and",
  "https://www.eclipse.org/legal/epl-2.0/ (source: https://gitlab.com/graphviz/graphviz).",
  "",
  "-".repeat(100),
  "",
  readFileSync(join(pkg, "LICENSE"), "utf8"),
].join("\n"));
console.log(`built wasm-graphviz-${version}.js (${statSync(file).size} bytes)`);
