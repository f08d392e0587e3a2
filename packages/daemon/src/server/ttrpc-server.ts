import { chown } from "node:fs/promises";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ttrpcEventsApi } from "@berth/api";
import { invalidArgument, type Forwarder, type Logger } from "@berth/core";
import { createTtrpcServer, type TtrpcServer } from "@berth/ttrpc";

export interface ShimEventsServerOptions {
  readonly uid: number;
  readonly gid: number;
  readonly log: Logger;
}

/**
 * The daemon's ttrpc socket (containerd's `<grpc address>.ttrpc`, [ttrpc] address): shims send
 * their task events here, containerd.services.events.ttrpc.v1.Events/Forward, and each envelope
 * goes into the exchange as the shim stamped it (namespace, topic, time).
 *
 * Built into the daemon rather than a plugin type: its address is the daemon's (plugins are
 * told it through DaemonInfo.ttrpcAddress, to hand to shims) and Forward is the one service
 * containerd serves on it; more ttrpc services would want an io.containerd.ttrpc.v1 token in core.
 */
export async function serveShimEvents(address: string, exchange: Forwarder, opts: ShimEventsServerOptions): Promise<TtrpcServer> {
  const server = createTtrpcServer({ log: opts.log, socketMode: 0o660 });
  server.register(ttrpcEventsApi.Events, {
    async forward(req) {
      const envelope = req.envelope;
      if (!envelope?.event) throw invalidArgument("envelope with an event is required");
      await exchange.forward({
        timestamp: envelope.timestamp ? timestampDate(envelope.timestamp) : new Date(),
        namespace: envelope.namespace,
        topic: envelope.topic,
        event: { typeUrl: envelope.event.typeUrl, value: envelope.event.value },
      });
      return {};
    },
  });
  await server.listen(address);
  try {
    await chown(address.startsWith("unix://") ? address.slice("unix://".length) : address, opts.uid, opts.gid);
  } catch (err) {
    await server.close();
    throw err;
  }
  return server;
}
