import { healthApi } from "@berth/api";
import { GrpcPlugin, bindService, definePlugin } from "@berth/core";
import { once } from "node:events";

const { SERVING } = healthApi.HealthCheckResponse_ServingStatus;

/** io.containerd.grpc.v1.healthcheck: grpc.health.v1.Health; serving while the daemon runs. */
export const healthPlugin = definePlugin({
  type: GrpcPlugin,
  id: "healthcheck",
  init: () => ({
    bindings: [
      bindService(healthApi.Health, {
        check: async () => ({ status: SERVING }),
        async *watch(_req, ctx) {
          yield { status: SERVING };
          if (!ctx.signal.aborted) await once(ctx.signal, "abort");
        },
      }),
    ],
  }),
});
