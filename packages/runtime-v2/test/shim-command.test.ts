import { chmod, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runShimStart, type ShimInvocation } from "../src/index.js";

/** A shell script standing in for a shim binary: what `start` sees and what it prints are the script's. */
async function fakeShim(script: string): Promise<ShimInvocation> {
  const dir = await mkdtemp(join(tmpdir(), "berth-shim-command-"));
  const binary = join(dir, "shim");
  await writeFile(binary, `#!/bin/sh\n${script}\n`);
  await chmod(binary, 0o755);
  return { binary, namespace: "ns1", id: "task1", bundle: dir, grpcAddress: "/run/g.sock", ttrpcAddress: "/run/g.sock.ttrpc", publishBinary: "/bin/false", debug: false, env: ["EXTRA=1"] };
}

describe("runShimStart", () => {
  it("runs the shim in its bundle with containerd's flags, environment and options on stdin, and reads the address it prints", async () => {
    const inv = await fakeShim('echo "$PWD|$*|$NAMESPACE|$TTRPC_ADDRESS|$EXTRA|$GOMAXPROCS" > seen; cat > options; echo unix:///run/shim.sock');
    const address = await runShimStart(inv, { typeUrl: "example.com/Options", value: new Uint8Array([1, 2, 3]) });
    expect(address).toEqual({ version: 2, protocol: "ttrpc", address: "unix:///run/shim.sock" });
    expect((await readFile(join(inv.bundle, "seen"), "utf8")).trim()).toBe(
      `${inv.bundle}|-namespace ns1 -address /run/g.sock -publish-binary /bin/false -id task1 start|ns1|/run/g.sock.ttrpc|1|2`,
    );
    // A protobuf Any: its type URL and the value bytes travel on stdin.
    const options = await readFile(join(inv.bundle, "options"));
    expect(options.includes(Buffer.from("example.com/Options"))).toBe(true);
    expect(options.subarray(-3)).toEqual(Buffer.from([1, 2, 3]));
  });

  it("runs the shim in a session of its own, with stdin at end of file when there are no options", async () => {
    const inv = await fakeShim("cat > stdin; ps -o sid= -p $$ > sid; echo $$ > pid; echo /run/s.sock");
    await runShimStart(inv, undefined);
    expect(await readFile(join(inv.bundle, "stdin"), "utf8")).toBe("");
    expect((await readFile(join(inv.bundle, "sid"), "utf8")).trim()).toBe((await readFile(join(inv.bundle, "pid"), "utf8")).trim());
  });

  it("a shim that fails is an error carrying what it wrote to stderr and its exit status", async () => {
    const inv = await fakeShim("echo 'no runc here' >&2; exit 3");
    await expect(runShimStart(inv, undefined)).rejects.toThrow(/start failed: no runc here: exit status 3$/);
  });

  it("a shim that does not exist is ENOENT, and an aborted start kills the shim", async () => {
    const missing = { ...(await fakeShim("")), binary: "/no/such/shim" };
    await expect(runShimStart(missing, undefined)).rejects.toMatchObject({ code: "ENOENT" });
    const inv = await fakeShim("echo $$ > pid; exec sleep 30");
    const controller = new AbortController();
    const started = runShimStart(inv, undefined, controller.signal);
    const pid = Number(await waitForFile(join(inv.bundle, "pid")));
    controller.abort();
    await expect(started).rejects.toThrow(/canceled/);
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/); // killed and reaped
  });
});

async function waitForFile(path: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const text = await readFile(path, "utf8").catch(() => "");
    if (text.trim() !== "") return text.trim();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${path} never appeared`);
}
