import { randomBytes } from "node:crypto";
import { ensureFixtureImages, importFixture, startPrivateContainerd } from "@berth/testing";
import { TINY, type RunTarget } from "./run-target.js";

/** Debian's containerd on a private root and socket: the reference `berth run` must behave the same against. */
export async function startContainerdTarget(): Promise<RunTarget> {
  await ensureFixtureImages();
  const ctd = await startPrivateContainerd();
  try {
    const namespace = `berth-cli-${randomBytes(4).toString("hex")}`;
    const ctr = ctd.ctrIn(namespace);
    await importFixture(ctr, ctd.dir, "tiny");
    return {
      name: "Debian's containerd",
      address: ctd.address,
      namespace,
      image: TINY,
      ctr,
      importPacked: (ns, name) => importFixture(ctd.ctrIn(ns), ctd.dir, "tiny", { unpack: false, baseName: name.replace(/:latest$/, "") }),
      dispose: () => ctd.stop(),
    };
  } catch (err) {
    await ctd.stop();
    throw err;
  }
}
