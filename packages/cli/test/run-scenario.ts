// One scenario for `berth run`, `berth tasks …` and `berth containers …`, run against each
// target: Debian's containerd (the reference) and berthd. Everything is real: the built berth
// binary, containerd-shim-runc-v2, runc, overlay mounts, FIFOs, tmux for the terminal.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec, requireTool } from "@berth/testing";
import { berth, BERTH_BIN, spawnBerth } from "./helpers/berth-bin.js";
import { removeNamespaceTraces } from "./helpers/namespace-traces.js";
import type { RunTarget } from "./helpers/run-target.js";

export interface ScenarioOptions {
  /** The runtime `run` and `containers create` ask for; the default (io.containerd.runc.v2) if absent. */
  readonly runtime?: string;
}

export function describeRunScenario(targetName: string, start: () => Promise<RunTarget>, opts: ScenarioOptions = {}): void {
  const runtime = opts.runtime ?? "io.containerd.runc.v2";
  describe(`berth run, tasks and containers against ${targetName}${opts.runtime ? ` with ${opts.runtime}` : ""}`, () => {
    let t: RunTarget;
    let fifoDir: string;
    let n = 0;
    const uid = () => `c${process.pid}-${++n}`;
    /** Each container's FIFOs in a directory of their own, to see what is left of them. */
    const fifos = (id: string) => join(fifoDir, id);
    const global = () => ["-a", t.address, "-n", t.namespace];
    /** `berth -a … -n … ARGS`, with --runtime added to run and containers create. */
    const withRuntime = (args: readonly string[]) => {
      const at = args[0] === "run" ? 1 : args[0] === "containers" && args[1] === "create" ? 2 : -1;
      return at < 0 || !opts.runtime ? [...args] : [...args.slice(0, at), "--runtime", opts.runtime, ...args.slice(at)];
    };
    const cli = (...args: string[]) => berth([...global(), ...withRuntime(args)]);
    const ok = async (...args: string[]) => {
      const r = await cli(...args);
      if (r.code !== 0) throw new Error(`berth ${args.join(" ")} exited ${r.code}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    };

    beforeAll(async () => {
      t = await start();
      fifoDir = await mkdtemp(join(tmpdir(), "berth-cli-fifo-"));
    }, 120_000);

    afterAll(async () => {
      if (t) {
        // Whatever a failed test left running in the namespace goes before the daemon does.
        for (const id of (await t.ctr("tasks", "ls", "-q").catch(() => "")).split("\n").filter(Boolean)) {
          await t.ctr("tasks", "kill", "-s", "KILL", id).catch(() => "");
          await t.ctr("tasks", "rm", "-f", id).catch(() => "");
        }
        for (const id of (await t.ctr("containers", "ls", "-q").catch(() => "")).split("\n").filter(Boolean)) await t.ctr("containers", "rm", id).catch(() => "");
        await t.dispose();
        await removeNamespaceTraces(t.namespace);
      }
      if (fifoDir) await rm(fifoDir, { recursive: true, force: true });
    }, 60_000);

    /** What a container `id` could have left: its record, snapshot, task, FIFOs (ours and the default dir's). */
    const leftovers = async (id: string) => {
      const found: string[] = [];
      if ((await t.ctr("containers", "ls", "-q")).split("\n").includes(id)) found.push("container");
      if ((await t.ctr("tasks", "ls", "-q")).split("\n").includes(id)) found.push("task");
      if ((await t.ctr("snapshots", "ls")).split("\n").some((l) => l.split(/\s+/)[0] === id)) found.push("snapshot");
      for (const root of [fifos(id), "/run/berth/fifo"]) {
        for (const set of await readdir(root).catch(() => [])) {
          for (const f of await readdir(join(root, set)).catch(() => [])) if (f.startsWith(`${id}-`)) found.push(`fifo ${join(root, set, f)}`);
        }
      }
      const sets = await readdir(fifos(id)).catch(() => []);
      if (sets.length > 0) found.push(`FIFO directories in ${fifos(id)}: ${sets.join(",")}`);
      return found;
    };

    it("run --rm prints what echo says and exits 0", async () => {
      const r = await cli("run", "--rm", t.image, uid(), "echo", "hello");
      expect(r).toMatchObject({ code: 0, stdout: "hello\n" });
    });

    it("exits with the container's exit code, stdout and stderr kept apart", async () => {
      const r = await cli("run", "--rm", t.image, uid(), "sh", "-c", "echo out; echo err >&2; exit 3");
      expect(r).toMatchObject({ code: 3, stdout: "out\n", stderr: "err\n" });
    });

    it("feeds stdin to the container and closes it at EOF", async () => {
      const r = await berth([...global(), ...withRuntime(["run", "--rm", t.image, uid(), "sh", "-c", "cat; echo done"])], { input: "line one\nline two\n" });
      expect(r).toMatchObject({ code: 0, stdout: "line one\nline two\ndone\n" });
    });

    it("--env, --cwd and --user shape the process; the user is looked up in the image", async () => {
      const passwd = await ok("run", "--rm", t.image, uid(), "cat", "/etc/passwd");
      const user = passwd.split("\n").map((l) => l.split(":")).find((f) => f[0] !== "root" && f.length >= 4);
      expect(user, `the tiny image needs a non-root user in /etc/passwd: ${passwd}`).toBeDefined();
      const r = await ok("run", "--rm", "--env", "GREETING=hi there", "--cwd", "/etc", "--user", user![0]!, t.image, uid(), "sh", "-c", 'echo "$GREETING"; pwd; id -u; id -g');
      expect(r).toBe(`hi there\n/etc\n${user![2]}\n${user![3]}\n`);
    });

    it("--rm leaves no container, snapshot, task or FIFO", async () => {
      const id = uid();
      await ok("run", "--rm", "--fifo-dir", fifos(id), t.image, id, "true");
      expect(await leftovers(id)).toEqual([]);
      const failing = uid();
      expect((await cli("run", "--rm", "--fifo-dir", fifos(failing), t.image, failing, "sh", "-c", "exit 9")).code).toBe(9);
      expect(await leftovers(failing)).toEqual([]);
    });

    it("forwards SIGTERM to the container, as ctr does", async () => {
      const id = uid();
      const running = spawnBerth([...global(), ...withRuntime(["run", "--rm", "--fifo-dir", fifos(id), t.image, id, "sh", "-c", 'trap "echo got-term; exit 7" TERM; echo ready; while true; do sleep 0.1; done'])]);
      await running.waitForOutput(/ready/);
      running.child.kill("SIGTERM");
      const r = await running.done;
      expect(r).toMatchObject({ code: 7, stdout: "ready\ngot-term\n", stderr: "" });
      expect(await leftovers(id)).toEqual([]);
    });

    it("-d detaches; tasks ls, ps, exec, pause, resume, metrics, kill and rm; containers ls, info and rm", async () => {
      const id = uid();
      expect(await ok("run", "-d", "--fifo-dir", fifos(id), t.image, id, "sleep", "1000")).toBe("");

      const ls = await ok("tasks", "ls");
      expect(ls.split("\n")[0]).toMatch(/^TASK\s+PID\s+STATUS$/);
      const row = ls.split("\n").find((l) => l.startsWith(`${id} `));
      expect(row).toMatch(new RegExp(`^${id}\\s+\\d+\\s+RUNNING$`));
      const pid = row!.split(/\s+/)[1]!;

      expect(await ok("tasks", "ps", id)).toMatch(new RegExp(`^PID\\s+INFO\\n${pid}\\s+-\\n$`));

      const exec1 = await cli("tasks", "exec", "--exec-id", "e1", "--fifo-dir", fifos(id), id, "sh", "-c", "echo from-exec; echo to-err >&2; exit 4");
      expect(exec1).toMatchObject({ code: 4, stdout: "from-exec\n", stderr: "to-err\n" });
      const exec2 = await berth([...global(), "tasks", "exec", "--exec-id", "e2", "--fifo-dir", fifos(id), id, "cat"], { input: "via stdin\n" });
      expect(exec2).toMatchObject({ code: 0, stdout: "via stdin\n" });

      await ok("tasks", "pause", id);
      expect(await ok("tasks", "ls")).toMatch(new RegExp(`^${id}\\s+${pid}\\s+PAUSED$`, "m"));
      await ok("tasks", "resume", id);
      expect(await ok("tasks", "ls")).toMatch(new RegExp(`^${id}\\s+${pid}\\s+RUNNING$`, "m"));

      const metrics = await ok("tasks", "metrics", id);
      expect(metrics).toMatch(new RegExp(`^ID\\s+TIMESTAMP\\n${id}\\s+\\S+\\n\\nMETRIC\\s+VALUE\\n`));
      expect(metrics).toMatch(/^(memory\.usage_in_bytes|memory\.usage)\s+[1-9]\d*$/m);
      expect(metrics).toMatch(/^pids\.current\s+1$/m);
      const json = JSON.parse(await ok("tasks", "metrics", "--format", "json", id)) as { pids?: { current: number } };
      expect(json.pids?.current).toBe(1);

      expect(await ok("containers", "ls")).toMatch(new RegExp(`^${id}\\s+${t.image.replace(/[.]/g, "\\.")}\\s+${runtime.replace(/[.]/g, "\\.")}$`, "m"));
      const info = JSON.parse(await ok("containers", "info", id)) as { ID: string; Image: string; Runtime: { Name: string }; SnapshotKey: string; Snapshotter: string; Spec: { process: { args: string[] } } };
      expect(info).toMatchObject({ ID: id, Image: t.image, Runtime: { Name: runtime }, SnapshotKey: id, Snapshotter: "overlayfs" });
      expect(info.Spec.process.args).toEqual(["sleep", "1000"]);

      // A running container is not removed, nor its task.
      expect((await cli("containers", "rm", id)).stderr).toMatch(/cannot delete a non stopped container: running/);
      expect((await cli("tasks", "rm", id)).stderr).toMatch(/must be stopped before deletion/);

      await ok("tasks", "kill", "-s", "KILL", id);
      for (let i = 0; !(await ok("tasks", "ls")).match(new RegExp(`^${id}\\s+\\d+\\s+STOPPED$`, "m")); i++) await sleep(20);
      await ok("tasks", "rm", id);
      expect(await ok("tasks", "ls", "-q")).not.toContain(id);
      await ok("containers", "rm", id);
      expect(await leftovers(id)).toEqual([]);
    });

    it("tasks kill -a reaches every process; kill --exec-id only that one", async () => {
      const id = uid();
      await ok("run", "-d", "--fifo-dir", fifos(id), t.image, id, "sleep", "1000");
      const execd = spawnBerth([...global(), "tasks", "exec", "--exec-id", "long", "--fifo-dir", fifos(id), id, "sh", "-c", "echo started; sleep 1000"]);
      await execd.waitForOutput(/started/);
      await ok("tasks", "kill", "--exec-id", "long", "-s", "KILL", id);
      expect((await execd.done).code).toBe(137);
      expect(await ok("tasks", "ls")).toMatch(new RegExp(`^${id}\\s+\\d+\\s+RUNNING$`, "m"));
      await ok("tasks", "kill", "-a", "-s", "KILL", id);
      for (; !(await ok("tasks", "ls")).match(new RegExp(`^${id}\\s+\\d+\\s+STOPPED$`, "m")); ) await sleep(20);
      await ok("containers", "rm", id); // deletes the stopped task first, as ctr does
      expect(await leftovers(id)).toEqual([]);
    });

    it("tasks checkpoint fails with an error naming criu and leaves the task running", async () => {
      const id = uid();
      await ok("run", "-d", "--fifo-dir", fifos(id), t.image, id, "sleep", "1000");
      const r = await cli("tasks", "checkpoint", id);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/criu/);
      expect(await ok("tasks", "ls")).toMatch(new RegExp(`^${id}\\s+\\d+\\s+RUNNING$`, "m"));
      expect(await ok("images", "ls", "-q")).not.toMatch(/checkpoint/);
      await ok("tasks", "rm", "-f", id);
      await ok("containers", "rm", id);
      expect(await leftovers(id)).toEqual([]);
    });

    it("containers create, then tasks start runs it attached", async () => {
      const id = uid();
      await ok("containers", "create", t.image, id, "sh", "-c", "echo started-later; exit 2");
      expect(await ok("containers", "ls", "-q")).toContain(id);
      const r = await cli("tasks", "start", "--fifo-dir", fifos(id), id);
      expect(r).toMatchObject({ code: 2, stdout: "started-later\n" });
      expect(await ok("tasks", "ls", "-q")).not.toContain(id);
      await ok("containers", "rm", id);
      expect(await leftovers(id)).toEqual([]);
    });

    it("an image not unpacked in the snapshotter is FailedPrecondition, and nothing is created", async () => {
      const ns = `${t.namespace}-packed`;
      await t.importPacked(ns, "berth.test/packed:latest");
      const id = uid();
      const r = await berth(["-a", t.address, "-n", ns, "run", "--rm", "berth.test/packed:latest", id, "true"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^berth: FailedPrecondition: image berth\.test\/packed:latest is not unpacked in snapshotter overlayfs/);
      const containers = await berth(["-a", t.address, "-n", ns, "containers", "ls", "-q"]);
      expect(containers.stdout).toBe("");
    });

    it("an ID in use is AlreadyExists, and the existing container stays", async () => {
      const id = uid();
      await ok("containers", "create", t.image, id, "true");
      const r = await cli("run", "--rm", t.image, id, "true");
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/AlreadyExists/);
      expect(await ok("containers", "ls", "-q")).toContain(id);
      await ok("containers", "rm", id);
    });

    it("-t under tmux gives a prompt, follows the terminal's size, and exits with the shell's code", async () => {
      await requireTool("tmux", "tmux");
      const id = uid();
      const server = `berth-cli-${process.pid}-${n}`;
      const tmux = (...args: string[]) => exec("tmux", ["-L", server, ...args]);
      const command = [process.execPath, BERTH_BIN, ...global(), ...withRuntime(["run", "-t", "--rm", "--fifo-dir", fifos(id), t.image, id, "sh"])].map((a) => `'${a}'`).join(" ");
      await tmux("new-session", "-d", "-s", "t", "-x", "100", "-y", "30", `${command}; echo EXIT=$?; sleep 600`);
      const screen = async () => (await tmux("capture-pane", "-p", "-t", "t")).stdout;
      const waitFor = async (pattern: RegExp) => {
        while (!pattern.test(await screen())) await sleep(50);
      };
      // A size reaches the pty through SIGWINCH (or the first resize), berth and the shim, while
      // the shell already reads commands: ask again until the answer shows it has arrived.
      const askUntil = async (command: string, pattern: RegExp) => {
        for (;;) {
          await tmux("send-keys", "-t", "t", command, "Enter");
          for (let i = 0; i < 10; i++) {
            if (pattern.test(await screen())) return;
            await sleep(50);
          }
        }
      };
      try {
        await waitFor(/^\/ #/m); // capture-pane drops the prompt's trailing space
        await askUntil("stty size", /^30 100$/m);
        await tmux("resize-window", "-t", "t", "-x", "120", "-y", "40");
        await askUntil("stty size", /^40 120$/m);
        await tmux("send-keys", "-t", "t", "tty; exit 5", "Enter");
        await waitFor(/^EXIT=5$/m);
        expect(await screen()).toMatch(/^\/dev\/pts\/\d+$/m);
      } finally {
        await tmux("kill-server").catch(() => undefined);
      }
      expect(await leftovers(id)).toEqual([]);
    });
  });
}
