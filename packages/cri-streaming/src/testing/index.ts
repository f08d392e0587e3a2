// @berth/cri-streaming/testing: small clients of the streaming protocols, written apart from
// the server's code, for this package's tests and for packages that test through a streaming
// server (the CRI). Not part of the runtime API.
export { upgrade, type UpgradeResult } from "./http-upgrade.js";
export { maskedFrame, WsTestClient, type WsMessage } from "./ws-test-client.js";
export { openWsSession, type WsSession } from "./ws-channel-session.js";
