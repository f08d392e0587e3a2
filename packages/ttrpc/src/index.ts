/**
 * @berth/ttrpc: ttrpc, the RPC containerd speaks with its shims (containerd.task.v2.Task) and
 * shims with containerd (events), over UNIX sockets: framing, multiplexed streams, unary and
 * streaming calls, metadata, status errors as Berth errdefs.
 */

// Clients.
export { createTtrpcClient, createTtrpcConnection } from "./client.js";
export type { TtrpcClient, TtrpcClientMethod, TtrpcClientHandle, TtrpcClientOptions } from "./client.js";
export type { TtrpcConnection } from "./client-connection.js";
export type { TtrpcCallOptions } from "./call-scope.js";

// Servers.
export { createTtrpcServer } from "./server.js";
export type { TtrpcServer, TtrpcServerOptions } from "./server.js";

// Metadata and the wire, for code that speaks the protocol at a lower level (and tests).
export { TTRPC_NAMESPACE_HEADER } from "./metadata.js";
export type { TtrpcMetadataInit } from "./metadata.js";
export { Flag, HEADER_LENGTH, MAX_DATA_LENGTH, MessageType, encodeHeader } from "./frame.js";
export type { Frame, OversizedFrame } from "./frame.js";
export { FrameDecoder, readFrames } from "./frame-reader.js";
export type { DecodedFrame } from "./frame-reader.js";
export { socketPath } from "./unix-socket.js";
