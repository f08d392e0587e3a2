// Bundles the CLI (dist/cli-process.js and everything it imports) into dist/bundle/: one file
// instead of ~300 modules. berth is a short-lived process, ctr's Go counterpart starts in
// ~10 ms, and most of berth's start-up was the module loader: `berth --help` took ~270 ms
// unbundled and ~120 ms bundled here, and every command (a pull's total included) pays it.
// dist/bin/berth.js uses the bundle when it exists and the plain modules otherwise.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { rolldown } from "rolldown";

const dist = join(import.meta.dirname, "..", "dist");
const out = join(dist, "bundle");
await rm(out, { recursive: true, force: true });
const bundle = await rolldown({
  input: join(dist, "cli-process.js"),
  platform: "node",
  // The addon is found relative to its own package; it stays a package import.
  external: ["@berth/native"],
  treeshake: true,
  logLevel: "warn",
});
await bundle.write({ dir: out, format: "esm", entryFileNames: "[name].js", chunkFileNames: "[name]-[hash].js" });
await bundle.close();
