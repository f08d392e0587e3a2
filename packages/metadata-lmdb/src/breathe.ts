/**
 * Gives the event loop `ms` (at least one timer tick) before long background work goes on. A
 * request needs several loop turns to get through (its socket, gRPC, lmdb's write thread and
 * back): background slices separated by a bare setImmediate would run one slice per turn and
 * make it wait for several of them.
 */
export function breathe(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(ms))));
}
