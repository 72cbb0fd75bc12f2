/**
 * One chart's data: the bars the initial query returned, kept live by ripples bars (the forming
 * bar moves in place and is committed when its window closes), indicators and predictions, all
 * merged by time. Plain TypeScript: the Svelte components only draw what `view()` returns.
 */

import { BAR_FIELDS, BarSeries, combine, type Bar } from "../chart/bars";
import { LiveBars } from "../chart/forming";
import { storedDaysAreUtc, timeframe, type Timeframe } from "../chart/timeframe";
import { IndicatorTable } from "./indicators";

export interface ChartRange {
  /** UTC ms, inclusive. */
  start: number;
  /** UTC ms, exclusive; null: open (live bars keep extending the chart). */
  end: number | null;
}

/** The bars shown: the committed ones and, last, the forming one. */
export interface ChartView {
  t: number[];
  open: (number | null)[];
  high: (number | null)[];
  low: (number | null)[];
  close: (number | null)[];
  volume: (number | null)[];
  vwap: (number | null)[];
  /** The forming bar's index in the columns, -1 without one. */
  formingIndex: number;
}

export type RippleBarMetric = "BAR_1S" | "BAR_1M";

export class ChartModel {
  readonly bars = new BarSeries();
  readonly indicators = new IndicatorTable();
  /** Predictions of one model: bar start -> value. */
  readonly predictions = new Map<number, number>();
  predictionModel: string | null = null;
  forming: Bar | null = null;
  tf: Timeframe;
  private live: LiveBars;
  /** The window of the query's last bar: live data before it is history's business. */
  private storedWindow: number | null = null;
  private stored = new Map<number, Bar>();

  constructor(
    tf: Timeframe,
    readonly range: ChartRange,
    private readonly tz: string,
  ) {
    this.tf = tf;
    this.live = new LiveBars(tf.bucket);
  }

  /** The initial query's bars (sorted). Before any live data. */
  loadBars(bars: readonly Bar[]): void {
    if (bars.length && this.tf.name === "1Day" && storedDaysAreUtc(bars[bars.length - 1].t, this.tz)) {
      this.tf = timeframe("1Day", this.tz, true);
      this.live = new LiveBars(this.tf.bucket);
    }
    this.bars.appendSorted(bars);
    const last = this.bars.last();
    if (last) {
      this.storedWindow = this.tf.bucket(last.t);
      this.stored.set(this.storedWindow, last);
    }
  }

  private accepts(window: number): boolean {
    if (window < this.tf.bucket(this.range.start)) return false;
    if (this.range.end != null && window >= this.range.end) return false;
    return this.storedWindow == null || window >= this.storedWindow;
  }

  /** A live ripples bar (`bar.t`: its start). Whether the chart changed. */
  applyBar(metric: RippleBarMetric, bar: Bar): boolean {
    const window = this.tf.bucket(bar.t);
    if (!this.accepts(window)) return false;
    const touched = metric === "BAR_1M" ? this.live.addMinute(bar) : this.live.addSecond(bar);
    for (const w of touched) this.refresh(w);
    return touched.length > 0;
  }

  /** Recompute window `w`'s bar: committed when closed, else the forming bar. */
  private refresh(w: number): void {
    const live = this.live.bar(w);
    if (!live) return;
    const stored = this.stored.get(w);
    const bar = stored ? combine(stored, live) : live;
    if (this.live.isClosed(w)) {
      this.bars.upsert(bar);
      if (this.forming?.t === w) this.forming = null;
    } else {
      this.forming = bar;
    }
  }

  applyPrediction(modelId: string, t: number, value: number): boolean {
    this.predictionModel ??= modelId;
    if (modelId !== this.predictionModel) return false;
    this.predictions.set(t, value);
    return true;
  }

  /** The bars to draw: the committed ones, with the forming bar last (in place of a stored bar
   * of its window). */
  view(): ChartView {
    const view: ChartView = {
      t: this.bars.t.slice(),
      open: this.bars.open.slice(),
      high: this.bars.high.slice(),
      low: this.bars.low.slice(),
      close: this.bars.close.slice(),
      volume: this.bars.volume.slice(),
      vwap: this.bars.vwap.slice(),
      formingIndex: -1,
    };
    const f = this.forming;
    const n = view.t.length;
    if (f && (n === 0 || f.t >= view.t[n - 1])) {
      const i = n && view.t[n - 1] === f.t ? n - 1 : n;
      view.t[i] = f.t;
      for (const k of BAR_FIELDS) view[k][i] = f[k];
      view.formingIndex = i;
    }
    return view;
  }

  /** Predictions as sorted columns. */
  predictionColumns(): { t: number[]; value: number[] } {
    const t = [...this.predictions.keys()].sort((a, b) => a - b);
    return { t, value: t.map((k) => this.predictions.get(k)!) };
  }
}
