import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach } from "vitest";

export const run = promisify(execFile);

/** Debian's containernetworking-plugins. */
export const CNI_BIN_DIR = "/usr/lib/cni";

/** Fails (never skips) without root: namespaces, bind mounts, links and iptables need it. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("@berth/cni tests need root (network namespaces, bridges, iptables): run them as root");
}

/** Fails (never skips) when a plugin or tool the test drives is not installed. */
export async function requireTools(plugins: readonly string[], tools: readonly string[] = []): Promise<void> {
  for (const p of plugins) {
    try {
      await access(join(CNI_BIN_DIR, p), constants.X_OK);
    } catch {
      throw new Error(`${CNI_BIN_DIR}/${p} is missing: install Debian's containernetworking-plugins (apt-get install containernetworking-plugins)`);
    }
  }
  for (const t of tools) {
    try {
      await run("sh", ["-c", `command -v ${t}`]);
    } catch {
      throw new Error(`${t} is not installed: the test runs it (Debian: apt-get install ${t === "iptables" ? "iptables" : t})`);
    }
  }
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A fresh directory, removed after the test. */
export async function tempDir(prefix = "berth-cni-"): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export async function writeConfig(dir: string, name: string, content: unknown): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

/**
 * A real CNI plugin (a Node script) for tests that need to see what a runtime sends: it appends
 * one JSON line per call (command, CNI_* environment, its stdin) to `<binDir>/calls.log`, and on
 * ADD prints its prevResult, or a result with one sandbox interface and `address` when it has
 * none. `behaviour` can make its ADD fail with a CNI error, or hang (DEL still answers).
 */
export async function writeRecordingPlugin(
  binDir: string,
  name: string,
  behaviour: { address?: string; fail?: { code: number; msg: string; details?: string }; hang?: boolean } = {},
): Promise<string> {
  await mkdir(binDir, { recursive: true });
  const log = join(binDir, "calls.log");
  const address = behaviour.address ?? "10.250.0.9/24";
  const result = {
    cniVersion: "1.0.0",
    interfaces: [{ name: "eth0", sandbox: "/netns" }],
    ips: [{ address, gateway: "10.250.0.1", interface: 0 }],
    dns: { nameservers: ["10.250.0.53"] },
  };
  const script = `#!${process.execPath}
const fs = require("node:fs");
const input = fs.readFileSync(0, "utf8");
const e = process.env;
const stdin = JSON.parse(input);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ plugin: ${JSON.stringify(name)}, pid: process.pid, command: e.CNI_COMMAND,
  containerId: e.CNI_CONTAINERID, netns: e.CNI_NETNS, ifName: e.CNI_IFNAME, args: e.CNI_ARGS, path: e.CNI_PATH, stdin }) + "\\n");
const behaviour = ${JSON.stringify(behaviour)};
if (behaviour.hang && e.CNI_COMMAND === "ADD") setTimeout(() => {}, 600000);
else if (e.CNI_COMMAND === "ADD") {
  if (behaviour.fail) { process.stdout.write(JSON.stringify({ cniVersion: "1.0.0", ...behaviour.fail })); process.exitCode = 1; }
  else process.stdout.write(JSON.stringify(stdin.prevResult ?? ${JSON.stringify(result)}));
}
`;
  const path = join(binDir, name);
  await writeFile(path, script);
  await chmod(path, 0o755);
  return log;
}

export interface RecordedCall {
  plugin: string;
  pid: number;
  command: string;
  containerId: string;
  netns: string;
  ifName: string;
  args: string;
  path: string;
  stdin: Record<string, unknown>;
}

export async function readCalls(log: string): Promise<RecordedCall[]> {
  const { readFile } = await import("node:fs/promises");
  let text = "";
  try {
    text = await readFile(log, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as RecordedCall);
}
