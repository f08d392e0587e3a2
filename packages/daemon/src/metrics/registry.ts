/**
 * A minimal Prometheus registry: counters, gauges and histograms with labels, rendered in
 * the text exposition format. Enough for /v1/metrics without a dependency.
 */
type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  render(): string[];
}

const labelKey = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");

export class MetricsRegistry {
  private readonly families: Family[] = [];

  counter(name: string, help: string) {
    const values = new Map<string, number>();
    this.families.push({ name, help, type: "counter", render: () => [...values].map(([k, v]) => `${name}{${k}} ${v}`) });
    const add = (key: string, by: number) => values.set(key, (values.get(key) ?? 0) + by);
    return {
      inc: (labels: Labels, by = 1) => add(labelKey(labels), by),
      /** One label set, rendered once: a hot path counts through it without building keys per call. */
      series: (labels: Labels) => {
        const key = labelKey(labels);
        return { inc: (by = 1) => add(key, by) };
      },
    };
  }

  /** A gauge whose values are read at scrape time. */
  gauge(name: string, help: string, collect: () => Iterable<[Labels, number]>) {
    this.families.push({
      name,
      help,
      type: "gauge",
      render: () => [...collect()].map(([labels, v]) => `${name}{${labelKey(labels)}} ${v}`),
    });
  }

  histogram(name: string, help: string, buckets: readonly number[]) {
    const series = new Map<string, { counts: number[]; sum: number; count: number }>();
    this.families.push({
      name,
      help,
      type: "histogram",
      render: () =>
        [...series].flatMap(([k, s]) => {
          const sep = k ? "," : "";
          return [
            ...buckets.map((b, i) => `${name}_bucket{${k}${sep}le="${b}"} ${s.counts[i]}`),
            `${name}_bucket{${k}${sep}le="+Inf"} ${s.count}`,
            `${name}_sum{${k}} ${s.sum}`,
            `${name}_count{${k}} ${s.count}`,
          ];
        }),
    });
    const seriesOf = (k: string) => {
      let s = series.get(k);
      if (!s) series.set(k, (s = { counts: buckets.map(() => 0), sum: 0, count: 0 }));
      return s;
    };
    const record = (s: { counts: number[]; sum: number; count: number }, value: number) => {
      for (let i = 0; i < buckets.length; i++) if (value <= buckets[i]!) s.counts[i]!++;
      s.sum += value;
      s.count++;
    };
    return {
      observe: (labels: Labels, value: number) => record(seriesOf(labelKey(labels)), value),
      /** One label set, resolved on its first observation; see counter's `series`. */
      series: (labels: Labels) => {
        const k = labelKey(labels);
        let s: { counts: number[]; sum: number; count: number } | undefined;
        // Created lazily so a method never called renders no empty histogram.
        return { observe: (value: number) => record((s ??= seriesOf(k)), value) };
      },
    };
  }

  render(): string {
    return this.families.map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.render()].join("\n")).join("\n") + "\n";
  }
}
