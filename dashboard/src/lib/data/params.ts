/**
 * What the page was opened with: `?symbol=SP500&timeframe=1Min&start=…&end=…&graphql=<url>`
 * (plus `key`, `tz`, `ohlc`, `log`, `downsample`), so a link or a test opens a given chart.
 */

import { parseTimeframe, type TimeframeName } from "../chart/timeframe";

export type Downsample = "LTTB" | "MINMAX";

export interface Params {
  symbol: string | null;
  timeframe: TimeframeName;
  /** UTC ms; null: the chart opens `defaultSpanMs` before the live clock. */
  start: number | null;
  /** UTC ms, exclusive; null: open-ended (live bars keep extending it). */
  end: number | null;
  /** The GraphQL endpoint over HTTP; the websocket is the same URL with ws(s). */
  graphqlUrl: string;
  /** An API key, sent as `Authorization: Bearer` (only needed when the server's data is not public). */
  key: string | null;
  tz: string;
  ohlc: boolean;
  log: boolean;
  downsample: Downsample;
}

/** A time parameter: ISO 8601 (a date alone is UTC midnight) or epoch milliseconds. */
export function parseTime(value: string | null): number | null {
  if (value == null || value.trim() === "") return null;
  const v = value.trim();
  if (/^-?\d+$/.test(v)) return Number(v);
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(t)) throw new Error(`"${value}" is not a time: give ISO 8601 (2012-01-03T14:30:00Z) or epoch milliseconds`);
  return t;
}

const flag = (v: string | null) => v != null && ["1", "true", "yes", "on", ""].includes(v.toLowerCase());

export function parseParams(search: string, origin: string): Params {
  const q = new URLSearchParams(search);
  const tfParam = q.get("timeframe");
  const timeframe = tfParam ? parseTimeframe(tfParam) : "1Min";
  if (!timeframe) throw new Error(`unknown timeframe "${tfParam}": use 1Min, 1Hour or 1Day`);
  const downsample = (q.get("downsample") ?? "LTTB").toUpperCase();
  if (downsample !== "LTTB" && downsample !== "MINMAX") throw new Error(`unknown downsample "${downsample}": use LTTB or MINMAX`);
  return {
    symbol: q.get("symbol")?.trim() || null,
    timeframe,
    start: parseTime(q.get("start")),
    end: parseTime(q.get("end")),
    graphqlUrl: new URL(q.get("graphql") ?? "/graphql", origin).toString(),
    key: q.get("key"),
    tz: q.get("tz") ?? "America/New_York",
    ohlc: flag(q.get("ohlc")),
    log: flag(q.get("log")),
    downsample,
  };
}

/** The page's query string with some parameters changed (null removes one). */
export function withParams(search: string, changes: Record<string, string | null>): string {
  const q = new URLSearchParams(search);
  for (const [k, v] of Object.entries(changes)) {
    if (v == null) q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** The websocket URL of an HTTP GraphQL endpoint. */
export function websocketUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}
