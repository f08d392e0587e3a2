import { randomBytes } from "node:crypto";

/** A new sandbox or container ID: 64 hex characters, the form the kubelet and crictl expect. */
export function generateId(): string {
  return randomBytes(32).toString("hex");
}
