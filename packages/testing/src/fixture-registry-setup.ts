import type { TestProject } from "vitest/node";
import { ensureFixtureImages, type FixtureName, type FixtureSummary } from "./fixtures.js";
import { startRegistry } from "./registry.js";
import { requireRoot } from "./tools.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** 127.0.0.1:<port> of the run's fixture registry (plain HTTP, no auth). */
    fixtureRegistry: string;
    /** fixtures.json: digests and sizes of the fixture images. */
    fixtures: FixtureSummary;
  }
}

/**
 * A vitest globalSetup: one real registry holding `images` (pushed by skopeo) for every test
 * file of the run, read with `inject("fixtureRegistry")` and `inject("fixtures")`. A package's
 * test/global-setup.ts is `export default fixtureRegistrySetup([...])`.
 */
export function fixtureRegistrySetup(images: readonly FixtureName[] = ["tiny", "tiny-multiarch", "multi"]) {
  return async function setup(project: TestProject): Promise<() => Promise<void>> {
    requireRoot("the fixture registry and the stores under test need it");
    const fixtures = await ensureFixtureImages();
    const registry = await startRegistry({ images });
    project.provide("fixtureRegistry", registry.host);
    project.provide("fixtures", fixtures);
    return () => registry.stop();
  };
}
