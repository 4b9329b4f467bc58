// Builds static/vendor/codemirror/codemirror-<version>.js (one minified ES module) and copies the
// licence beside it. Run from this folder: `npm ci && node build.mjs`.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "codemirror");
const version = JSON.parse(readFileSync(join(here, "node_modules/codemirror/package.json"))).version;
mkdirSync(out, { recursive: true });
for (const name of readdirSync(out)) {
  if (/^codemirror-.*\.js$/.test(name)) unlinkSync(join(out, name));
}
await build({
  entryPoints: [join(here, "entry.js")],
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2020",
  legalComments: "eof",
  outfile: join(out, `codemirror-${version}.js`),
});
copyFileSync(join(here, "node_modules/codemirror/LICENSE"), join(out, "LICENSE"));
console.log(`built codemirror-${version}.js`);
