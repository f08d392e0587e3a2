// The client's side of a process's IO over real FIFOs, with sh playing the shim: it opens the
// FIFOs when it likes, as runc's shim opens an exec's only when the process starts.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createFifoIo, createFifoSet, removeFifos } from "../src/index.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function fifoRoot(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "berth-client-fifo-"));
  dirs.push(d);
  return join(d, "fifo");
}

/** Runs `script` in sh; resolves with its exit code. */
function sh(script: string): Promise<number | null> {
  const child = spawn("sh", ["-c", script], { stdio: "ignore" });
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

function collect(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

describe("process IO over FIFOs", () => {
  it("makes a private 0700 directory per process under a 0700 root, with the FIFOs pkg/cio names", async () => {
    const root = await fifoRoot();
    const set = await createFifoSet("c1", { root });
    expect((await stat(root)).mode & 0o777).toBe(0o700);
    expect((await stat(set.dir)).mode & 0o777).toBe(0o700);
    expect(set).toMatchObject({ stdin: join(set.dir, "c1-stdin"), stdout: join(set.dir, "c1-stdout"), stderr: join(set.dir, "c1-stderr"), terminal: false });
    for (const p of [set.stdin, set.stdout, set.stderr]) expect((await stat(p)).isFIFO()).toBe(true);
    const tty = await createFifoSet("c2", { root, terminal: true });
    expect(tty.stderr).toBe("");
    expect(await readdir(tty.dir)).toEqual(["c2-stdin", "c2-stdout"].sort());
  });

  it("copies output until the shim closes its side, not before the shim has opened it", async () => {
    const root = await fifoRoot();
    const out = collect();
    const err = collect();
    const io = await createFifoIo("p1", { stdout: out.stream, stderr: err.stream, fifoDir: root });
    expect(io.config.stdin).toBe("");
    let ended = false;
    void io.wait().then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(ended).toBe(false); // no writer yet, yet the output has not ended: the client holds one
    // The shim opens both output FIFOs (at create), then writes once the process runs.
    const opened = join(root, "..", "opened");
    const shim = sh(`exec 3>${io.config.stdout} 4>${io.config.stderr}; : > ${opened}; sleep 0.1; echo one >&3; echo three >&4`);
    while (!(await stat(opened).catch(() => undefined))) await new Promise((r) => setTimeout(r, 10));
    io.started();
    expect(await shim).toBe(0);
    await io.wait();
    expect(out.text()).toBe("one\n");
    expect(err.text()).toBe("three\n");
    await io.close();
    expect(await readdir(root)).toEqual([]);
  });

  it("holds stdin's data until the reader comes, and reports its end only once started", async () => {
    const root = await fifoRoot();
    const input = new PassThrough();
    const io = await createFifoIo("p2", { stdin: input, stdout: collect().stream, fifoDir: root });
    let ended = 0;
    io.attached(() => ended++);
    input.end("typed before anyone read\n");
    await new Promise((r) => setTimeout(r, 50));
    expect(ended).toBe(0);
    const sink = join(root, "..", "got.txt");
    // A shim opens the stdin FIFO at create, before start: mark the open, then read.
    const opened = join(root, "..", "stdin-opened");
    const reader = sh(`exec 3<${io.config.stdin}; : > ${opened}; cat <&3 > ${sink}`);
    while (!(await stat(opened).catch(() => undefined))) await new Promise((r) => setTimeout(r, 10));
    io.started();
    expect(await reader).toBe(0);
    expect(ended).toBe(1);
    const { readFile } = await import("node:fs/promises");
    expect(await readFile(sink, "utf8")).toBe("typed before anyone read\n");
    await io.close();
  });

  it("close removes the FIFOs and their directory; cancel leaves them", async () => {
    const root = await fifoRoot();
    const io = await createFifoIo("p3", { stdout: collect().stream, fifoDir: root });
    io.cancel();
    expect(await readdir(root)).toHaveLength(1);
    await io.close();
    expect(await readdir(root)).toEqual([]);
  });

  it("removeFifos removes only FIFOs, and a directory only once empty", async () => {
    const root = await fifoRoot();
    const set = await createFifoSet("p4", { root });
    const other = join(set.dir, "p4-stdout.log");
    await writeFile(other, "not a fifo");
    await removeFifos({ stdin: set.stdin, stdout: set.stdout, stderr: "binary:///usr/bin/logger" });
    expect((await readdir(set.dir)).sort()).toEqual(["p4-stderr", "p4-stdout.log"]);
    await removeFifos({ stdin: "", stdout: other, stderr: set.stderr });
    expect(await readdir(set.dir)).toEqual(["p4-stdout.log"]);
  });
});
