// Bundles one ESM entry of a package's dist/ into a directory with rolldown, for start-up time:
// a short-lived Node process spends most of its start loading hundreds of modules.
//   node ../../scripts/bundle-entry.mjs dist/ENTRY.js dist/bundle
// The native addon stays a package import: it is found relative to its own package.
import { rm } from "node:fs/promises";
import { resolve } from "node:path";
import { rolldown } from "rolldown";

const [entry, outDir] = process.argv.slice(2);
if (!entry || !outDir) {
  console.error("usage: bundle-entry.mjs ENTRY.js OUT_DIR");
  process.exit(2);
}
const out = resolve(outDir);
await rm(out, { recursive: true, force: true });
const bundle = await rolldown({ input: resolve(entry), platform: "node", external: ["@berth/native"], treeshake: true, logLevel: "warn" });
await bundle.write({ dir: out, format: "esm", entryFileNames: "[name].js", chunkFileNames: "[name]-[hash].js" });
await bundle.close();
