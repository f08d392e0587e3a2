// What the kernel says: process memory, process lists, mounts, cgroups.
import { readFileSync, readdirSync, readlinkSync, rmdirSync, existsSync } from "node:fs";
import { basename } from "node:path";
import { run } from "./proc.mjs";

/** Rss and Pss of a process in bytes, from /proc/PID/smaps_rollup. */
export function memoryOf(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (name) => {
    const m = text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"));
    if (!m) throw new Error(`no ${name} in /proc/${pid}/smaps_rollup`);
    return Number(m[1]) * 1024;
  };
  return { rss: field("Rss"), pss: field("Pss") };
}

/** Every process: { pid, argv, exe }. Processes that vanish while we look are skipped. */
export function listProcesses() {
  const out = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").filter((s, i, a) => s !== "" || i < a.length - 1);
      if (argv.length === 0) continue; // kernel thread
      let exe = "";
      try {
        exe = readlinkSync(`/proc/${name}/exe`);
      } catch {}
      out.push({ pid: Number(name), argv, exe });
    } catch {}
  }
  return out;
}

/**
 * Shim processes serving the daemon on `address`: a process whose program name contains
 * "shim" (containerd-shim-runc-v2, a future berth-shim) and whose command line names the
 * daemon's socket (containerd passes it as -address).
 */
export function shimsOf(address) {
  return listProcesses().filter((p) => /shim/.test(basename(p.argv[0] ?? "")) && p.argv.some((a) => a.includes(address)));
}

/** Mount points (deepest first) at or under `dir`, or whose source or options mention it (overlay lowerdir=…). */
export function mountsMentioning(dir) {
  const lines = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter(Boolean);
  const unescape = (s) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  const found = [];
  for (const line of lines) {
    const [left, right = ""] = line.split(" - ");
    const mountPoint = unescape(left.split(" ")[4]);
    const [, source = "", superOpts = ""] = right.split(" ");
    const under = mountPoint === dir || mountPoint.startsWith(dir + "/");
    if (under || unescape(source).includes(dir) || unescape(superOpts).includes(dir)) found.push(mountPoint);
  }
  return [...new Set(found)].sort((a, b) => b.split("/").length - a.split("/").length);
}

/** Unmounts everything mountsMentioning(dir) finds; lazily when a plain umount fails. */
export async function unmountAll(dir) {
  for (let round = 0; round < 3; round++) {
    const mounts = mountsMentioning(dir);
    if (mounts.length === 0) return [];
    for (const m of mounts) {
      const res = await run("umount", [m]);
      if (res.code !== 0) await run("umount", ["-l", m]);
    }
  }
  return mountsMentioning(dir);
}

/** Cgroup directories named `name` directly under each hierarchy root (v1 and v2). */
export function cgroupDirs(name) {
  const roots = ["/sys/fs/cgroup"];
  if (!existsSync("/sys/fs/cgroup/cgroup.controllers")) {
    for (const h of readdirSync("/sys/fs/cgroup")) roots.push(`/sys/fs/cgroup/${h}`);
  }
  return roots.map((r) => `${r}/${name}`).filter((d) => existsSync(d));
}

/** PIDs in a cgroup directory tree. */
export function cgroupPids(dir) {
  const pids = new Set();
  const walk = (d) => {
    try {
      for (const p of readFileSync(`${d}/cgroup.procs`, "utf8").split("\n").filter(Boolean)) pids.add(Number(p));
    } catch {}
    let entries = [];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {}
    for (const e of entries) if (e.isDirectory()) walk(`${d}/${e.name}`);
  };
  walk(dir);
  return [...pids];
}

/** Removes a cgroup tree bottom-up (rmdir only: a cgroup with processes stays). */
export function removeCgroupTree(dir) {
  let entries = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeCgroupTree(`${dir}/${e.name}`);
  try {
    rmdirSync(dir);
  } catch {}
}

export function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
