import { spawn } from "node:child_process";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNTIME, startContainerd, type PrivateContainerd } from "./helpers/containerd.js";
import { watchEvents, type EventWatch } from "./helpers/events.js";
import { eventually } from "./helpers/tools.js";

// Debian's containerd with Berth's shim as io.containerd.berth.v2, driven by Debian's ctr.
let ctd: PrivateContainerd;
let events: EventWatch;

beforeAll(async () => {
  ctd = await startContainerd();
  events = await watchEvents(ctd.socket);
}, 60_000);

afterAll(async () => {
  events?.stop();
  await ctd?.destroy();
}, 60_000);

const runRm = (id: string, args: string[], extra: string[] = [], input?: string) =>
  ctd.ctrStatus(["run", "--rm", "--runtime", RUNTIME, ...extra, "tiny:latest", id, ...args], input !== undefined ? { input } : {});

describe("ctr run --rm with Berth's shim", () => {
  it("prints a container's output", async () => {
    const result = await runRm("hello", ["echo", "hello"]);
    expect(result).toMatchObject({ code: 0, stdout: "hello\n" });
  });

  it("exits with the container's exit status", async () => {
    expect((await runRm("exit3", ["sh", "-c", "exit 3"])).code).toBe(3);
  });

  it("keeps stdout and stderr apart", async () => {
    const result = await runRm("streams", ["sh", "-c", "echo to-out; echo to-err >&2"]);
    expect(result.stdout).toBe("to-out\n");
    expect(result.stderr).toContain("to-err\n");
  });

  it("feeds stdin and ends it when the client closes it (CloseIO)", async () => {
    // ctr sends CloseIO on end of stdin only once its task exists (an EOF before that is
    // lost in ctr itself, with any shim): end stdin once the task runs.
    const child = spawn("ctr", ["-a", ctd.socket, "-n", ctd.namespace, "run", "--rm", "--runtime", RUNTIME, "tiny:latest", "stdin", "sh", "-c", "cat; echo done"]);
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
    try {
      child.stdin.write("line one\nline two\n");
      await eventually(async () => ((await ctd.ctr(["tasks", "ls"])).stdout.match(/^stdin\s+\d+\s+RUNNING/m) ? true : undefined));
      child.stdin.end();
      expect(await exited).toBe(0);
      expect(stdout).toBe("line one\nline two\ndone\n");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("publishes create, start, exit and delete in containerd's order", async () => {
    await runRm("ordered", ["true"]);
    await events.waitFor("/tasks/delete", "ordered");
    expect(events.topicsFor("ordered").filter((t) => t.startsWith("/tasks/"))).toEqual(["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"]);
    const exit = events.events.find((e) => e.topic === "/tasks/exit" && e.body.includes('"ordered"'))!;
    expect(exit.body).toMatch(/"exited_at"|"ExitedAt"|exited_at/i);
  });

  it("fails a container whose command does not exist, naming the cause", async () => {
    const result = await runRm("nocmd", ["/no/such/command"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/no such file or directory|not found/i);
    // Nothing is left of it.
    expect((await ctd.ctr(["tasks", "ls", "-q"])).stdout).not.toContain("nocmd");
  });
});

describe("log URIs", () => {
  it("file:// appends stdout and stderr to a file", async () => {
    const log = join(ctd.dir, "logs", "file.log");
    const result = await runRm("filelog", ["sh", "-c", "echo one; echo two >&2"], ["--log-uri", `file://${log}`]);
    expect(result.code).toBe(0);
    const text = await readFile(log, "utf8");
    expect(text.split("\n").sort()).toEqual(["", "one", "two"]);
  });

  it("binary:// hands the output to a logging program, as containerd does", async () => {
    const logger = join(ctd.dir, "logger.sh");
    const out = join(ctd.dir, "binary");
    // fds 3 and 4 are the process's stdout and stderr; closing fd 5 says the logger is ready.
    await writeFile(
      logger,
      `#!/bin/sh\nexec 5>&-\ncat <&3 > "$1.out" &\ncat <&4 > "$1.err" &\necho "$CONTAINER_ID $CONTAINER_NAMESPACE" > "$1.env"\nwait\n`,
    );
    await chmod(logger, 0o755);
    const result = await runRm("binlog", ["sh", "-c", "echo to-out; echo to-err >&2"], ["--log-uri", `binary://${logger}?${out}`]);
    expect(result.code).toBe(0);
    await eventually(async () => ((await readFile(`${out}.err`, "utf8").catch(() => "")) === "to-err\n" ? true : undefined));
    expect(await readFile(`${out}.out`, "utf8")).toBe("to-out\n");
    expect(await readFile(`${out}.env`, "utf8")).toBe(`binlog ${ctd.namespace}\n`);
  });
});
