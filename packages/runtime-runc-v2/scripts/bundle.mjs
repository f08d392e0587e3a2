// Bundles the shim binary's three paths (start, delete, the server) from dist/main.js into
// dist/bundle/: one file per path instead of ~250 modules. The shim starts for every container
// group and containerd waits for it, so this is on the path of every `ctr run`: loading the
// server takes ~40 ms bundled against ~150 ms unbundled, and ~5 MiB less memory stays with the
// long-running shim (fewer module records and unused protobuf descriptors left out).
// dist/bin/shim.js uses the bundle when it exists and the plain modules otherwise.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { rolldown } from "rolldown";

const dist = join(import.meta.dirname, "..", "dist");
const out = join(dist, "bundle");
await rm(out, { recursive: true, force: true });
const bundle = await rolldown({
  input: join(dist, "main.js"),
  platform: "node",
  // The addon is found relative to its own package; it stays a package import.
  external: ["@berth/native"],
  treeshake: true,
  logLevel: "warn",
});
await bundle.write({ dir: out, format: "esm", entryFileNames: "[name].js", chunkFileNames: "[name]-[hash].js" });
await bundle.close();
