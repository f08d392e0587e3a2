import type { TestProject } from "vitest/node";
import type { CriImageSummary } from "./cri-images.js";
import { startCriRegistry } from "./cri-registry.js";
import { requireRoot } from "./tools.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** 127.0.0.1:<port> of the run's CRI registry; writeCriHostsDir(dir, it) points a runtime there. */
    criRegistry: string;
    /** The CRI images pushed there: references, digests, sizes. */
    criImages: CriImageSummary;
  }
}

/**
 * A vitest globalSetup: one CRI registry (startCriRegistry) for every test file of the run, read
 * with `inject("criRegistry")` and `inject("criImages")`. A package's test/global-setup.ts is
 * `export default criRegistrySetup()`.
 */
export function criRegistrySetup() {
  return async function setup(project: TestProject): Promise<() => Promise<void>> {
    requireRoot("the CRI registry and the runtime under test need it");
    const registry = await startCriRegistry();
    project.provide("criRegistry", registry.host);
    project.provide("criImages", registry.images);
    return () => registry.stop();
  };
}
