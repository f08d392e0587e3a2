// PullImage with the kubelet's AuthConfig, against a registry that requires basic auth.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { ensureFixtureImages, startRegistry, type FixtureSummary, type TestRegistry } from "@berth/testing";
import { startCriDaemon, type CriDaemon } from "./cri-daemon.js";

describe("CRI PullImage with AuthConfig", () => {
  let fixtures: FixtureSummary;
  let registry: TestRegistry;
  let cri: CriDaemon;
  let ref: string;

  beforeAll(async () => {
    fixtures = await ensureFixtureImages();
    registry = await startRegistry({ images: ["tiny"], auth: { users: { kubelet: "s3cret" } } });
    ref = `${registry.host}/tiny:latest`;
    cri = await startCriDaemon();
  }, 180_000);

  afterAll(async () => {
    await cri?.dispose();
    await registry?.stop();
  }, 120_000);

  it("fails without credentials", async () => {
    const err = await cri.images.pullImage({ image: { image: ref } }).then(() => undefined, (e: unknown) => e);
    expect(["Unauthenticated", "PermissionDenied"]).toContain(classOf(err));
  });

  it("ignores credentials for another server", async () => {
    const auth = { username: "kubelet", password: "s3cret", serverAddress: "https://elsewhere.example" };
    const err = await cri.images.pullImage({ image: { image: ref }, auth }).then(() => undefined, (e: unknown) => e);
    expect(["Unauthenticated", "PermissionDenied"]).toContain(classOf(err));
  });

  it("pulls with username and password", async () => {
    const auth = { username: "kubelet", password: "s3cret", serverAddress: registry.host };
    expect((await cri.images.pullImage({ image: { image: ref }, auth })).imageRef).toBe(fixtures.tiny.config);
  });

  it("pulls with base64 auth", async () => {
    await cri.images.removeImage({ image: { image: ref } });
    const auth = { auth: Buffer.from("kubelet:s3cret").toString("base64") };
    expect((await cri.images.pullImage({ image: { image: ref }, auth })).imageRef).toBe(fixtures.tiny.config);
  });
});
