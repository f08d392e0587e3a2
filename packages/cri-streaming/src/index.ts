// @berth/cri-streaming: the kubelet streaming server (CRI Exec, Attach, PortForward).
// For the CRI plugin: the server, its handler contract and request types.
export { createStreamingServer } from "./streaming-server.js";
export type { StreamingServer, StreamingServerOptions } from "./streaming-server.js";
export type {
  AttachRequest, ContainerStreams, ExecRequest, PortForwardRequest, StreamingHandlers, TerminalSize,
} from "./types.js";
export { DEFAULT_MAX_IN_FLIGHT, DEFAULT_TOKEN_TTL_MS, RequestCache } from "./request-cache.js";
export type { RequestCacheOptions } from "./request-cache.js";
export {
  PORT_FORWARD_SPDY_PROTOCOL, PORT_FORWARD_WS_PROTOCOLS, REMOTE_COMMAND_SPDY_PROTOCOLS, REMOTE_COMMAND_WS_PROTOCOLS,
  StreamHeader, StreamType,
} from "./protocols.js";
export type { WebSocketProtocolInfo } from "./protocols.js";
export { exitCodeStatus, internalErrorStatus, successStatus } from "./remotecommand/status.js";
export type { K8sStatus } from "./remotecommand/status.js";

// Building blocks, for tests and other SPDY/WebSocket users (no stability promise).
export { SpdyServerSession } from "./spdy/spdy-session.js";
export type { SpdySessionOptions } from "./spdy/spdy-session.js";
export { SpdyStream } from "./spdy/spdy-stream.js";
export {
  ControlType, encodeFrame, FLAG_FIN, FLAG_UNIDIRECTIONAL, FrameParser, GoAwayStatus, RstStatus, SpdyProtocolError,
} from "./spdy/frames.js";
export type { SpdyFrame } from "./spdy/frames.js";
export { decodeHeaderBlock, encodeHeaderBlock, headerValue, spdyHeaders } from "./spdy/header-block.js";
export type { SpdyHeaders } from "./spdy/header-block.js";
export { SPDY3_HEADER_DICTIONARY } from "./spdy/dictionary.js";
export { encodeMaskedWsFrame, encodeWsFrame, Opcode, WsFrameParser } from "./websocket/frames.js";
export { websocketAccept } from "./websocket/handshake.js";
