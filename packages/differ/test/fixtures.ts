import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

export interface FixtureLayer {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  /** The blob in the OCI layout. */
  readonly path: string;
  /** From the image config: the digest of the uncompressed tar. */
  readonly diffId: string;
}

export interface FixtureImage {
  /** The OCI layout directory. */
  readonly layout: string;
  readonly layers: readonly FixtureLayer[];
}

const repo = resolve(import.meta.dirname, "../../..");
/** Shared with the benchmarks: built once, kept across runs (the script is idempotent). */
export const FIXTURE_IMAGES = join(repo, ".fixtures/images");

let built: Promise<void> | undefined;

/** Builds the fixture images if needed (about 20 s the first time), as bench does. */
export function buildFixtures(): Promise<void> {
  built ??= (async () => {
    const scripts = resolve(process.env.BERTH_FIXTURES ?? join(repo, "../shared/fixtures"));
    const script = join(scripts, "build-images.sh");
    if (!existsSync(script)) {
      throw new Error(`fixture script ${script} not found: expected ../shared/fixtures beside the repository, or set BERTH_FIXTURES`);
    }
    mkdirSync(FIXTURE_IMAGES, { recursive: true });
    await promisify(execFile)("bash", [script, FIXTURE_IMAGES], { maxBuffer: 64 * 1024 * 1024 });
  })();
  return built;
}

/** An image from the fixture layouts ("tiny", "multi"), with its layers in order. */
export async function fixtureImage(name: string): Promise<FixtureImage> {
  await buildFixtures();
  const layout = join(FIXTURE_IMAGES, name);
  const blob = (digest: string) => join(layout, "blobs/sha256", digest.replace(/^sha256:/, ""));
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), "utf8"));
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), "utf8"));
  const layers = (manifest.layers as { digest: string; size: number; mediaType: string }[]).map((l, i) => ({
    digest: l.digest,
    size: l.size,
    mediaType: l.mediaType,
    path: blob(l.digest),
    diffId: config.rootfs.diff_ids[i] as string,
  }));
  return { layout, layers };
}
