import { randomBytes } from "node:crypto";
import { ensureFixtureImages, importFixture, startPrivateContainerd, type Ctr } from "@berth/testing";

export const TINY = "berth.test/tiny:latest";

export interface ContainerdWithTiny {
  readonly address: string;
  /** A namespace of the test's own, holding the tiny fixture. */
  readonly namespace: string;
  /** ctr in that namespace. */
  readonly ctr: Ctr;
  /** The tiny image's top chain ID: the committed snapshot ctr's import left. */
  readonly tinyChainId: string;
  stop(): Promise<void>;
}

/** Debian's containerd on a private root (from @berth/testing) with the tiny fixture imported and unpacked. */
export async function startContainerdWithTiny(): Promise<ContainerdWithTiny> {
  await ensureFixtureImages();
  const ctd = await startPrivateContainerd();
  try {
    const namespace = `berth-client-${randomBytes(4).toString("hex")}`;
    const ctr = ctd.ctrIn(namespace);
    await importFixture(ctr, ctd.dir, "tiny");
    const snapshots = await ctr("snapshots", "ls");
    const tinyChainId = snapshots.split("\n").find((l) => /Committed\s*$/.test(l))?.split(/\s+/)[0];
    if (!tinyChainId) throw new Error(`importing tiny left no committed snapshot: ${snapshots}`);
    return { address: ctd.address, namespace, ctr, tinyChainId, stop: () => ctd.stop() };
  } catch (err) {
    await ctd.stop();
    throw err;
  }
}
