import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startBerthdTarget } from "./helpers/berthd-target.js";
import { describeRunScenario } from "./run-scenario.js";

// Berth's own shim, found by its runtime name on PATH as containerd finds shims.
describeRunScenario(
  "berthd",
  async () => {
    const shim = join(dirname(createRequire(import.meta.url).resolve("@berth/runtime-runc-v2")), "bin", "shim.js");
    const bin = await mkdtemp(join(tmpdir(), "berth-cli-shim-"));
    await writeFile(join(bin, "containerd-shim-berth-v2"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(shim)} "$@"\n`);
    await chmod(join(bin, "containerd-shim-berth-v2"), 0o755);
    process.env["PATH"] = `${bin}:${process.env["PATH"] ?? ""}`;
    const target = await startBerthdTarget();
    return {
      ...target,
      dispose: async () => {
        await target.dispose();
        await rm(bin, { recursive: true, force: true });
      },
    };
  },
  { runtime: "io.containerd.berth.v2" },
);
