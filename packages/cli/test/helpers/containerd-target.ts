import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureFixtureImages, exec, fixtureLayout, mountsBelow, requireRoot, requireTool } from "@berth/testing";
import { ctrIn, importTiny, TINY } from "./ctr.js";
import type { RunTarget } from "./run-target.js";

/**
 * Debian's containerd with its own root, state and socket in a temp dir (CRI off), so it never
 * meets a system containerd; the reference `berth run` must behave the same against.
 */
export async function startContainerdTarget(): Promise<RunTarget> {
  requireRoot("they run containers");
  for (const tool of ["containerd", "ctr", "containerd-shim-runc-v2"]) await requireTool(tool, "containerd");
  await requireTool("runc", "runc");
  await ensureFixtureImages();
  const dir = await mkdtemp(join(tmpdir(), "berth-cli-ctd-"));
  const address = join(dir, "c.sock");
  const q = JSON.stringify;
  await writeFile(
    join(dir, "config.toml"),
    [
      "version = 2",
      `root = ${q(join(dir, "root"))}`,
      `state = ${q(join(dir, "state"))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      `[grpc]\n  address = ${q(address)}`,
      `[ttrpc]\n  address = ${q(`${address}.ttrpc`)}`,
      '[debug]\n  address = ""\n  level = "warn"',
      '[metrics]\n  address = ""',
      `[plugins."io.containerd.internal.v1.opt"]\n  path = ${q(join(dir, "opt"))}`,
      "",
    ].join("\n"),
  );
  const log = openSync(join(dir, "containerd.log"), "a");
  const proc = spawn("containerd", ["--config", join(dir, "config.toml")], { stdio: ["ignore", log, log] });
  closeSync(log);
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const stop = async () => {
    proc.kill("SIGTERM");
    const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(killer);
    for (const m of await mountsBelow(dir)) await exec("umount", ["-l", m]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await exec("ctr", ["-a", address, "version"]);
        break;
      } catch (err) {
        if (attempt > 200 || proc.exitCode !== null) throw new Error(`containerd did not start (see ${dir}/containerd.log)`, { cause: err });
        await sleep(100);
      }
    }
    const namespace = `berth-cli-${randomBytes(4).toString("hex")}`;
    const archive = join(dir, "tiny.tar");
    await exec("tar", ["-C", fixtureLayout("tiny"), "-cf", archive, "."]);
    const ctr = ctrIn(address, namespace);
    await importTiny(ctr, archive);
    return {
      name: "Debian's containerd",
      address,
      namespace,
      image: TINY,
      ctr,
      importPacked: (ns, name) => importTiny(ctrIn(address, ns), archive, ["--no-unpack"], name.replace(/:latest$/, "")),
      dispose: stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
