// The client half of an HTTP/1.1 upgrade, written on a bare socket so a test sees exactly
// what the server answered (status, headers, body) and the bytes that followed the head.
import { connect, type Socket } from "node:net";

export interface UpgradeResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends an HTTP upgrade request and reads the response head; the socket stays open on 101. */
export async function upgrade(url: string, headers: Record<string, string | string[]>, method = "POST"): Promise<{ socket: Socket; response: UpgradeResult; rest: Buffer }> {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const lines = [`${method} ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`];
  for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
  socket.write(lines.join("\r\n") + "\r\n\r\n");
  let buf = Buffer.alloc(0);
  for (;;) {
    const chunk = await new Promise<Buffer | null>((resolve) => {
      const onData = (c: Buffer): void => {
        cleanup();
        resolve(c);
      };
      const onEnd = (): void => {
        cleanup();
        resolve(null);
      };
      const cleanup = (): void => {
        socket.off("data", onData);
        socket.off("end", onEnd);
        socket.off("close", onEnd);
      };
      socket.on("data", onData);
      socket.once("end", onEnd);
      socket.once("close", onEnd);
    });
    if (chunk) buf = Buffer.concat([buf, chunk]);
    const end = buf.indexOf("\r\n\r\n");
    if (end >= 0 || !chunk) {
      socket.pause();
      const headText = buf.subarray(0, end >= 0 ? end : buf.length).toString();
      const [statusLine = "", ...rest] = headText.split("\r\n");
      const hdrs: Record<string, string> = {};
      for (const l of rest) {
        const i = l.indexOf(":");
        if (i > 0) hdrs[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      let after = end >= 0 ? buf.subarray(end + 4) : Buffer.alloc(0);
      const status = Number(statusLine.split(" ")[1]);
      let body = "";
      if (status !== 101) {
        const len = Number(hdrs["content-length"] ?? 0);
        while (after.length < len) {
          socket.resume();
          const c = await new Promise<Buffer | null>((r) => {
            socket.once("data", r);
            socket.once("close", () => r(null));
          });
          socket.pause();
          if (!c) break;
          after = Buffer.concat([after, c]);
        }
        body = after.toString();
        after = Buffer.alloc(0);
      }
      return { socket, response: { status, headers: hdrs, body }, rest: after };
    }
  }
}
