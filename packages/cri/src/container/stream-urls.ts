import type { AttachRequest, ExecRequest, PortForwardRequest } from "@berth/cri-streaming";
import { unavailable } from "@berth/core";

/** The streaming server's URL maker, as far as the RPCs need it (Exec, Attach, PortForward). */
export interface StreamUrls {
  exec(req: ExecRequest): string;
  attach(req: AttachRequest): string;
  portForward(req: PortForwardRequest): string;
}

/** Until the streaming server runs (or when it could not start), the streaming RPCs are unavailable. */
export const NO_STREAM_URLS: StreamUrls = {
  exec: () => {
    throw unavailable("cri: the streaming server is not running");
  },
  attach: () => {
    throw unavailable("cri: the streaming server is not running");
  },
  portForward: () => {
    throw unavailable("cri: the streaming server is not running");
  },
};
