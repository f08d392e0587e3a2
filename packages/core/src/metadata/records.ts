import type { EventPayload } from "../events/index.js";
import type { Descriptor } from "../content/index.js";

/** A typed value as containerd stores it (google.protobuf.Any's shape). */
export type TypedValue = EventPayload;

export interface Namespace {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface Image {
  /** Fully qualified reference, e.g. docker.io/library/busybox:latest */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly target: Descriptor;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface Container {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly image: string;
  readonly runtime: { readonly name: string; readonly options?: TypedValue | undefined };
  /** The OCI runtime spec, as containerd carries it. */
  readonly spec?: TypedValue | undefined;
  readonly snapshotter: string;
  readonly snapshotKey: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly extensions: Readonly<Record<string, TypedValue>>;
  readonly sandbox: string;
}

export interface Lease {
  readonly id: string;
  readonly createdAt: Date;
  readonly labels: Readonly<Record<string, string>>;
}

/** Something a lease holds: { id: "sha256:…", type: "content" } or "snapshots/<snapshotter>", "ingests". */
export interface LeaseResource {
  readonly id: string;
  readonly type: string;
}
