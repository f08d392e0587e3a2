import { describe, expect, it } from "vitest";
import { decodeTable, encodeTable, field } from "./schema.js";

const inner = { binDir: field.string("/opt/cni/bin"), maxConfNum: field.integer(1, 0) };
const handler = field.table({ runtimeType: field.string("io.containerd.runc.v2"), options: field.rawTable() });
const outer = {
  sandboxImage: field.string("pause"),
  cni: field.table(inner),
  runtimes: field.tableMap(handler, {}),
  timeout: field.duration(2000),
};

describe("nested tables", () => {
  it("decodes nested snake_case tables and keeps map keys and raw tables as written", () => {
    const { value, errors } = decodeTable(outer, {
      cni: { bin_dir: "/usr/lib/cni" },
      runtimes: { runC: { runtime_type: "x", options: { SystemdCgroup: true } } },
    }, "");
    expect(errors).toEqual([]);
    expect(value.cni).toEqual({ binDir: "/usr/lib/cni", maxConfNum: 1 });
    expect(value.runtimes).toEqual({ runC: { runtimeType: "x", options: { SystemdCgroup: true } } });
  });

  it("refuses a nested table with a bad value under the table's key", () => {
    const { value, errors } = decodeTable(outer, { cni: { max_conf_num: "two" } }, "plugins.cri");
    expect(errors.map((e) => e.key)).toEqual(["plugins.cri.cni"]);
    expect(value.cni).toEqual({ binDir: "/opt/cni/bin", maxConfNum: 1 });
  });

  it("encodes back to snake_case all the way down (what `berthd config default` prints)", () => {
    const { value } = decodeTable(outer, { runtimes: { runc: { options: { BinaryName: "crun" } } } }, "");
    expect(encodeTable(outer, value)).toEqual({
      sandbox_image: "pause",
      cni: { bin_dir: "/opt/cni/bin", max_conf_num: 1 },
      runtimes: { runc: { runtime_type: "io.containerd.runc.v2", options: { BinaryName: "crun" } } },
      timeout: "2000ms",
    });
  });
});
