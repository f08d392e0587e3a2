import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  capabilitiesFromMask,
  withAddedCapabilities,
  DEFAULT_UNIX_ENV,
  defaultCapabilities,
  generateSpecFor,
  specToJSON,
  withDefaultSeccomp,
  withEnv,
  withHostname,
  withImageConfig,
  withPrivileged,
  withPrivilegedDevices,
  withProcessArgs,
  withProcessCwd,
  withRlimit,
  withRootfsPath,
  withRootfsReadonly,
  withUser,
  type SpecOpt,
} from "../src/index.js";
import { afterThisTest, busyboxRootfs, requireRoot, requireTool, tempDir } from "./helpers.js";

// The namespace names the parent cgroup runc creates (/<namespace>/<id>); runc removes only the
// container's own, so the tests remove the parent when the last container is gone.
const CGROUP_NAMESPACE = "berth-oci-test";

afterAll(async () => {
  for (const controller of await readdir("/sys/fs/cgroup").catch(() => [])) {
    await rmdir(join("/sys/fs/cgroup", controller, CGROUP_NAMESPACE)).catch(() => undefined); // busy or absent: leave it
  }
});

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a container from Berth's spec with runc itself: `runc run` in a bundle holding config.json. */
async function runWithRunc(rootfs: string, ...opts: SpecOpt[]): Promise<RunResult> {
  requireRoot();
  await requireTool("runc", "runc");
  const id = `berth-oci-${randomBytes(4).toString("hex")}`;
  const bundle = await tempDir("berth-oci-bundle-");
  const state = await tempDir("berth-oci-runc-");
  // The default PATH first, as an image without Env gets it; `opts` may override it.
  const spec = await generateSpecFor({ namespace: CGROUP_NAMESPACE, id, rootfs }, withRootfsPath(rootfs), withEnv(DEFAULT_UNIX_ENV), ...opts);
  await writeFile(join(bundle, "config.json"), specToJSON(spec, 2));
  afterThisTest(async () => {
    await new Promise<void>((resolve) => execFile("runc", ["--root", state, "delete", "--force", id], () => resolve()));
  });
  return new Promise((resolve) => {
    execFile("runc", ["--root", state, "run", "--bundle", bundle, id], (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function statusField(status: string, field: string): string {
  const line = status.split("\n").find((l) => l.startsWith(`${field}:`));
  if (!line) throw new Error(`no ${field} in /proc/self/status:\n${status}`);
  return line.slice(field.length + 1).trim();
}

describe("Berth's specs run under runc", () => {
  it("runs as the user resolved from the image, with its groups, under seccomp", async () => {
    const rootfs = await busyboxRootfs();
    const id = await runWithRunc(rootfs, withUser("app"), withDefaultSeccomp(), withProcessArgs("id"));
    expect(id.stderr).toBe("");
    expect(id.code).toBe(0);
    expect(id.stdout).toMatch(/^uid=1000\(app\) gid=1000\(app\) groups=/);
    const groups = /groups=(\S+)/.exec(id.stdout)?.[1]?.split(",") ?? [];
    expect(groups.sort()).toEqual(["10(wheel)", "1000(app)", "29(audio)"]);

    const status = await runWithRunc(rootfs, withUser("app"), withDefaultSeccomp(), withProcessArgs("cat", "/proc/self/status"));
    expect(status.stderr).toBe("");
    expect(status.code).toBe(0);
    expect(statusField(status.stdout, "Seccomp")).toBe("2"); // SECCOMP_MODE_FILTER
    expect(statusField(status.stdout, "NoNewPrivs")).toBe("1");
    expect(statusField(status.stdout, "Uid").split(/\s+/)).toEqual(["1000", "1000", "1000", "1000"]);
    expect(capabilitiesFromMask(BigInt(`0x${statusField(status.stdout, "CapBnd")}`)).sort()).toEqual(defaultCapabilities().sort());
    // Not root: the effective set is empty, as for any non-root process without ambient capabilities.
    expect(statusField(status.stdout, "CapEff")).toMatch(/^0+$/);
  });

  it("the seccomp profile is enforced, and follows the capabilities it was computed from", async () => {
    const rootfs = await busyboxRootfs();
    const tryUnshare = withProcessArgs("sh", "-c", "unshare -m true; echo rc=$?");
    // Profile computed for the default capabilities, CAP_SYS_ADMIN granted afterwards: the
    // capability would allow unshare(2), the filter does not (EPERM, its default action).
    const filtered = await runWithRunc(rootfs, withDefaultSeccomp(), withAddedCapabilities(["CAP_SYS_ADMIN"]), tryUnshare);
    expect(filtered.stdout).toBe("rc=1\n");
    expect(filtered.stderr).toMatch(/unshare.*Operation not permitted/i);
    // Computed after granting CAP_SYS_ADMIN, the profile allows it.
    const allowed = await runWithRunc(rootfs, withAddedCapabilities(["CAP_SYS_ADMIN"]), withDefaultSeccomp(), tryUnshare);
    expect(allowed.stderr).toBe("");
    expect(allowed.stdout).toBe("rc=0\n");
  });

  it("sets hostname, cwd, env and the default NOFILE limit", async () => {
    const rootfs = await busyboxRootfs();
    const result = await runWithRunc(
      rootfs,
      withHostname("berth-box"),
      withProcessCwd("/tmp"),
      withEnv(["PATH=/bin", "GREETING=hello world"]),
      withRlimit({ type: "RLIMIT_NPROC", soft: 200, hard: 300 }),
      withDefaultSeccomp(),
      withProcessArgs("sh", "-c", 'hostname; pwd; echo "$GREETING"; ulimit -n; ulimit -u'),
    );
    expect(result.stderr).toBe("");
    expect(result.stdout.split("\n")).toEqual(["berth-box", "/tmp", "hello world", "1024", "200", ""]);
  });

  it("keeps a read-only rootfs read-only", async () => {
    const rootfs = await busyboxRootfs();
    const result = await runWithRunc(rootfs, withRootfsReadonly, withProcessArgs("touch", "/new-file"));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Read-only file system/);
  });

  it("runs the image config: entrypoint + cmd, env, working dir, user", async () => {
    const rootfs = await busyboxRootfs();
    const result = await runWithRunc(
      rootfs,
      withImageConfig(
        { User: "svc", Env: ["PATH=/bin", "FROM_IMAGE=1"], Entrypoint: ["/bin/sh", "-c"], Cmd: ["echo no"], WorkingDir: "/tmp" },
        { args: ['id -u; id -g; pwd; echo "$FROM_IMAGE"'] },
      ),
      withDefaultSeccomp(),
    );
    expect(result.stderr).toBe("");
    expect(result.stdout.split("\n")).toEqual(["1001", "1500", "/tmp", "1", ""]);
  });

  it("a privileged container gets the caller's capabilities and no seccomp filter", async () => {
    const rootfs = await busyboxRootfs();
    const result = await runWithRunc(rootfs, withPrivileged, withPrivilegedDevices, withProcessArgs("cat", "/proc/self/status"));
    expect(result.stderr).toBe("");
    const ours = await readFile("/proc/self/status", "utf8");
    expect(statusField(result.stdout, "Seccomp")).toBe("0");
    expect(statusField(result.stdout, "CapEff")).toBe(statusField(ours, "CapEff"));
  });
});
