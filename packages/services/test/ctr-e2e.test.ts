// End to end: the services over the real stores — @berth/content-local's blob store under
// @berth/metadata-lmdb's namespaced metadata — in an in-process daemon, driven by Debian's
// ctr. The same scenario as ctr-memory.test.ts, with a 200 MiB blob.
import { isPluginRegistration, type PluginRegistration } from "@berth/core";
import { describeCtrScenario } from "./ctr-scenario.js";

/** The registration of `typeUri` a package exports; fails, naming what is missing, if none. */
async function exportedPlugin(pkg: string, typeUri: string): Promise<PluginRegistration> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pkg)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${pkg} cannot be imported (is it built? run its tsc -p tsconfig.json): ${(err as Error).message}`);
  }
  const found = Object.values(mod).filter(isPluginRegistration).filter((r) => r.type.uri === typeUri);
  if (found.length !== 1) {
    throw new Error(
      `${pkg} must export exactly one ${typeUri} plugin registration for this end-to-end test; it exports ${found.length}` +
        ` (exports: ${Object.keys(mod).join(", ") || "none"}). The real store is not ready yet.`,
    );
  }
  return found[0]!;
}

describeCtrScenario("ctr against the services over content-local and metadata-lmdb", {
  storePlugins: async () => [
    await exportedPlugin("@berth/content-local", "io.containerd.content.v1"),
    await exportedPlugin("@berth/metadata-lmdb", "io.containerd.metadata.v1"),
  ],
  blobSize: 200 << 20,
});
