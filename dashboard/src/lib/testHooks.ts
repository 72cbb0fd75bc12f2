/**
 * `window.__dashboard`: a read-only view of the page for browser tests (Playwright): the chart's
 * drawn data and scales, what its query returned, the live panels' contents and the count of
 * messages each subscription received. Getters read the current state at each access.
 */

import type { Plot } from "./chart/layout";
import type { Scale } from "./chart/scale";
import type { ChartInfo } from "./data/chartFeed";
import type { ChartView } from "./data/chartModel";
import type { PipelineHealth, Signal, VolatilityRanking } from "./data/documents";
import type { IndicatorTable } from "./data/indicators";
import type { Live, WsState } from "./data/live";

export interface ChartHooks {
  view: () => ChartView;
  x: () => Scale;
  y: () => Scale;
  plot: () => Plot;
  info: () => ChartInfo | null;
  indicators: () => IndicatorTable | null;
  crossIndex: () => number;
}

/** Filled in by the components as they mount. */
export const hooks: {
  chart: ChartHooks | null;
  live: Live | null;
  ws: () => WsState;
  ranking: () => VolatilityRanking | null;
  signals: () => Signal[];
  health: () => PipelineHealth | null;
} = {
  chart: null,
  live: null,
  ws: () => "connecting",
  ranking: () => null,
  signals: () => [],
  health: () => null,
};

const copy = <T>(v: T): T => (v == null ? v : structuredClone(v));

function chartData() {
  const v = hooks.chart?.view();
  if (!v) return null;
  return { t: [...v.t], open: [...v.open], high: [...v.high], low: [...v.low], close: [...v.close], volume: [...v.volume], vwap: [...v.vwap], formingIndex: v.formingIndex };
}

function scaleFn(which: "x" | "y", inverse: boolean) {
  return (value: number): number => {
    const scale = hooks.chart?.[which]();
    if (!scale) throw new Error("no chart yet");
    return inverse ? scale.invert(value) : scale(value);
  };
}

export function installTestHooks(): void {
  const api = {
    /** The bars drawn, as columns (UTC ms times); the forming bar, if any, at `formingIndex`. */
    get data() {
      return chartData();
    },
    get forming() {
      const d = chartData();
      if (!d || d.formingIndex < 0) return null;
      const i = d.formingIndex;
      return { t: d.t[i], open: d.open[i], high: d.high[i], low: d.low[i], close: d.close[i], volume: d.volume[i], vwap: d.vwap[i] };
    },
    /** Indicator values at the drawn bars: indicator(name, field) -> column (null where none). */
    indicator(name: "SMA" | "EMA" | "RSI" | "BOLLINGER" | "MACD", field: string): (number | null)[] {
      const d = chartData();
      return d ? (hooks.chart?.indicators()?.column(name, field, d.t) ?? []) : [];
    },
    /** Time (UTC ms) -> x px and back, in the price panel SVG's coordinates. */
    x: scaleFn("x", false),
    xInvert: scaleFn("x", true),
    /** Price -> y px and back, in the price panel SVG's coordinates. */
    y: scaleFn("y", false),
    yInvert: scaleFn("y", true),
    get xDomain() {
      return hooks.chart ? [...hooks.chart.x().domain] : null;
    },
    get yDomain() {
      return hooks.chart ? [...hooks.chart.y().domain] : null;
    },
    get logScale() {
      return hooks.chart?.y().log ?? false;
    },
    get plot() {
      return copy(hooks.chart?.plot() ?? null);
    },
    /** What the chart's query returned: points, sourcePoints, downsampled, maxPoints, queryMs, … */
    get query() {
      return copy(hooks.chart?.info() ?? null);
    },
    get crosshairIndex() {
      return hooks.chart?.crossIndex() ?? -1;
    },
    /** Messages received per subscription: ripples, indicators, predictions, signals, volatilityRanking, pipelineHealth. */
    get counters() {
      return { ...(hooks.live?.counters ?? {}) };
    },
    get ws() {
      return hooks.ws();
    },
    get ranking() {
      return copy(hooks.ranking());
    },
    get signals() {
      return copy(hooks.signals());
    },
    get health() {
      return copy(hooks.health());
    },
    /** Drop the websocket as a network failure would; the client reconnects and resubscribes. */
    dropSocket(): void {
      hooks.live?.drop();
    },
  };
  Object.defineProperty(window, "__dashboard", { value: Object.freeze(api), writable: false, configurable: false });
}
