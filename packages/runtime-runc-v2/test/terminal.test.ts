import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNTIME, startContainerd, type PrivateContainerd } from "./helpers/containerd.js";
import { eventually, requireTool, run } from "./helpers/tools.js";

// `ctr run -t` needs a terminal of its own: it runs in a detached tmux session, which the test
// types into and reads back from.
let ctd: PrivateContainerd;
let tmux: string;
const sessions: string[] = [];

beforeAll(async () => {
  tmux = await requireTool("tmux", "tmux");
  ctd = await startContainerd();
}, 60_000);

afterAll(async () => {
  for (const session of sessions) await run(tmux, ["kill-session", "-t", session]).catch(() => {});
  await ctd?.destroy();
}, 60_000);

async function openSession(command: string[], cols: number, rows: number): Promise<string> {
  const session = `berth-${randomBytes(4).toString("hex")}`;
  sessions.push(session);
  await run(tmux, ["new-session", "-d", "-s", session, "-x", String(cols), "-y", String(rows), ...command]);
  return session;
}

const screen = async (session: string) => (await run(tmux, ["capture-pane", "-p", "-t", session])).stdout;
const type = (session: string, text: string) => run(tmux, ["send-keys", "-t", session, text, "Enter"]);
/** Waits for `pattern` on the screen; after 30 s fails with what the screen shows (a hang says where it stopped). */
async function waitForScreen(session: string, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 30_000;
  await eventually(async () => {
    const shown = await screen(session);
    if (pattern.test(shown)) return true;
    if (Date.now() > deadline) throw new Error(`no ${String(pattern)} on the screen after 30 s; it shows:\n${shown}`);
    return undefined;
  }, 50);
}

describe("terminals", () => {
  it("ctr run -t is interactive, sized like the client's terminal, and follows resizes", async () => {
    const ctr = ["ctr", "-a", ctd.socket, "-n", ctd.namespace, "run", "-t", "--rm", "--runtime", RUNTIME, "tiny:latest", "tty1", "sh"];
    const session = await openSession(ctr, 100, 30);
    // ctr flushes what was typed before it made its terminal raw: wait for the prompt.
    await waitForScreen(session, /^\/ #/m);
    await type(session, "echo tty-$((6*7)); tty; stty size");
    await waitForScreen(session, /tty-42/);
    await waitForScreen(session, /^30 100$/m);
    expect(await screen(session)).toMatch(/\/dev\/pts\/\d+|\/dev\/console/);

    await run(tmux, ["resize-window", "-t", session, "-x", "120", "-y", "40"]);
    await type(session, "stty size");
    await waitForScreen(session, /^40 120$/m);

    await type(session, "exit 4");
    await eventually(async () => ((await ctd.ctr(["containers", "ls", "-q"])).stdout.includes("tty1") ? undefined : true), 100);
  });

  it("ctr tasks exec -t gets a terminal of its own in a running task", async () => {
    await ctd.ctr(["run", "-d", "--runtime", RUNTIME, "tiny:latest", "tty2", "sleep", "1000"]);
    const exec = ["ctr", "-a", ctd.socket, "-n", ctd.namespace, "tasks", "exec", "-t", "--exec-id", "sh1", "tty2", "sh"];
    const session = await openSession(exec, 90, 25);
    await waitForScreen(session, /^\/ #/m);
    await type(session, "stty size; echo exec-$((2+3))");
    await waitForScreen(session, /^25 90$/m);
    await waitForScreen(session, /exec-5/);
    await type(session, "exit");
    await eventually(async () => ((await ctd.ctr(["tasks", "ps", "tty2"])).stdout.includes("ExecID") ? undefined : true), 100);
    await ctd.ctr(["tasks", "kill", "-s", "SIGKILL", "tty2"]);
    await eventually(async () => ((await ctd.ctrStatus(["tasks", "delete", "tty2"])).code === 0 ? true : undefined), 100);
    await ctd.ctr(["containers", "rm", "tty2"]);
  });
});
