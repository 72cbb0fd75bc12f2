/**
 * Indicator values by name and bar time, merged by time (a live point replaces the stored one
 * of its bar), read back as columns at the bars the chart shows.
 */

import { num } from "./convert";

export const INDICATORS = ["SMA", "EMA", "RSI", "BOLLINGER", "MACD"] as const;
export type IndicatorName = (typeof INDICATORS)[number];

export type IndicatorValues = Record<string, number | null>;

export class IndicatorTable {
  private byName = new Map<IndicatorName, Map<number, IndicatorValues>>();
  private fieldNames = new Map<IndicatorName, Set<string>>();
  /** Changes with every put: a column read twice at the same bar times is then reused. */
  private version = 0;
  private columns = new Map<string, { version: number; ts: number[]; values: (number | null)[] }>();

  private table(name: IndicatorName): Map<number, IndicatorValues> {
    let table = this.byName.get(name);
    if (!table) {
      table = new Map();
      this.byName.set(name, table);
      this.fieldNames.set(name, new Set());
    }
    return table;
  }

  /** One bar's values (a live point): replaces what the bar had. */
  put(name: IndicatorName, t: number, values: Record<string, unknown>): void {
    const table = this.table(name);
    const fields = this.fieldNames.get(name)!;
    const clean: IndicatorValues = {};
    for (const [k, v] of Object.entries(values)) {
      clean[k] = num(v);
      fields.add(k);
    }
    table.set(t, clean);
    this.version++;
  }

  /** An `IndicatorSeries` answer: times and one list per field. */
  putColumns(name: IndicatorName, ts: readonly number[], columns: Record<string, unknown>): void {
    const lists = Object.entries(columns).filter((e): e is [string, unknown[]] => Array.isArray(e[1]));
    ts.forEach((t, i) => {
      const values: Record<string, unknown> = {};
      for (const [k, list] of lists) values[k] = list[i];
      this.put(name, t, values);
    });
  }

  /** The fields seen for `name`, in a stable order (sma_20 before sma_50 before sma_200). */
  fields(name: IndicatorName): string[] {
    return [...(this.fieldNames.get(name) ?? [])].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  }

  size(name: IndicatorName): number {
    return this.byName.get(name)?.size ?? 0;
  }

  /**
   * The values of one field at each of the bar times `ts` (null where the bar has none). The same
   * array again while neither the table nor the times changed (a redraw that only moved the
   * forming bar).
   */
  column(name: IndicatorName, field: string, ts: ArrayLike<number>): (number | null)[] {
    const key = `${name}|${field}`;
    const cached = this.columns.get(key);
    if (cached && cached.version === this.version && sameTimes(cached.ts, ts)) return cached.values;
    const table = this.byName.get(name);
    const values: (number | null)[] = new Array(ts.length);
    for (let i = 0; i < ts.length; i++) values[i] = table?.get(ts[i])?.[field] ?? null;
    this.columns.set(key, { version: this.version, ts: Array.from(ts), values });
    return values;
  }

  /** One bar's values of `name` (undefined when it has none). */
  at(name: IndicatorName, t: number): IndicatorValues | undefined {
    return this.byName.get(name)?.get(t);
  }
}

function sameTimes(a: readonly number[], b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}
