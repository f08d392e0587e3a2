import type { Socket } from "node:net";
import { Duplex } from "node:stream";
import { AuthorityRewriter } from "./authority-rewriter.js";

/**
 * The socket as Node's HTTP/2 server will read it: what the client sends goes through an
 * AuthorityRewriter (starting with `received`, the bytes read before the connection was
 * routed here), what the server writes goes to the socket as is. Node wraps any stream that is
 * not a native socket in a JSStreamSocket, which costs about half the throughput, so only
 * connections that need rewriting get one.
 */
export function createRewritingSocket(socket: Socket, received: Buffer): Duplex & { readonly rewriter: AuthorityRewriter } {
  const rewriter = new AuthorityRewriter();
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, (err) => callback(err ?? null));
    },
    final(callback) {
      socket.end(() => callback());
    },
    destroy(err, callback) {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  const forward = (chunk: Buffer) => {
    let more = true;
    for (const piece of rewriter.push(chunk)) more = duplex.push(piece) && more;
    if (!more) socket.pause();
  };
  socket.on("data", forward);
  socket.on("end", () => duplex.push(null));
  socket.on("error", (err) => duplex.destroy(err));
  socket.on("close", () => duplex.destroy());
  if (received.length > 0) forward(received);
  return Object.assign(duplex, { rewriter });
}
