// `ctr run -t` under a real pseudo-terminal (a detached tmux session): the shell in the
// container is interactive, and resizing the terminal resizes the container's.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "@berth/daemon";
import { ctrIn, eventually, IMAGE, importTiny, removeDir, removeNamespaceTraces, requireRoot, requireTool, run, settledLeftovers, startRuntimeDaemon, tempDir, tinyArchive } from "./harness.js";

describe("ctr run -t in tmux", () => {
  let dir: string;
  let daemon: Daemon | undefined;
  const ns = `berth-tty-${randomBytes(3).toString("hex")}`;
  const server = `berth-tty-${randomBytes(3).toString("hex")}`;
  const tmux = (...args: string[]) => run("tmux", ["-L", server, ...args]).then((r) => r.stdout);
  const screen = () => tmux("capture-pane", "-p", "-t", "t");
  /** Types `line` (again every 2 s) until the screen shows `text`: keys typed before the shell reads can be lost. */
  const typeUntil = async (line: string, text: string, what: string) => {
    for (let attempt = 0; ; attempt++) {
      await tmux("send-keys", "-t", "t", line, "Enter");
      const deadline = Date.now() + 2_000;
      while (Date.now() < deadline) {
        if ((await screen()).includes(text)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (attempt === 20) throw new Error(`gave up waiting for ${what}`);
    }
  };

  beforeAll(async () => {
    requireRoot();
    for (const tool of ["ctr", "runc", "containerd-shim-runc-v2", "tmux"]) await requireTool(tool);
    dir = await tempDir("berth-tty-");
    daemon = await startRuntimeDaemon(dir);
    await importTiny(ctrIn(daemon.address, ns), await tinyArchive(dir));
  }, 120_000);

  afterAll(async () => {
    await tmux("kill-server").catch(() => undefined);
    await daemon?.close();
    await removeNamespaceTraces(ns);
    if (dir) await removeDir(dir);
  }, 60_000);

  it("is interactive and follows the terminal's size", async () => {
    // ctr's exit status goes to a file through a wrapping shell: tmux's own #{pane_dead_status}
    // stays empty when tmux misses the child's SIGCHLD, which happened here under load.
    const status = join(dir, "ctr-exit");
    await tmux("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", `sh -c 'ctr -a ${daemon!.address} -n ${ns} run -t --rm ${IMAGE} tty1 sh; echo $? > ${status}'`);
    await tmux("set-option", "-t", "t", "remain-on-exit", "on");
    await typeUntil("echo hi-$((40+2))", "hi-42", "the shell to answer");
    // ctr sends the terminal's size once the task runs: under load the shell may ask first, so ask again.
    await typeUntil("clear; stty size", "24 80", "stty to report 24 80");
    await tmux("resize-window", "-t", "t", "-x", "100", "-y", "30");
    await typeUntil("clear; stty size", "30 100", "stty to report 30 100");
    await tmux("send-keys", "-t", "t", "exit 7", "Enter");
    await eventually(async () => (await readFile(status, "utf8").catch(() => "")).trim() === "7", "ctr to exit 7");
    expect(await settledLeftovers(ns, ["tty1"], join(dir, "state"))).toEqual([]);
  }, 120_000);
});
