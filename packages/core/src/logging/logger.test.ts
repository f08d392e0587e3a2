import { describe, expect, it } from "vitest";
import { BerthError } from "../errdefs/index.js";
import { createJsonLogger, isLogLevel, LOG_LEVELS, silentLogger, type LogLevel } from "./logger.js";

function capture(level: LogLevel, fields?: Record<string, unknown>) {
  const lines: string[] = [];
  const log = createJsonLogger({ level, write: (line) => lines.push(line), ...(fields ? { fields } : {}) });
  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { log, lines, entries };
}

describe("createJsonLogger", () => {
  it("writes one JSON line per entry with time, level, msg and fields", () => {
    const { log, lines, entries } = capture("info");
    const before = Date.now();
    log.info("loaded plugin", { plugin: "io.containerd.content.v1.content", count: 3, nested: { a: [1, 2] } });
    log.warn("multi\nline message");
    const after = Date.now();
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.endsWith("\n")).toBe(true);
      expect(line.slice(0, -1)).not.toContain("\n");
    }
    const [first, second] = entries();
    expect(first).toEqual({
      time: expect.any(String),
      level: "info",
      msg: "loaded plugin",
      plugin: "io.containerd.content.v1.content",
      count: 3,
      nested: { a: [1, 2] },
    });
    expect(Object.keys(first!).slice(0, 3)).toEqual(["time", "level", "msg"]);
    const time = Date.parse(first!["time"] as string);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(after);
    expect(first!["time"]).toBe(new Date(time).toISOString());
    expect(second).toEqual({ time: expect.any(String), level: "warn", msg: "multi\nline message" });
  });

  it.each(LOG_LEVELS)("at level %s writes only that level and above", (level) => {
    const { log, entries } = capture(level);
    log.trace("t");
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    const threshold = LOG_LEVELS.indexOf(level);
    const expected = (["trace", "debug", "info", "warn", "error"] as const).filter((l) => LOG_LEVELS.indexOf(l) >= threshold);
    expect(entries().map((e) => e["level"])).toEqual(expected);
    expect(log.level).toBe(level);
  });

  it("adds with() fields to every entry, keeping earlier ones and letting entries override", () => {
    const { log, entries } = capture("debug", { daemon: "berthd" });
    const child = log.with({ plugin: "io.test.v1.x", shared: "from-with" });
    const grandchild = child.with({ request: 7 });
    child.debug("from child");
    grandchild.error("from grandchild", { shared: "from-entry" });
    log.info("from parent");
    expect(entries()).toEqual([
      { time: expect.any(String), level: "debug", msg: "from child", daemon: "berthd", plugin: "io.test.v1.x", shared: "from-with" },
      {
        time: expect.any(String),
        level: "error",
        msg: "from grandchild",
        daemon: "berthd",
        plugin: "io.test.v1.x",
        shared: "from-entry",
        request: 7,
      },
      { time: expect.any(String), level: "info", msg: "from parent", daemon: "berthd" },
    ]);
    expect(child.level).toBe("debug");
  });

  it("keeps a with() child's level threshold", () => {
    const { log, entries } = capture("warn");
    log.with({ a: 1 }).info("dropped");
    log.with({ a: 1 }).warn("kept");
    expect(entries().map((e) => e["msg"])).toEqual(["kept"]);
  });

  it("never lets a field overwrite the entry's own time, level or msg", () => {
    // A field called "time" (a duration, say) or "level" must not make the line lie about
    // when it was written or how severe it is; logrus, which containerd uses, keeps them too.
    const { log, entries } = capture("info");
    log.error("gc finished", { time: "12ms", level: "debug", msg: "from a field" });
    log.with({ level: "trace" }).warn("with a clashing with() field");
    const [first, second] = entries();
    expect(first!["level"]).toBe("error");
    expect(first!["msg"]).toBe("gc finished");
    expect(Number.isNaN(Date.parse(String(first!["time"])))).toBe(false);
    expect(second!["level"]).toBe("warn");
    expect(second!["msg"]).toBe("with a clashing with() field");
  });

  it("writes errors in fields as their message", () => {
    const { log, entries } = capture("info");
    log.error("failed to load plugin", { error: new BerthError("NotFound", "no such snapshotter"), plain: new TypeError("bad type") });
    log.with({ cause: new Error("from with") }).warn("again");
    const [first, second] = entries();
    expect(first!["error"]).toBe("no such snapshotter");
    expect(first!["plain"]).toBe("bad type");
    expect(second!["cause"]).toBe("from with");
  });
});

describe("silentLogger and isLogLevel", () => {
  it("silentLogger's children are silent too", () => {
    expect(silentLogger.with({ a: 1 })).toBe(silentLogger);
    expect(() => silentLogger.error("x", { e: new Error("y") })).not.toThrow();
  });

  it("isLogLevel accepts exactly the known levels", () => {
    for (const level of LOG_LEVELS) expect(isLogLevel(level)).toBe(true);
    expect(isLogLevel("panic")).toBe(false);
    expect(isLogLevel("INFO")).toBe(false);
    expect(isLogLevel("")).toBe(false);
  });
});
