// Runs one workload: containerd and Berth interleaved (A B A B …, floor after each pair),
// several runs, medians. A side that answers Unimplemented is n/a; anything else is an error.
import { NoMoreRuns, asNotAvailable, errorText } from "./errors.mjs";
import { fmt, median, round } from "./stats.mjs";

/**
 * @typedef {object} Metric
 * @property {string} key
 * @property {string} unit     "s", "ms", "MiB", "MB/s", "ops/s"
 * @property {"lower"|"higher"} better
 * @property {string} [title]  when a workload reports several metrics
 *
 * @typedef {object} Workload
 * @property {string} id
 * @property {string} title
 * @property {string} description   one paragraph for the README
 * @property {Metric[]} metrics
 * @property {{full: number, smoke: number}} runs
 * @property {string} [floorLabel]
 * @property {(ctx) => Promise<any>} [setup]                 untimed, once
 * @property {(ctx, daemon, state) => Promise<void>} [prepare] untimed, once per daemon
 * @property {(ctx, daemon, state, i) => Promise<number|Record<string, number>>} measure
 * @property {(ctx, state, i) => Promise<number|Record<string, number>>} [floor]
 * @property {(ctx, daemon, state) => Promise<void>} [finish]  once per daemon
 * @property {(ctx, state) => Promise<void>} [teardown]
 */

export async function runWorkload(ctx, w) {
  const runs = ctx.runs ?? w.runs[ctx.mode];
  const sides = ctx.daemons.map((daemon) => ({ daemon, status: "ok", reason: "", samples: [] }));
  const floor = { status: w.floor ? "ok" : "none", reason: "", samples: [] };
  const fail = (side, err) => {
    const na = side.daemon.kind === "berth" ? asNotAvailable(err) : undefined;
    side.status = na ? "n/a" : "error";
    side.reason = na ? na.message : errorText(err);
    ctx.log(`  ${side.daemon.kind}: ${side.status}: ${side.reason.split("\n").join("\n    ")}`);
  };

  ctx.log(`\n▶ ${w.title} (${runs} run${runs === 1 ? "" : "s"})`);
  let state;
  try {
    state = await w.setup?.(ctx);
  } catch (err) {
    for (const side of sides) fail(side, err);
    if (w.floor) Object.assign(floor, { status: "error", reason: errorText(err) });
  }
  for (const side of sides) {
    if (side.status !== "ok") continue;
    try {
      await w.prepare?.(ctx, side.daemon, state);
    } catch (err) {
      fail(side, err);
    }
  }
  for (let i = 0; i < runs; i++) {
    const line = [];
    for (const side of sides) {
      if (side.status !== "ok") continue;
      try {
        const v = normalize(w, await w.measure(ctx, side.daemon, state, i));
        side.samples.push(v);
        line.push(`${side.daemon.kind} ${show(w, v)}`);
      } catch (err) {
        if (err instanceof NoMoreRuns && side.samples.length > 0) {
          side.status = "done";
          side.reason = `${side.samples.length} run(s) only: ${err.message}`;
          ctx.log(`  ${side.daemon.kind}: ${side.reason}`);
        } else {
          fail(side, err);
        }
      }
    }
    if (floor.status === "ok") {
      try {
        const v = normalize(w, await w.floor(ctx, state, i));
        floor.samples.push(v);
        line.push(`floor ${show(w, v)}`);
      } catch (err) {
        floor.status = "error";
        floor.reason = errorText(err);
        ctx.log(`  floor: error: ${floor.reason}`);
      }
    }
    if (line.length) ctx.log(`  run ${i + 1}/${runs}: ${line.join(" | ")}`);
  }
  for (const side of sides) {
    try {
      await w.finish?.(ctx, side.daemon, state);
    } catch (err) {
      if (side.status === "ok") fail(side, err);
    }
  }
  try {
    await w.teardown?.(ctx, state);
  } catch (err) {
    ctx.log(`  teardown: ${errorText(err)}`);
  }
  return records(w, sides, floor);
}

function normalize(w, v) {
  const obj = typeof v === "number" ? { [w.metrics[0].key]: v } : v;
  for (const m of w.metrics) {
    if (!Number.isFinite(obj[m.key])) throw new Error(`${w.id}: measured ${m.key} = ${obj[m.key]}`);
  }
  return obj;
}

function show(w, v) {
  return w.metrics.map((m) => `${fmt(v[m.key])} ${m.unit}`).join(", ");
}

function records(w, sides, floor) {
  const [c, b] = sides;
  return w.metrics.map((m) => {
    const med = (side) => (side.status === "ok" || side.status === "done" ? median(side.samples.map((s) => s[m.key])) : null);
    const containerd = med(c);
    const berth = med(b);
    const rec = {
      workload: w.metrics.length > 1 ? `${w.id}.${m.key}` : w.id,
      title: m.title ?? w.title,
      unit: m.unit,
      better: m.better,
      containerd: round(containerd),
      berth: round(berth),
      ratio: containerd && berth !== null ? round(berth / containerd, 3) : null,
    };
    if (floor.status !== "none") {
      rec.floor = floor.status === "ok" ? round(median(floor.samples.map((s) => s[m.key]))) : null;
      rec.floorLabel = w.floorLabel;
    }
    const st = (side) => (side.status === "done" ? "ok" : side.status);
    rec.status = { containerd: st(c), berth: st(b), ...(floor.status !== "none" ? { floor: floor.status } : {}) };
    const notes = {};
    if (c.reason) notes.containerd = c.reason;
    if (b.reason) notes.berth = b.reason;
    if (floor.reason) notes.floor = floor.reason;
    if (Object.keys(notes).length) rec.notes = notes;
    rec.samples = {
      containerd: c.samples.map((s) => round(s[m.key])),
      berth: b.samples.map((s) => round(s[m.key])),
      ...(floor.status !== "none" ? { floor: floor.samples.map((s) => round(s[m.key])) } : {}),
    };
    return rec;
  });
}
