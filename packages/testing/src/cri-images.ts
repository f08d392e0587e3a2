import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { lockBuild, repoRoot } from "./fixtures.js";
import { exec, requireTool } from "./tools.js";

/** The shared fixtures directory (../shared/fixtures beside the checkout, or BERTH_FIXTURES). */
export const sharedFixturesDir: string = resolve(process.env["BERTH_FIXTURES"] ?? join(repoRoot, "../shared/fixtures"));

/** Where buildCriImages() keeps the CRI images: `.fixtures/cri-images` (or BERTH_CRI_IMAGES). */
export const criImagesDir: string = resolve(process.env["BERTH_CRI_IMAGES"] ?? join(repoRoot, ".fixtures/cri-images"));

/** The sandbox image critest v1.26.1 expects (containerd 1.6's default); built as a small C pause. */
export const CRI_SANDBOX_IMAGE = "registry.k8s.io/pause:3.6";

export interface CriImage {
  readonly manifest: string;
  readonly config: string;
  readonly layers: ReadonlyArray<{ digest: string; size: number }>;
  readonly compressedBytes: number;
}

/** images.json of build-cri-images.sh, plus where the layout is. */
export interface CriImageSummary {
  /** The directory built: `oci/` (one OCI layout holding every image) and `images.json`. */
  readonly dir: string;
  /** The OCI layout; each image is tagged with its original reference (org.opencontainers.image.ref.name). */
  readonly layout: string;
  readonly busybox: string;
  readonly architecture: string;
  /** Original reference (`registry.k8s.io/…`, `gcr.io/…`) → digests and sizes. */
  readonly images: Readonly<Record<string, CriImage>>;
}

export interface BuildCriImagesOptions {
  /** Default criImagesDir. */
  readonly dir?: string;
  /** Debian's busybox .deb to build from. Default: the one a previous build fetched into criImagesDir/debs, else apt-get download. */
  readonly busyboxDeb?: string;
}

const complete = (dir: string) => existsSync(join(dir, "oci", "index.json")) && existsSync(join(dir, "images.json"));

function readSummary(dir: string): CriImageSummary {
  const parsed = JSON.parse(readFileSync(join(dir, "images.json"), "utf8")) as Omit<CriImageSummary, "dir" | "layout">;
  return { ...parsed, dir, layout: join(dir, "oci") };
}

/**
 * The images critest pulls, built offline by ../shared/fixtures/cri/build-cri-images.sh, once.
 * A present build is used as it is. Otherwise one caller builds while the others (other test
 * processes too) wait on a lock directory beside the cache; the script writes a private temp
 * dir that is renamed into place, so a reader never sees half a layout, nor one left by a
 * build that was killed.
 */
export async function buildCriImages(opts: BuildCriImagesOptions = {}): Promise<CriImageSummary> {
  const dir = resolve(opts.dir ?? criImagesDir);
  if (complete(dir)) return readSummary(dir);
  const script = join(sharedFixturesDir, "cri", "build-cri-images.sh");
  if (!existsSync(script)) throw new Error(`${script} not found (set BERTH_FIXTURES to the shared fixtures directory)`);
  for (const [tool, pkg] of [["gcc", "gcc libc6-dev"], ["jq", "jq"], ["dpkg-deb", "dpkg"], ["gzip", "gzip"]] as const) {
    await requireTool(tool, pkg);
  }
  const release = await lockBuild(`${dir}.lock`);
  try {
    if (!complete(dir)) await buildInto(dir, script, opts.busyboxDeb ?? (await cachedBusyboxDeb()));
  } finally {
    await release();
  }
  return readSummary(dir);
}

async function buildInto(dir: string, script: string, busyboxDeb: string | undefined): Promise<void> {
  // No ':' in the name: skopeo's oci: transport would split the path there.
  const scratch = await mkdtemp(join(dirname(dir), `.${basename(dir)}.build-`));
  try {
    const env = busyboxDeb ? { ...process.env, BUSYBOX_DEB: busyboxDeb } : process.env;
    await exec("bash", [script, scratch], { maxBuffer: 64 << 20, env });
    if (!complete(scratch)) throw new Error(`${script} ran but wrote no complete layout in ${scratch}`);
    // Only an incomplete build can be in the way here (a complete one returned earlier).
    await rm(dir, { recursive: true, force: true });
    await rename(scratch, dir);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The busybox package an earlier build of the default cache fetched, so a rebuild needs no network. */
async function cachedBusyboxDeb(): Promise<string | undefined> {
  const debs = join(criImagesDir, "debs");
  const names = await readdir(debs).catch(() => [] as string[]);
  const deb = names.find((n) => n.startsWith("busybox_") && n.endsWith(".deb"));
  return deb && join(debs, deb);
}
