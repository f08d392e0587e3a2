import type { TestProject } from "vitest/node";
import { ensureFixtureImages, type FixtureSummary } from "./support/fixtures.js";
import { startRegistry } from "./support/registry.js";
import { requireRoot } from "./support/tools.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** 127.0.0.1:<port> of the shared fixture registry (plain HTTP, no auth). */
    fixtureRegistry: string;
    fixtures: FixtureSummary;
  }
}

/** One real registry holding tiny, tiny-multiarch and multi (pushed by skopeo) for every test file. */
export default async function setup(project: TestProject) {
  requireRoot();
  const fixtures = await ensureFixtureImages();
  const registry = await startRegistry({ images: ["tiny", "tiny-multiarch", "multi"] });
  project.provide("fixtureRegistry", registry.host);
  project.provide("fixtures", fixtures);
  return () => registry.stop();
}
