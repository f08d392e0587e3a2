import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { exec, requireTool } from "./tools.js";

/** The checkout this package lives in (the directory holding pnpm-workspace.yaml). */
export const repoRoot: string = findRepoRoot(import.meta.dirname);

/** Where the fixture layouts live; scripts/test.sh builds them there before the tests. */
export const imagesDir: string = resolve(process.env["BERTH_FIXTURE_IMAGES"] ?? join(repoRoot, ".fixtures/images"));

export type FixtureName = "tiny" | "multi" | "tiny-multiarch";

export interface FixtureImage {
  readonly digest: string;
  readonly mediaType: string;
  readonly config?: string;
  readonly layers?: ReadonlyArray<{ digest: string; size: number }>;
  readonly manifests?: ReadonlyArray<{ digest: string; platform: Record<string, string> }>;
}
export type FixtureSummary = Record<FixtureName, FixtureImage>;

const LAYOUTS: readonly FixtureName[] = ["tiny", "multi", "tiny-multiarch"];
const BUILD_WAIT_MS = 10 * 60_000;

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no pnpm-workspace.yaml above ${from}: @berth/testing must run inside the Berth checkout`);
  }
}

const complete = () => existsSync(join(imagesDir, "fixtures.json")) && LAYOUTS.every((l) => existsSync(join(imagesDir, l, "index.json")));
const readSummary = () => JSON.parse(readFileSync(join(imagesDir, "fixtures.json"), "utf8")) as FixtureSummary;

/**
 * The fixture images (../shared/fixtures/build-images.sh), located; built only when missing.
 * Present ones are used as they are: the script rewrites its work files even when it keeps the
 * layouts, and other packages' test runs read the directory meanwhile. Concurrent callers (test
 * runs of several packages) build once: one holds a lock directory, the others wait for it.
 */
export async function ensureFixtureImages(): Promise<FixtureSummary> {
  if (complete()) return readSummary();
  const shared = resolve(process.env["BERTH_FIXTURES"] ?? join(repoRoot, "../shared/fixtures"));
  const script = join(shared, "build-images.sh");
  if (!existsSync(script)) throw new Error(`fixture script ${script} not found (set BERTH_FIXTURES to the shared fixtures directory)`);
  for (const [tool, pkg] of [["jq", "jq"], ["openssl", "openssl"], ["gzip", "gzip"]] as const) await requireTool(tool, pkg);
  const release = await lockBuild(`${imagesDir}.lock`);
  try {
    if (!complete()) await exec("bash", [script, imagesDir], { maxBuffer: 64 << 20 });
  } finally {
    await release();
  }
  if (!complete()) throw new Error(`${script} ran but ${imagesDir} is still incomplete`);
  return readSummary();
}

/** A lock directory holding the owner's pid; a lock whose owner died is taken over (also used by cri-images.ts). */
export async function lockBuild(lock: string): Promise<() => Promise<void>> {
  await mkdir(dirname(lock), { recursive: true });
  const deadline = Date.now() + BUILD_WAIT_MS;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, "pid"), String(process.pid));
      return () => rm(lock, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = Number(await readFile(join(lock, "pid"), "utf8").catch(() => "0"));
    if (owner > 0 && !alive(owner)) await rm(lock, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`gave up waiting for another fixture build (lock ${lock}, pid ${owner})`);
    await sleep(250);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The OCI layout directory of a fixture image. */
export function fixtureLayout(image: FixtureName): string {
  return join(imagesDir, image);
}

/** A blob of a fixture layout, as bytes. */
export function fixtureBlob(image: FixtureName, digest: string): Buffer {
  return readFileSync(join(imagesDir, image, "blobs", "sha256", digest.replace(/^sha256:/, "")));
}
