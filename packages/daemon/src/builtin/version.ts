import { versionApi } from "@berth/api";
import { BERTH_VERSION, GrpcPlugin, bindService, definePlugin } from "@berth/core";
import { BERTH_REVISION } from "./server-info.js";

/** io.containerd.grpc.v1.version: containerd.services.version.v1.Version. */
export const versionPlugin = definePlugin({
  type: GrpcPlugin,
  id: "version",
  init: () => ({
    bindings: [bindService(versionApi.Version, { version: async () => ({ version: BERTH_VERSION, revision: BERTH_REVISION }) })],
  }),
});
