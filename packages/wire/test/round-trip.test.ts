import { contentApi, snapshotsApi, types } from "@berth/api";
import { BerthError, type ContentInfo, type Descriptor, type IngestStatus, type Mount, type SnapshotInfo } from "@berth/core";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  contentInfoFromWire,
  contentInfoToWire,
  descriptorFromWire,
  descriptorToWire,
  ingestStatusFromWire,
  ingestStatusToWire,
  kindFromWire,
  mountsFromWire,
  mountsToWire,
  snapshotInfoFromWire,
  snapshotInfoToWire,
  updateMaskToWire,
  usageFromWire,
  usageToWire,
} from "../src/index.js";

const created = new Date("2026-01-02T03:04:05.678Z");
const updated = new Date("2026-02-03T04:05:06.789Z");

describe("wire conversions", () => {
  it("round-trips mounts, dropping containerd's empty target", () => {
    const mounts: Mount[] = [
      { type: "overlay", source: "overlay", options: ["lowerdir=/a:/b", "upperdir=/c"] },
      { type: "bind", source: "/src", target: "/dst", options: ["rbind"] },
    ];
    const wire = mountsToWire(mounts).map((m) => create(types.MountSchema, m));
    expect(wire[0]?.target).toBe("");
    expect(mountsFromWire(wire)).toEqual(mounts);
  });

  it("round-trips descriptors, with and without annotations", () => {
    const plain: Descriptor = { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: `sha256:${"a".repeat(64)}`, size: 42 };
    const annotated: Descriptor = { ...plain, annotations: { "org.example": "yes" } };
    for (const desc of [plain, annotated]) expect(descriptorFromWire(create(types.DescriptorSchema, descriptorToWire(desc)))).toEqual(desc);
  });

  it("refuses a descriptor size a number cannot hold exactly", () => {
    const wire = create(types.DescriptorSchema, { mediaType: "m", digest: "d", size: 2n ** 60n });
    expect(() => descriptorFromWire(wire)).toThrow(BerthError);
    expect(() => descriptorFromWire(wire)).toThrow(/out of range/);
  });

  it("round-trips snapshot infos of every kind", () => {
    for (const kind of ["view", "active", "committed"] as const) {
      const info: SnapshotInfo = { kind, name: `n-${kind}`, parent: "p", labels: { a: "b" }, createdAt: created, updatedAt: updated };
      expect(snapshotInfoFromWire(create(snapshotsApi.InfoSchema, snapshotInfoToWire(info)))).toEqual(info);
    }
  });

  it("refuses an unknown snapshot kind as InvalidArgument", () => {
    expect(() => kindFromWire(99 as snapshotsApi.Kind)).toThrow(/unknown snapshot kind 99/);
    expect(() => kindFromWire(snapshotsApi.Kind.UNKNOWN)).toThrow(BerthError);
  });

  it("reads unset timestamps as the epoch", () => {
    const info = snapshotInfoFromWire(create(snapshotsApi.InfoSchema, { name: "x", kind: snapshotsApi.Kind.ACTIVE }));
    expect(info.createdAt.getTime()).toBe(0);
    expect(info.updatedAt.getTime()).toBe(0);
  });

  it("round-trips usage", () => {
    const usage = { size: 4096, inodes: 3 };
    expect(usageFromWire(create(snapshotsApi.UsageResponseSchema, usageToWire(usage)))).toEqual(usage);
  });

  it("round-trips content infos and ingest statuses", () => {
    const info: ContentInfo = { digest: `sha256:${"b".repeat(64)}`, size: 7, labels: { l: "v" }, createdAt: created, updatedAt: updated };
    expect(contentInfoFromWire(create(contentApi.InfoSchema, contentInfoToWire(info)))).toEqual(info);
    const status: IngestStatus = { ref: "r", offset: 3, total: 7, expected: info.digest, startedAt: created, updatedAt: updated };
    expect(ingestStatusFromWire(create(contentApi.StatusSchema, ingestStatusToWire(status)))).toEqual(status);
  });

  it("sends no update mask for an empty field list", () => {
    expect(updateMaskToWire([])).toBeUndefined();
    expect(updateMaskToWire(["labels.a"])).toEqual({ paths: ["labels.a"] });
  });
});
