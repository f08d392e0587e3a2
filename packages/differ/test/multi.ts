import { lstatSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { ContentStore, Mount } from "@berth/core";
import { mountAll } from "@berth/mount";
import { createWalkingDiffer } from "../src/index.js";
import { ctx, newContentStore, storeFile } from "./content.js";
import { fixtureImage, type FixtureImage } from "./fixtures.js";
import { afterThisTest, tempDir } from "./temp.js";
import { unmountAll } from "@berth/mount";

/** The multi fixture's layers stored in a fresh content store. */
export async function multiInStore(): Promise<{ image: FixtureImage; store: ContentStore }> {
  const image = await fixtureImage("multi");
  const store = await newContentStore();
  for (const l of image.layers) await storeFile(store, l.path, { mediaType: l.mediaType, digest: l.digest, size: l.size });
  return { image, store };
}

export const bindMount = (dir: string): Mount => ({ type: "bind", source: dir, options: ["rbind", "rw"] });

/** Applies every layer into one directory through bind mounts (what a first-layer snapshot gives). */
export async function applyMultiBind(): Promise<string> {
  const { image, store } = await multiInStore();
  const differ = createWalkingDiffer({ content: store });
  const root = join(await tempDir(), "rootfs");
  mkdirSync(root);
  for (const l of image.layers) {
    const applied = await differ.apply(ctx, l, [bindMount(root)]);
    expect(applied.digest).toBe(l.diffId);
  }
  return root;
}

/**
 * Applies layer i into its own directory as an overlay snapshotter lays them out (the first
 * through a bind mount, the others as overlay mounts over the ones before), then mounts the
 * stack read-only and returns that merged view and the layer directories.
 */
export async function applyMultiOverlay(): Promise<{ view: string; layers: string[] }> {
  const { image, store } = await multiInStore();
  const differ = createWalkingDiffer({ content: store });
  const base = await tempDir();
  const layers: string[] = [];
  for (const [i, l] of image.layers.entries()) {
    const fs = join(base, `${i}/fs`);
    const work = join(base, `${i}/work`);
    mkdirSync(fs, { recursive: true });
    mkdirSync(work, { recursive: true });
    const lowers = [...layers].reverse();
    const mounts: Mount[] =
      lowers.length === 0
        ? [bindMount(fs)]
        : [{ type: "overlay", source: "overlay", options: [`workdir=${work}`, `upperdir=${fs}`, `lowerdir=${lowers.join(":")}`] }];
    const applied = await differ.apply(ctx, l, mounts);
    expect(applied.digest).toBe(l.diffId);
    layers.push(fs);
  }
  const view = join(base, "view");
  mkdirSync(view);
  await mountAll([{ type: "overlay", source: "overlay", options: ["ro", `lowerdir=${[...layers].reverse().join(":")}`] }], view);
  afterThisTest(() => unmountAll(view));
  return { view, layers };
}

/** The fixture README's "what a correct unpack of multi looks like". */
export function expectMultiFacts(root: string): void {
  const p = (rel: string) => join(root, rel);
  const exists = (rel: string) => lstatSync(p(rel), { throwIfNoEntry: false }) !== undefined;
  expect(exists("data/small/d001")).toBe(false);
  expect(exists("data/small/d000/f00000.txt")).toBe(false);
  expect(exists("data/small/d000/f00001.txt")).toBe(true);
  expect(readdirSync(p("data/large")).sort()).toEqual(["random-40m.bin", "text-32m.b64"]);
  expect(readdirSync(p("data/opaque"))).toEqual(["upper-only"]);
  expect(lstatSync(p("data/dir-to-file")).isFile()).toBe(true);
  expect(readFileSync(p("data/dir-to-file"), "utf8")).toContain("now a file");
  expect(lstatSync(p("data/file-to-dir/child")).isFile()).toBe(true);
  expect(readFileSync(p("data/small/d002/f00200.txt"), "utf8")).toContain("modified in layer 5");
  const home = lstatSync(p("home/user"));
  expect([home.uid, home.gid]).toEqual([1000, 1000]);
  expect(readFileSync(p("etc/hostname"), "utf8").trim()).toBe("multi");
  // Layer 4's special files and modes.
  expect(lstatSync(p("data/modes/setuid")).mode & 0o7777).toBe(0o4755);
  expect(lstatSync(p("data/modes/sticky")).mode & 0o7777).toBe(0o1777);
  expect(lstatSync(p("data/modes/ro-dir")).mode & 0o7777).toBe(0o555);
  expect(lstatSync(p("data/modes/private")).mode & 0o7777).toBe(0o600);
  expect(lstatSync(p("data/links/dangling")).isSymbolicLink()).toBe(true);
}
