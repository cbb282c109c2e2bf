/**
 * A small benchmark harness: each figure is measured by repeated runs after a warm-up and
 * reported as the median, with its goal where the issue names one. Figures go to stdout as a
 * table and to bench/results.json (one object per figure).
 */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The goal, as text ("<= 50 ms"), and whether it was met. */
  goal?: string;
  met?: boolean;
  /** For comparisons: what the value is compared with, and value ÷ baseline. */
  baseline?: number;
  ratio?: number;
  note?: string;
}

export interface BenchContext {
  quick: boolean;
}

export type Bench = (ctx: BenchContext) => Promise<Figure[]> | Figure[];

/** Median wall time of `fn` in milliseconds over `runs` runs, after `warmup` unmeasured runs. */
export function medianMs(fn: () => void, runs: number, warmup = Math.min(5, runs)): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export function atMost(value: number, goal: number, unit: string): Pick<Figure, 'goal' | 'met'> {
  return { goal: `<= ${goal} ${unit}`, met: value <= goal };
}

export function atLeast(value: number, goal: number, unit: string): Pick<Figure, 'goal' | 'met'> {
  return { goal: `>= ${goal} ${unit}`, met: value >= goal };
}

export function formatTable(figures: Figure[]): string {
  const rows = figures.map((f) => [
    f.name,
    `${round(f.value)} ${f.unit}`,
    f.goal ? `${f.goal} ${f.met ? '(met)' : '(MISSED)'}` : '',
    f.ratio !== undefined ? `${round(f.ratio)}x vs ${round(f.baseline ?? 0)}` : (f.note ?? ''),
  ]);
  const head = ['figure', 'value', 'goal', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function round(v: number): string {
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 100) return v.toFixed(0);
  if (abs >= 10) return v.toFixed(1);
  if (abs >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}
