// The shared state's building blocks and the image helpers that need no daemon.
import { describe, expect, it } from "vitest";
import { classOf } from "@berth/core";
import { createIdIndex, createNameRegistry, containerName, generateId, imageUser, normalizeImageRef, registryCredentials, repoNames, sandboxName } from "../src/index.js";

const errClass = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return classOf(err);
  }
  return "none";
};

describe("name registry", () => {
  it("reserves a name for one ID, idempotently, until released", () => {
    const names = createNameRegistry("sandbox");
    names.reserve("web_default_uid_0", "a");
    names.reserve("web_default_uid_0", "a");
    expect(errClass(() => names.reserve("web_default_uid_0", "b"))).toBe("AlreadyExists");
    expect(names.idOf("web_default_uid_0")).toBe("a");
    names.releaseById("a");
    names.reserve("web_default_uid_0", "b");
    names.releaseByName("web_default_uid_0");
    expect(names.idOf("web_default_uid_0")).toBeUndefined();
  });
});

describe("ID index", () => {
  it("resolves unique prefixes", () => {
    const ids = createIdIndex("container");
    const a = `abc${generateId().slice(3)}`;
    const b = `abd${generateId().slice(3)}`;
    ids.add(a);
    ids.add(b);
    expect(ids.resolve("abc")).toBe(a);
    expect(ids.resolve(b)).toBe(b);
    expect(errClass(() => ids.resolve("ab"))).toBe("InvalidArgument");
    expect(errClass(() => ids.resolve("ffff"))).toBe("NotFound");
    expect(errClass(() => ids.add(a))).toBe("AlreadyExists");
    ids.delete(a);
    expect(ids.resolve("ab")).toBe(b);
  });

  it("generates 64-hex IDs", () => {
    expect(generateId()).toMatch(/^[a-f0-9]{64}$/);
    expect(generateId()).not.toBe(generateId());
  });
});

describe("entity names", () => {
  it("joins metadata as containerd's CRI does", () => {
    const pod = { name: "web", namespace: "default", uid: "u1", attempt: 2 } as never;
    expect(sandboxName(pod)).toBe("web_default_u1_2");
    expect(containerName({ name: "nginx", attempt: 0 } as never, pod)).toBe("nginx_web_default_u1_0");
  });
});

describe("image references", () => {
  it("normalise the docker way; a digest drops the tag", () => {
    expect(normalizeImageRef("busybox").name).toBe("docker.io/library/busybox:latest");
    const d = `sha256:${"a".repeat(64)}`;
    expect(normalizeImageRef(`reg.example:5000/x/y:1@${d}`).name).toBe(`reg.example:5000/x/y@${d}`);
    expect(repoNames(normalizeImageRef("reg.example/app:v1").reference, d)).toEqual({ repoTag: "reg.example/app:v1", repoDigest: `reg.example/app@${d}` });
    expect(errClass(() => normalizeImageRef("docker.io/UPPER"))).toBe("InvalidArgument");
  });

  it("image user: uid or name before the group", () => {
    expect(imageUser("1003:1004")).toEqual({ uid: 1003n, username: "" });
    expect(imageUser("www-data:1004")).toEqual({ username: "www-data" });
    expect(imageUser("")).toEqual({ username: "" });
    expect(imageUser(undefined)).toEqual({ username: "" });
  });

  it("AuthConfig as credentials, for the named server only", async () => {
    const creds = registryCredentials({ username: "u", password: "p", auth: "", serverAddress: "https://reg.example:5000", identityToken: "", registryToken: "" } as never)!;
    expect(await creds("reg.example:5000")).toEqual({ username: "u", password: "p" });
    expect(await creds("other.example")).toBeUndefined();
    const basic = registryCredentials({ username: "", password: "", auth: Buffer.from("me:pw").toString("base64"), serverAddress: "", identityToken: "", registryToken: "" } as never)!;
    expect(await basic("any")).toEqual({ username: "me", password: "pw" });
    const token = registryCredentials({ username: "", password: "", auth: "", serverAddress: "", identityToken: "tok", registryToken: "" } as never)!;
    expect(await token("any")).toEqual({ username: "", password: "tok" });
    expect(registryCredentials(undefined)).toBeUndefined();
  });
});
