import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { exec, requireTool } from "./tools.js";

export const repoRoot = resolve(import.meta.dirname, "../../../..");
export const imagesDir = join(repoRoot, ".fixtures/images");

export interface FixtureImage {
  readonly digest: string;
  readonly mediaType: string;
  readonly config?: string;
  readonly layers?: ReadonlyArray<{ digest: string; size: number }>;
  readonly manifests?: ReadonlyArray<{ digest: string; platform: Record<string, string> }>;
}
export type FixtureSummary = Record<"tiny" | "multi" | "tiny-multiarch", FixtureImage>;

const LAYOUTS = ["tiny", "multi", "tiny-multiarch"];

/**
 * Builds the offline fixture images when they are missing. Present ones are used as they are:
 * the script rewrites its work files even when it keeps the layouts, and other packages' test
 * runs share the directory.
 */
export async function ensureFixtureImages(): Promise<FixtureSummary> {
  const summary = join(imagesDir, "fixtures.json");
  if (existsSync(summary) && LAYOUTS.every((l) => existsSync(join(imagesDir, l, "index.json")))) {
    return JSON.parse(readFileSync(summary, "utf8")) as FixtureSummary;
  }
  const shared = resolve(process.env["BERTH_FIXTURES"] ?? join(repoRoot, "../shared/fixtures"));
  const script = join(shared, "build-images.sh");
  if (!existsSync(script)) throw new Error(`fixture script ${script} not found (set BERTH_FIXTURES to ../shared/fixtures)`);
  for (const [tool, pkg] of [["jq", "jq"], ["openssl", "openssl"], ["gzip", "gzip"]] as const) await requireTool(tool, pkg);
  await exec("bash", [script, imagesDir], { maxBuffer: 64 << 20 });
  return JSON.parse(readFileSync(summary, "utf8")) as FixtureSummary;
}

/** A blob of a fixture layout, as bytes. */
export function fixtureBlob(image: string, digest: string): Buffer {
  return readFileSync(join(imagesDir, image, "blobs", "sha256", digest.replace(/^sha256:/, "")));
}
