import type { DescMethod } from "@bufbuild/protobuf";
import type { MetricsRegistry } from "./registry.js";

/** Request counts and latencies per method, named as go-grpc-prometheus names them for containerd. */
export interface GrpcMetrics {
  /** The series of one method, resolved once when the server binds it: calls only add numbers. */
  forMethod(method: DescMethod): MethodMetrics;
}

export interface MethodMetrics {
  started(): void;
  handled(code: number, seconds: number): void;
}

const CODE_NAMES = ["OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"];
const GRPC_TYPE = { unary: "unary", server_streaming: "server_stream", client_streaming: "client_stream", bidi_streaming: "bidi_stream" } as const;
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createGrpcMetrics(registry: MetricsRegistry, histogram: boolean): GrpcMetrics {
  const started = registry.counter("grpc_server_started_total", "Total number of RPCs started on the server.");
  const handled = registry.counter("grpc_server_handled_total", "Total number of RPCs completed on the server, regardless of success or failure.");
  const seconds = histogram
    ? registry.histogram("grpc_server_handling_seconds", "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.", BUCKETS)
    : undefined;
  return {
    forMethod(m) {
      const labels = { grpc_type: GRPC_TYPE[m.methodKind], grpc_service: m.parent.typeName, grpc_method: m.name };
      const startedSeries = started.series(labels);
      const latency = seconds?.series(labels);
      // Per status code, rendered on first use: most methods only ever see a few codes.
      const handledByCode = new Map<number, { inc(by?: number): void }>();
      const handledSeries = (code: number) => {
        let series = handledByCode.get(code);
        if (!series) handledByCode.set(code, (series = handled.series({ ...labels, grpc_code: CODE_NAMES[code] ?? String(code) })));
        return series;
      };
      return {
        started: () => startedSeries.inc(),
        handled: (code, secs) => {
          handledSeries(code).inc();
          latency?.observe(secs);
        },
      };
    },
  };
}
