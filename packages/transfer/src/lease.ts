import { randomBytes } from "node:crypto";
import type { LeaseManager, OpContext } from "@berth/core";

/** How long a transfer's temporary lease protects what it wrote if the process dies mid-way. */
const TRANSFER_LEASE_EXPIRY_MS = 24 * 3600 * 1000;

/**
 * Runs `fn` under the caller's lease, or under a temporary one (deleted afterwards) that
 * expires by itself if the process dies, so blobs written before the image record exists are
 * not collected meanwhile.
 */
export async function withLease<T>(leases: LeaseManager, ctx: OpContext, fn: (ctx: OpContext) => Promise<T>, prefix = "transfer"): Promise<T> {
  if (ctx.lease !== undefined) return fn(ctx);
  const expire = new Date(Date.now() + TRANSFER_LEASE_EXPIRY_MS).toISOString();
  const lease = await leases.create(ctx, { id: `${prefix}-${randomBytes(8).toString("hex")}`, labels: { "containerd.io/gc.expire": expire } });
  try {
    return await fn({ ...ctx, lease: lease.id });
  } finally {
    await leases.delete(ctx, lease.id).catch(() => undefined);
  }
}
