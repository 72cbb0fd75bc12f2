/**
 * Opens a chart: subscribes first (buffering what arrives), runs the one initial query, loads it,
 * then applies the buffer and every later message to the model, merged by time. Subscribing
 * before querying means nothing published while the query runs is missed; merging by time means
 * what both carry is not counted twice.
 */

import { timeframe as makeTimeframe, type Timeframe } from "../chart/timeframe";
import { ChartModel } from "./chartModel";
import { nsToMs, rippleBar, seriesBars, type SeriesColumns } from "./convert";
import {
  CHART_QUERY,
  INDICATORS_SUBSCRIPTION,
  PREDICTIONS_SUBSCRIPTION,
  RIPPLES_SUBSCRIPTION,
  SERIES_QUERY,
  type IndicatorPoint,
  type PredictionPoint,
  type RipplePoint,
} from "./documents";
import { query } from "./graphql";
import { INDICATORS, type IndicatorName } from "./indicators";
import type { Live } from "./live";
import type { Params } from "./params";

/** What the chart's query returned and how long it took (shown, and read by tests). */
export interface ChartInfo {
  state: "loading" | "ready" | "failed";
  message: string | null;
  /** Bars the server had before downsampling. */
  sourcePoints: number | null;
  downsampled: boolean | null;
  /** Bars the query returned. */
  points: number;
  maxPoints: number;
  start: number | null;
  end: number | null;
  /** The query's round trip, ms. */
  queryMs: number | null;
  indicatorsMessage: string | null;
}

interface SeriesAnswer {
  series: { sourcePoints: number; downsampled: boolean; data: SeriesColumns };
  indicators?: { name: string; tNs: string[]; values: Record<string, unknown> }[];
}

/** How long a chart opened without `start` waits for the live clock (the latest live bar). */
const ANCHOR_WAIT_MS = 1500;

const iso = (t: number | null) => (t == null ? null : new Date(t).toISOString());

export interface ChartFeed {
  model: ChartModel | null;
  info: ChartInfo;
  close(): void;
}

export function openChart(options: {
  live: Live;
  params: Params;
  symbol: string;
  maxPoints: number;
  onChange: () => void;
  onInfo: (info: ChartInfo) => void;
}): ChartFeed {
  const { live, params, symbol, maxPoints, onChange } = options;
  const tf: Timeframe = makeTimeframe(params.timeframe, params.tz);
  const buffered: ((m: ChartModel) => boolean)[] = [];
  let latestLive: number | null = null;
  let firstLive = () => {};
  const liveSeen = new Promise<void>((resolve) => (firstLive = resolve));

  const feed: ChartFeed = {
    model: null,
    info: { state: "loading", message: null, sourcePoints: null, downsampled: null, points: 0, maxPoints, start: null, end: null, queryMs: null, indicatorsMessage: null },
    close: () => unsubscribe.forEach((u) => u()),
  };
  const setInfo = (changes: Partial<ChartInfo>) => {
    feed.info = { ...feed.info, ...changes };
    options.onInfo(feed.info);
  };
  const apply = (change: (m: ChartModel) => boolean) => {
    if (feed.info.state === "loading" || !feed.model) buffered.push(change);
    else if (change(feed.model)) onChange();
  };

  const unsubscribe = [
    live.subscribe<{ ripplesBatches: { points: RipplePoint[] } }>("ripples", RIPPLES_SUBSCRIPTION, { symbols: [symbol] }, (data) => {
      for (const p of data.ripplesBatches.points) {
        if (p.symbol !== symbol || (p.metric !== "BAR_1S" && p.metric !== "BAR_1M")) continue;
        const metric = p.metric;
        const bar = rippleBar(p.tNs, metric === "BAR_1S" ? 1000 : 60_000, p.values);
        latestLive = Math.max(latestLive ?? -Infinity, bar.t);
        apply((m) => m.applyBar(metric, bar));
      }
      firstLive();
    }),
    live.subscribe<{ indicators: IndicatorPoint & { tNs: string } }>("indicators", INDICATORS_SUBSCRIPTION, { symbol, timeframe: tf.graphql }, (data) => {
      const p = data.indicators;
      apply((m) => {
        m.indicators.put(p.name as IndicatorName, nsToMs(p.tNs), p.values);
        return true;
      });
    }),
    live.subscribe<{ predictions: PredictionPoint }>("predictions", PREDICTIONS_SUBSCRIPTION, { symbols: [symbol] }, (data) => {
      const p = data.predictions;
      if (p.symbol === symbol && p.timeframe === tf.name) apply((m) => m.applyPrediction(p.modelId, nsToMs(p.tNs), p.value));
    }),
  ];

  void (async () => {
    let start = params.start;
    let end = params.end;
    if (start == null) {
      // Open where the live data is (the demo's replay runs on its own clock, not today's).
      await Promise.race([liveSeen, new Promise((r) => setTimeout(r, ANCHOR_WAIT_MS))]);
      const anchor = tf.bucket(Math.min(latestLive ?? Date.now(), end ?? Infinity));
      start = anchor - tf.defaultSpanMs;
    }
    // An open end asks the server for every bar up to today; a chart anchored on the live clock
    // asks up to it (live bars still extend the chart).
    const queryEnd = end ?? (params.start == null ? tf.bucket(latestLive ?? Date.now()) + tf.ms : null);
    const model = new ChartModel(tf, { start, end }, params.tz);
    setInfo({ start, end: queryEnd });
    const variables = { symbol, start: iso(start), end: iso(queryEnd), timeframe: tf.graphql, maxPoints, downsample: params.downsample };
    const began = performance.now();
    try {
      let answer: SeriesAnswer;
      let indicatorsMessage: string | null = null;
      try {
        answer = await query<SeriesAnswer>(params.graphqlUrl, CHART_QUERY, { ...variables, names: INDICATORS }, params.key);
      } catch (err) {
        // The indicators are not downsampled: a long range may be refused for them alone.
        indicatorsMessage = (err as Error).message;
        answer = await query<SeriesAnswer>(params.graphqlUrl, SERIES_QUERY, variables, params.key);
      }
      model.loadBars(seriesBars(answer.series.data));
      for (const s of answer.indicators ?? []) {
        model.indicators.putColumns(s.name as IndicatorName, s.tNs.map(nsToMs), s.values);
      }
      setInfo({
        state: "ready",
        sourcePoints: answer.series.sourcePoints,
        downsampled: answer.series.downsampled,
        points: answer.series.data.tNs.length,
        queryMs: performance.now() - began,
        indicatorsMessage,
      });
    } catch (err) {
      // Still go live: the chart then grows from the live bars alone.
      setInfo({ state: "failed", message: (err as Error).message, queryMs: performance.now() - began });
    }
    feed.model = model;
    for (const change of buffered.splice(0)) change(model);
    onChange();
  })();

  return feed;
}
