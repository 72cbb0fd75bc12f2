/** The GraphQL the dashboard sends (graphql_server/schema.graphql, plus the dashboard's API). */

const SERIES_FIELDS = `series(symbol: $symbol, start: $start, end: $end, timeframe: $timeframe, maxPoints: $maxPoints, downsample: $downsample) {
    sourcePoints
    downsampled
    data { tNs open high low close volume vwap }
  }`;

const CHART_VARIABLES = "$symbol: String!, $start: DateTime!, $end: DateTime, $timeframe: BarTimeframe!, $maxPoints: Int, $downsample: Downsample!";

/** One query initialises a chart: its bars, downsampled to its width, and their indicators at
 * the same bars (the server picks them once for both). */
export const CHART_QUERY = `query Chart(${CHART_VARIABLES}, $names: [Indicator!]!) {
  ${SERIES_FIELDS}
  indicators(symbol: $symbol, names: $names, start: $start, end: $end, timeframe: $timeframe, maxPoints: $maxPoints, downsample: $downsample) { name tNs values }
}`;

/** The chart without indicators (when the server refuses them for the range). */
export const SERIES_QUERY = `query Series(${CHART_VARIABLES}) {
  ${SERIES_FIELDS}
}`;

export const SYMBOLS_QUERY = `query Symbols { symbols }`;

const SIGNAL_FIELDS = "symbol name timeframe time tNs direction flipped fast slow";

export const SIGNALS_QUERY = `query Signals($symbols: [String!]!, $start: DateTime!, $end: DateTime, $timeframe: BarTimeframe!) {
  signals(symbols: $symbols, start: $start, end: $end, timeframe: $timeframe) { ${SIGNAL_FIELDS} }
}`;

export const RIPPLES_SUBSCRIPTION = `subscription Ripples($symbols: [String!]!) {
  ripplesBatches(symbols: $symbols, metrics: [BAR_1S, BAR_1M], maxBatch: 1000) { points { symbol metric tNs values } }
}`;

export const INDICATORS_SUBSCRIPTION = `subscription Indicators($symbol: String!, $timeframe: BarTimeframe!) {
  indicators(symbol: $symbol, timeframe: $timeframe) { name tNs values }
}`;

export const PREDICTIONS_SUBSCRIPTION = `subscription Predictions($symbols: [String!]!) {
  predictions(symbols: $symbols) { symbol modelId tNs timeframe horizon value }
}`;

export const SIGNALS_SUBSCRIPTION = `subscription Signals($symbols: [String!]!, $timeframe: BarTimeframe) {
  signals(symbols: $symbols, timeframe: $timeframe) { ${SIGNAL_FIELDS} }
}`;

export const RANKING_SUBSCRIPTION = `subscription Ranking($limit: Int!, $by: VolatilityMeasure!) {
  volatilityRanking(limit: $limit, by: $by) { updatedAt tNs by symbols entries { rank symbol std relStd mean count } }
}`;

export const HEALTH_SUBSCRIPTION = `subscription Health {
  pipelineHealth {
    updatedAt
    consumers { group topic lag }
    jobs { id name state lateRecordsDropped recordsInPerSecond }
  }
}`;

/** The answers' shapes. */
export interface RipplePoint {
  symbol: string;
  metric: string;
  tNs: string;
  values: Record<string, number | null>;
}

export interface IndicatorPoint {
  name: string;
  tNs: string | string[];
  values: Record<string, unknown>;
}

export interface Signal {
  symbol: string;
  name: string;
  timeframe: string;
  time: string;
  tNs: string;
  direction: "BULLISH" | "BEARISH";
  flipped: boolean;
  fast: number | null;
  slow: number | null;
}

export interface VolatilityEntry {
  rank: number;
  symbol: string;
  std: number | null;
  relStd: number | null;
  mean: number | null;
  count: number;
}

export interface VolatilityRanking {
  updatedAt: string;
  tNs: string;
  by: "REL_STD" | "STD";
  symbols: number;
  entries: VolatilityEntry[];
}

export interface PipelineHealth {
  updatedAt: string;
  consumers: { group: string; topic: string; lag: string | number | null }[];
  jobs: { id: string; name: string; state: string; lateRecordsDropped: string | number | null; recordsInPerSecond: number | null }[];
}

export interface PredictionPoint {
  symbol: string;
  modelId: string;
  tNs: string;
  timeframe: string;
  horizon: number;
  value: number;
}
