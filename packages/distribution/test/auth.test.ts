import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { classOf, type Descriptor } from "@berth/core";
import {
  exec,
  fixtureBlob,
  makeCerts,
  requireTool,
  startRegistry,
  startTokenServer,
  type TestCerts,
  type TestRegistry,
  type TokenServer,
} from "@berth/testing";
import { MediaTypes, type Credentials } from "../src/index.js";
import { newResolver, readAll, rejection } from "./support/helpers.js";

const fixtures = inject("fixtures");
const layer: Descriptor = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...fixtures.tiny.layers![0]! };
const creds = (username: string, password: string) => (): Credentials => ({ username, password });

describe("basic auth (registry with an htpasswd file, bcrypt from htpasswd -B)", () => {
  let registry: TestRegistry;
  let dir: string;
  beforeAll(async () => {
    await requireTool("htpasswd", "apache2-utils");
    dir = await mkdtemp(join(tmpdir(), "berth-htpasswd-"));
    await exec("htpasswd", ["-Bbc", join(dir, "htpasswd"), "alice", "s3cret"]);
    registry = await startRegistry({ auth: { htpasswd: join(dir, "htpasswd") }, images: ["tiny"], pushCredentials: "alice:s3cret" });
  });
  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("pulls with the right username and password", async () => {
    const asked: string[] = [];
    const resolver = newResolver({ plainHttp: true, credentials: (host) => (asked.push(host), { username: "alice", password: "s3cret" }) });
    const { descriptor } = await resolver.resolve(`${registry.host}/tiny`);
    expect(descriptor.digest).toBe(fixtures.tiny.digest);
    const bytes = await readAll(resolver.fetcher(`${registry.host}/tiny`).fetch(layer));
    expect(bytes.equals(fixtureBlob("tiny", layer.digest))).toBe(true);
    expect(asked).toEqual([registry.host]);
  });

  it("says Unauthenticated, naming the user, for a wrong password", async () => {
    const err = await rejection(newResolver({ plainHttp: true, credentials: creds("alice", "wrong") }).resolve(`${registry.host}/tiny`));
    expect(classOf(err)).toBe("Unauthenticated");
    expect(err.message).toContain(`${registry.host} rejected the username/password of user "alice"`);
  });

  it("says Unauthenticated when no credentials are given", async () => {
    const err = await rejection(newResolver({ plainHttp: true }).resolve(`${registry.host}/tiny`));
    expect(classOf(err)).toBe("Unauthenticated");
    expect(err.message).toContain("requires basic authentication and no username/password was given");
  });

  it("pushes with credentials", async () => {
    const resolver = newResolver({ plainHttp: true, credentials: creds("alice", "s3cret") });
    const bytes = fixtureBlob("tiny", fixtures.tiny.digest);
    const root = { mediaType: MediaTypes.ociManifest, digest: fixtures.tiny.digest, size: bytes.byteLength };
    const pusher = resolver.pusher(`${registry.host}/copy:v1`);
    const manifest = JSON.parse(bytes.toString()) as { config: Descriptor; layers: Descriptor[] };
    for (const blob of [manifest.config, ...manifest.layers]) {
      expect((await pusher.push(blob, fixtureBlob("tiny", blob.digest), { mountFrom: ["tiny"] })).outcome).toBe("mounted");
    }
    await pusher.push(root, bytes);
    expect((await resolver.resolve(`${registry.host}/copy:v1`)).descriptor).toEqual(root);
  });
});

describe("token auth (registry with auth: token, a token server in the test)", () => {
  let certs: TestCerts;
  let tokens: TokenServer;
  let registry: TestRegistry;
  beforeAll(async () => {
    certs = await makeCerts();
    tokens = await startTokenServer({ signingCert: certs.tokenCert, signingKey: certs.tokenKey, users: { bob: "hunter2" }, identityTokens: { carol: "carols-identity-token" }, publicRepositories: ["tiny"] });
    registry = await startRegistry({
      auth: { token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: certs.tokenCert } },
      images: ["tiny"],
      pushCredentials: "bob:hunter2",
    });
  });
  afterAll(async () => {
    await registry?.stop();
    await tokens?.close();
    await certs?.remove();
  });

  it("pulls a public repository with an anonymous token", async () => {
    tokens.requests.length = 0;
    const resolver = newResolver({ plainHttp: true });
    const { descriptor } = await resolver.resolve(`${registry.host}/tiny`);
    expect(descriptor.digest).toBe(fixtures.tiny.digest);
    expect(tokens.requests).toEqual([{ user: undefined, scopes: ["repository:tiny:pull"], service: tokens.service, status: 200 }]);
  });

  it("pulls with credentials, asking the token server once per scope set", async () => {
    tokens.requests.length = 0;
    const resolver = newResolver({ plainHttp: true, credentials: creds("bob", "hunter2") });
    const { name, descriptor } = await resolver.resolve(`${registry.host}/tiny`);
    const fetcher = resolver.fetcher(name);
    const manifest = JSON.parse((await readAll(fetcher.fetch(descriptor))).toString()) as { config: Descriptor; layers: Descriptor[] };
    await Promise.all([manifest.config, ...manifest.layers, manifest.config].map((d) => readAll(fetcher.fetch(d))));
    expect(tokens.requests).toEqual([{ user: "bob", scopes: ["repository:tiny:pull"], service: tokens.service, status: 200 }]);
  });

  it("pushes with a pull,push token, mounting from another repository with its pull scope added", async () => {
    tokens.requests.length = 0;
    const resolver = newResolver({ plainHttp: true, credentials: creds("bob", "hunter2") });
    const pusher = resolver.pusher(`${registry.host}/private:v1`);
    const result = await pusher.push(layer, fixtureBlob("tiny", layer.digest), { mountFrom: ["tiny"] });
    expect(result.outcome).toBe("mounted");
    expect(tokens.requests.some((r) => r.scopes.includes("repository:private:pull,push") && r.scopes.includes("repository:tiny:pull"))).toBe(true);
  });

  it("exchanges an identity token (empty username) with OAuth2's refresh_token grant", async () => {
    tokens.requests.length = 0;
    const resolver = newResolver({ plainHttp: true, credentials: creds("", "carols-identity-token") });
    const pusher = resolver.pusher(`${registry.host}/carol:v1`);
    expect((await pusher.push(layer, fixtureBlob("tiny", layer.digest))).outcome).toBe("uploaded");
    expect(tokens.requests).toEqual([{ user: "carol", scopes: ["repository:carol:pull,push"], service: tokens.service, status: 200 }]);
    const err = await rejection(newResolver({ plainHttp: true, credentials: creds("", "stolen") }).resolve(`${registry.host}/tiny`));
    expect(classOf(err)).toBe("Unauthenticated");
    expect(err.message).toContain("the token server rejected the credentials (identity token)");
  });

  it("says Unauthenticated when the token server rejects the credentials", async () => {
    const err = await rejection(newResolver({ plainHttp: true, credentials: creds("bob", "nope") }).resolve(`${registry.host}/tiny`));
    expect(classOf(err)).toBe("Unauthenticated");
    expect(err.message).toContain('the token server rejected the credentials (user "bob")');
  });

  it("says Unauthenticated when an anonymous token does not reach a private repository", async () => {
    const err = await rejection(newResolver({ plainHttp: true }).resolve(`${registry.host}/private:v1`));
    expect(classOf(err)).toBe("Unauthenticated");
    expect(err.message).toContain("(insufficient_scope for repository:private:pull)");
    expect(err.message).toContain("the registry refused a token for anonymous");
  });
});
