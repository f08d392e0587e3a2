import { EventPlugin, GrpcPlugin, definePlugin } from "@berth/core";
import { createEventsService } from "./events-service.js";
import { createExchange } from "./exchange.js";

/** io.containerd.event.v1.exchange: the daemon's one event exchange. */
export const exchangePlugin = definePlugin({
  type: EventPlugin,
  id: "exchange",
  init: () => createExchange(),
});

/** io.containerd.grpc.v1.events: the exchange served as containerd.services.events.v1.Events. */
export const eventsGrpcPlugin = definePlugin({
  type: GrpcPlugin,
  id: "events",
  requires: [EventPlugin],
  init: (ctx) => createEventsService(ctx.single(EventPlugin)),
});
