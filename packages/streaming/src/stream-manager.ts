import { alreadyExists, notFound, type Stream, type StreamManager } from "@berth/core";

/** Streams by namespace and ID; a stream leaves the map when it closes. */
export function createStreamManager(): StreamManager {
  const streams = new Map<string, Stream>();
  const key = (namespace: string, id: string) => `${namespace}\0${id}`;
  return {
    register(namespace, id, stream) {
      if (streams.has(key(namespace, id))) throw alreadyExists(`stream ${id} already registered in namespace ${namespace}`);
      streams.set(key(namespace, id), stream);
      return () => {
        if (streams.get(key(namespace, id)) === stream) streams.delete(key(namespace, id));
      };
    },
    get(namespace, id) {
      const stream = streams.get(key(namespace, id));
      if (stream === undefined) throw notFound(`stream ${id} not found in namespace ${namespace}`);
      return stream;
    },
  };
}
