/**
 * @berth/testing: what Berth's tests share. Everything here runs for real: the fixture images
 * from ../shared/fixtures, Debian's docker-registry with images pushed by skopeo, a proxy that
 * counts bytes and breaks connections on demand, certificates and a token server for
 * authenticated registries, Debian's containerd on a private root and socket, and berthd in this
 * process in a temp dir. Missing tools or root fail a test with what to install; nothing skips.
 *
 * It depends only on @berth/core and @berth/mount (whose own tests therefore cannot use it):
 * the daemon is started by a function the test passes in, so any package's tests may use this
 * one without a dependency cycle.
 */

// Tools and root.
export { exec, requireTool, requireRoot } from "./tools.js";
export { freePort } from "./free-port.js";
export { residentBytes, requireDiskBacked } from "./page-cache.js";

// Fixture images.
export { ensureFixtureImages, fixtureLayout, fixtureBlob, imagesDir, repoRoot } from "./fixtures.js";
export type { FixtureName, FixtureImage, FixtureSummary } from "./fixtures.js";
export { fixtureRegistrySetup } from "./fixture-registry-setup.js";

// The images critest pulls, a registry serving them under their original paths, pod networks.
export { buildCriImages, criImagesDir, CRI_SANDBOX_IMAGE } from "./cri-images.js";
export type { CriImage, CriImageSummary, BuildCriImagesOptions } from "./cri-images.js";
export { startCriRegistry, writeCriHostsDir } from "./cri-registry.js";
export type { CriRegistry } from "./cri-registry.js";
export { writeCriCniConf } from "./cri-cni.js";
export type { CriCniNetwork, CriCniOptions } from "./cri-cni.js";
export { criRegistrySetup } from "./cri-registry-setup.js";

// Registries and what stands in front of them.
export { startRegistry } from "./registry.js";
export type { TestRegistry, RegistryOptions, RegistryAuth } from "./registry.js";
export { writeHtpasswd } from "./htpasswd.js";
export { startProxy } from "./proxy.js";
export type { TestProxy, ProxiedRequest, ProxyOptions } from "./proxy.js";
export { makeCerts, certDerBase64 } from "./certs.js";
export type { TestCerts } from "./certs.js";
export { startTokenServer } from "./token-server.js";
export type { TokenServer, TokenServerOptions, TokenRequestRecord } from "./token-server.js";

// Mounts a test made.
export { mountsBelow } from "./mounts.js";

// Debian's containerd, privately: the reference to compare with.
export { startPrivateContainerd, ctrIn, importFixture } from "./private-containerd.js";
export type { PrivateContainerd, PrivateContainerdOptions, Ctr, ImportFixtureOptions } from "./private-containerd.js";

// The daemon.
export { startTestDaemon, testLogger } from "./test-daemon.js";
export type { TestDaemon, TestDaemonOptions, DaemonStarter, RunningDaemon } from "./test-daemon.js";
