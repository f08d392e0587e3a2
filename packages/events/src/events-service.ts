import { eventsApi } from "@berth/api";
import { bindService, invalidArgument, requireNamespace, type Exchange, type GrpcService } from "@berth/core";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";

/** containerd.services.events.v1.Events over an exchange. */
export function createEventsService(exchange: Exchange): GrpcService {
  return {
    bindings: [
      bindService(eventsApi.Events, {
        async publish(req, ctx) {
          const namespace = requireNamespace(ctx);
          if (!req.event) throw invalidArgument("event must not be empty");
          await exchange.publish(namespace, req.topic, { typeUrl: req.event.typeUrl, value: req.event.value });
          return {};
        },
        async forward(req) {
          const env = req.envelope;
          if (!env?.event) throw invalidArgument("envelope with an event is required");
          await exchange.forward({
            timestamp: env.timestamp ? timestampDate(env.timestamp) : new Date(),
            namespace: env.namespace,
            topic: env.topic,
            event: { typeUrl: env.event.typeUrl, value: env.event.value },
          });
          return {};
        },
        async *subscribe(req, ctx) {
          for await (const env of exchange.subscribe(req.filters, ctx.signal)) {
            yield {
              timestamp: timestampFromDate(env.timestamp),
              namespace: env.namespace,
              topic: env.topic,
              event: { typeUrl: env.event.typeUrl, value: env.event.value },
            };
          }
        },
      }),
    ],
  };
}
