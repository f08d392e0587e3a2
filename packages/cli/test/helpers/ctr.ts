import { exec } from "@berth/testing";

/** ctr against `address` in `namespace`; a failure carries ctr's own output. */
export function ctrIn(address: string, namespace: string) {
  return async (...args: string[]): Promise<string> => {
    try {
      return (await exec("ctr", ["-a", address, "-n", namespace, ...args], { maxBuffer: 16 << 20 })).stdout;
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      throw new Error(`ctr ${args.join(" ")} exited ${e.code}: ${e.stderr ?? ""}${e.stdout ?? ""}`);
    }
  };
}

export const TINY = "berth.test/tiny:latest";

/** The tiny layout as an OCI archive; ctr 1.6 names its "latest" after --base-name. */
export async function importTiny(ctr: (...args: string[]) => Promise<string>, archive: string, extra: string[] = [], baseName = "berth.test/tiny"): Promise<void> {
  await ctr("images", "import", ...extra, "--base-name", baseName, archive);
}
