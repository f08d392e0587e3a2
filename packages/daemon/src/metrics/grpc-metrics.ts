import type { DescMethod } from "@bufbuild/protobuf";
import type { MetricsRegistry } from "./registry.js";

/** Request counts and latencies per method, named as go-grpc-prometheus names them for containerd. */
export interface GrpcMetrics {
  started(method: DescMethod): void;
  handled(method: DescMethod, code: number, seconds: number): void;
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
  const labels = (m: DescMethod) => ({ grpc_type: GRPC_TYPE[m.methodKind], grpc_service: m.parent.typeName, grpc_method: m.name });
  return {
    started: (m) => started.inc(labels(m)),
    handled: (m, code, secs) => {
      handled.inc({ ...labels(m), grpc_code: CODE_NAMES[code] ?? String(code) });
      seconds?.observe(labels(m), secs);
    },
  };
}
