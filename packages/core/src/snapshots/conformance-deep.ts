import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { assertTree, writeFiles } from "./conformance-fs.js";
import { commitLayer, defineCase, withMounted } from "./conformance-harness.js";

export const DEEP_CHAIN_CASE = "deep-chain";
export const DEEP_CHAIN_LAYERS = 200;

/**
 * Deep images: 200 committed layers, more than containerd's overlay mounts take (its lowerdir
 * list outgrows the kernel's one-page mount options near 128 layers). Most layers are empty;
 * a few write, shadow or delete files so the order of the whole chain shows in the result.
 * Optional by id only (DEEP_CHAIN_CASE), for backends with a documented lower limit.
 */
export const deepChainCase = defineCase(
  DEEP_CHAIN_CASE,
  `a ${DEEP_CHAIN_LAYERS}-deep chain mounts, active and as a view, and shows the bottom layer's file`,
  async (h) => {
    const { snapshotter: s, ctx } = h;
    const top = DEEP_CHAIN_LAYERS - 1;
    const layerName = (i: number) => `layer-${i}`;
    const writes: Record<number, (dir: string) => Promise<void>> = {
      0: (dir) => writeFiles(dir, { bottom: "layer 0\n", shadowed: "0\n", doomed: "0\n" }),
      100: (dir) => writeFiles(dir, { middle: "layer 100\n" }),
      150: (dir) => rm(join(dir, "doomed")),
      [top]: (dir) => writeFiles(dir, { shadowed: `${top}\n` }),
    };
    for (let i = 0; i <= top; i++) {
      await commitLayer(h, layerName(i), i === 0 ? "" : layerName(i - 1), writes[i]);
    }
    assert.equal((await s.stat(ctx, layerName(top))).parent, layerName(top - 1));

    const expected = { bottom: "file:layer 0\n", middle: "file:layer 100\n", shadowed: `file:${top}\n` };
    await withMounted(h, await s.view(ctx, "deep-view", layerName(top)), (dir) =>
      assertTree(dir, expected, `a view over ${DEEP_CHAIN_LAYERS} layers`),
    );
    await withMounted(h, await s.prepare(ctx, "deep-active", layerName(top)), async (dir) => {
      await assertTree(dir, expected, `an active snapshot over ${DEEP_CHAIN_LAYERS} layers`);
      await writeFiles(dir, { top: "top\n" });
      await assertTree(dir, { ...expected, top: "file:top\n" }, `an active snapshot over ${DEEP_CHAIN_LAYERS} layers after a write`);
    });
  },
  true,
);
