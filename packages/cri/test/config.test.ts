// The CRI section of a containerd version-2 config, decoded by core's loader rules.
import { describe, expect, it } from "vitest";
import { decodeTable } from "@berth/core";
import { criConfigSchema, runtimeHandlerFor, validateCriConfig } from "../src/index.js";

const decode = (raw: unknown) => decodeTable(criConfigSchema, raw, 'plugins."io.containerd.grpc.v1.cri"');

describe("CRI config", () => {
  it("defaults are containerd 1.6's", () => {
    const { value, errors } = decode(undefined);
    expect(errors).toEqual([]);
    expect(value.sandboxImage).toBe("registry.k8s.io/pause:3.6");
    expect(value.containerd.snapshotter).toBe("overlayfs");
    expect(value.containerd.defaultRuntimeName).toBe("runc");
    expect(value.containerd.runtimes["runc"]?.runtimeType).toBe("io.containerd.runc.v2");
    expect(value.cni).toEqual({ binDir: "/opt/cni/bin", confDir: "/etc/cni/net.d", maxConfNum: 1, confTemplate: "" });
    expect(value.restrictOomScoreAdj).toBe(false);
    expect(value.maxContainerLogLineSize).toBe(16384);
    validateCriConfig(value);
  });

  it("reads the fixture's critest configuration", () => {
    const { value, errors, warnings } = decode({
      sandbox_image: "registry.k8s.io/pause:3.6",
      stream_server_address: "127.0.0.1",
      restrict_oom_score_adj: true,
      enable_selinux: false,
      cni: { bin_dir: "/usr/lib/cni", conf_dir: "/tmp/net.d", max_conf_num: 1 },
      registry: { config_path: "/tmp/certs.d" },
      containerd: {
        default_runtime_name: "berth",
        runtimes: {
          runc: { runtime_type: "io.containerd.runc.v2", options: { SystemdCgroup: false } },
          berth: { runtime_type: "io.containerd.berth.v2", options: { BinaryName: "/usr/sbin/runc" } },
        },
      },
    });
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    expect(value.restrictOomScoreAdj).toBe(true);
    expect(value.cni.binDir).toBe("/usr/lib/cni");
    expect(value.registry.configPath).toBe("/tmp/certs.d");
    expect(runtimeHandlerFor(value, "")).toMatchObject({ name: "berth", runtimeType: "io.containerd.berth.v2", options: { BinaryName: "/usr/sbin/runc" } });
    expect(runtimeHandlerFor(value, "runc").options).toEqual({ SystemdCgroup: false });
    expect(() => runtimeHandlerFor(value, "kata")).toThrow(/no runtime for "kata"/);
  });

  it("reports bad values under the table's key and unknown keys as warnings", () => {
    const { errors, warnings } = decode({ cni: { max_conf_num: "one" }, disable_tcp_service: true });
    expect(errors.map((e) => e.key)).toEqual(['plugins."io.containerd.grpc.v1.cri".cni']);
    expect(warnings.map((w) => w.key)).toEqual(['plugins."io.containerd.grpc.v1.cri".disable_tcp_service']);
  });

  it("a default runtime that is not configured is refused", () => {
    const { value } = decode({ containerd: { default_runtime_name: "kata" } });
    expect(() => validateCriConfig(value)).toThrow(/default_runtime_name "kata"/);
  });
});
