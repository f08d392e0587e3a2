// Images whose config sets `User`, made from the tiny fixture's layer with a config of the
// test's own and pushed to the test registry, for ImageStatus's uid/username.
import { createHash } from "node:crypto";
import { createResolver } from "@berth/distribution";
import { fixtureBlob, type FixtureSummary } from "@berth/testing";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";

const digestOf = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** Pushes `<host>/<repo>:latest`: tiny's layer under a config with `User: user`; returns the manifest digest. */
export async function pushUserImage(host: string, repo: string, user: string, fixtures: FixtureSummary): Promise<string> {
  const tiny = fixtures.tiny;
  const tinyConfig = JSON.parse(fixtureBlob("tiny", tiny.config!).toString()) as { config?: Record<string, unknown> };
  const config = Buffer.from(JSON.stringify({ ...tinyConfig, config: { ...tinyConfig.config, User: user } }));
  const tinyManifest = JSON.parse(fixtureBlob("tiny", tiny.digest).toString()) as { layers: { mediaType: string; digest: string; size: number }[] };
  const layerDesc = tinyManifest.layers[0]!;
  const configDesc = { mediaType: OCI_CONFIG, digest: digestOf(config), size: config.length };
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDesc, layers: [layerDesc] }));
  const resolver = createResolver({ plainHttp: true });
  try {
    const pusher = resolver.pusher(`${host}/${repo}:latest`);
    await pusher.push(layerDesc, fixtureBlob("tiny", layerDesc.digest));
    await pusher.push(configDesc, config);
    const manifestDesc = { mediaType: OCI_MANIFEST, digest: digestOf(manifest), size: manifest.length };
    await pusher.push(manifestDesc, manifest);
    return manifestDesc.digest;
  } finally {
    await resolver.close();
  }
}
