// Small helpers for the pod tests: pod configs, host-side checks, waiting for a state.
import { spawn, type ChildProcess } from "node:child_process";
import { readdir, readFile, readlink } from "node:fs/promises";
import { connect } from "node:net";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { criApi } from "@berth/api";
import { exec } from "@berth/testing";

let counter = 0;

/** A pod config with a unique name, as the kubelet sends one. */
export function podConfig(overrides: Omit<MessageInitShape<typeof criApi.PodSandboxConfigSchema>, "$typeName"> = {}): criApi.PodSandboxConfig {
  const n = `${process.pid}-${++counter}`;
  return create(criApi.PodSandboxConfigSchema, {
    metadata: { name: `pod-${n}`, namespace: "berth-test", uid: `uid-${n}`, attempt: 0 },
    hostname: `pod-${n}`,
    logDirectory: "/tmp",
    labels: { app: "sandbox-test", run: n },
    annotations: { "berth.test/annotation": "yes" },
    ...overrides,
  });
}

export async function fileOrEmpty(path: string): Promise<string> {
  return readFile(path, "utf8").catch(() => "");
}

/** Entries of a directory, or none when it does not exist. */
export async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

export async function sameNetns(pidA: number | "self", pidB: number | "self"): Promise<boolean> {
  return (await readlink(`/proc/${pidA}/ns/net`)) === (await readlink(`/proc/${pidB}/ns/net`));
}

/** Polls `probe` until it returns true; fails after `attempts` tries, naming `what`. */
export async function eventually(what: string, probe: () => Promise<boolean>, attempts = 100): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never happened: ${what}`);
}

/** A TCP server answering "hello from the pod" inside a network namespace (node under nsenter). */
export function listenInNetns(netnsPath: string, port: number): { proc: ChildProcess; ready: Promise<void> } {
  const script = `require("net").createServer((s) => s.end("hello from the pod\\n")).listen(${port}, "0.0.0.0", () => console.log("listening"))`;
  const proc = spawn("nsenter", [`--net=${netnsPath}`, process.execPath, "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout!.once("data", () => resolve());
    proc.once("exit", (code) => reject(new Error(`listener exited with ${code}`)));
  });
  return { proc, ready };
}

export function fetchTcp(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    let data = "";
    socket.on("data", (d) => (data += d.toString()));
    socket.on("end", () => resolve(data));
    socket.on("error", reject);
  });
}

export async function ping(ip: string): Promise<void> {
  await exec("busybox", ["ping", "-c", "1", "-W", "3", ip]);
}

/** Mount points (from this process's mountinfo) whose path or source mentions `text`. */
export async function mountsMentioning(text: string): Promise<string[]> {
  return (await fileOrEmpty("/proc/self/mountinfo")).split("\n").filter((l) => l.includes(text));
}
