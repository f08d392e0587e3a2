// The CRI log format on its own: entries as the kubelet parses them, split at the size limit.
import { describe, expect, it } from "vitest";
import { CriLogLines } from "../src/container/cri-log-lines.js";
import { rfc3339Nano } from "../src/container/nanos.js";

const fixedClock = { now: () => 1_700_000_000_123_456_000n };
function collect(max: number, chunks: string[], end = true): string[] {
  const out: string[] = [];
  const lines = new CriLogLines("stdout", max, fixedClock, (e) => out.push(e.toString()));
  for (const c of chunks) lines.push(Buffer.from(c));
  if (end) lines.end();
  return out;
}

describe("CRI log lines", () => {
  it("formats time as Go's RFC3339Nano in UTC (trailing zeros dropped)", () => {
    expect(rfc3339Nano(1_700_000_000_123_456_000n)).toBe("2023-11-14T22:13:20.123456Z");
    expect(rfc3339Nano(1_700_000_000_000_000_000n)).toBe("2023-11-14T22:13:20Z");
  });

  it("writes full lines as F, joins chunks, drops \\r\\n, keeps empty lines", () => {
    const t = "2023-11-14T22:13:20.123456Z";
    expect(collect(0, ["he", "llo\r\nwor", "ld\n\n"])).toEqual([`${t} stdout F hello\n`, `${t} stdout F world\n`, `${t} stdout F \n`]);
  });

  it("splits lines over the limit into P pieces; a line of exactly the limit stays one F; the rest at end is P", () => {
    const texts = collect(4, ["abcdefghij\n", "wxyz\n", "tail"]).map((e) => e.split(" ").slice(2).join(" "));
    expect(texts).toEqual(["P abcd\n", "P efgh\n", "F ij\n", "F wxyz\n", "P tail\n"]);
  });

  it("holds a pending partial line until more arrives, unless it passes the limit", () => {
    expect(collect(4, ["ab"], false)).toEqual([]);
    expect(collect(4, ["abcdef"], false).map((e) => e.split(" ").slice(2).join(" "))).toEqual(["P abcd\n"]);
  });
});
