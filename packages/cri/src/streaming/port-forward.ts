import { spawn } from "node:child_process";
import type { Duplex } from "node:stream";
import { failedPrecondition, unavailable } from "@berth/core";

/**
 * Connects `stream` to 127.0.0.1:`port` inside the network namespace at `netnsPath` ("" = the
 * host's) by running `nsenter --net=<netns> socat STDIO TCP4:127.0.0.1:<port>` and piping both
 * ways. A child process, not a socket opened from here: a Node process cannot switch one thread
 * into another network namespace (setns would move the whole event loop), and socat then owns
 * the connection's life: it exits when either side closes. Resolves when the connection ends.
 */
export async function forwardToPodPort(netnsPath: string, port: number, stream: Duplex, signal: AbortSignal): Promise<void> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw failedPrecondition(`invalid port ${port}`);
  const target = `TCP4:127.0.0.1:${port}`;
  const [cmd, args] = netnsPath === "" ? ["socat", ["STDIO", target]] : ["nsenter", [`--net=${netnsPath}`, "socat", "STDIO", target]];
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], signal });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (err) => reject(unavailable(`port-forward: cannot run ${cmd} (socat and nsenter are needed): ${err.message}`, err)));
  });
  stream.pipe(child.stdin);
  child.stdout.pipe(stream, { end: true });
  child.stdin.on("error", () => {});
  stream.on("error", () => child.kill("SIGTERM"));
  const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
  stream.unpipe(child.stdin);
  if (code !== 0 && !signal.aborted) {
    throw unavailable(`port-forward to port ${port} failed: ${stderr.trim() || `socat exited with ${code}`}`);
  }
}
