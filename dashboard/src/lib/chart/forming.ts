/**
 * The forming bar: live 1-second and 1-minute bars gathered into the chart's window (its minute,
 * hour or day). A 1-minute bar is final for its minute and replaces that minute's seconds; a
 * window closes when its last minute is final or when a later window has data (its bar is then
 * committed). Everything is keyed by time, so a value received twice (a reconnect starts with the
 * latest of each) changes nothing.
 */

import { aggregate, type Bar } from "./bars";

const MINUTE = 60_000;
const minuteOf = (t: number) => Math.floor(t / MINUTE) * MINUTE;

interface Window {
  minutes: Map<number, Bar>;
  seconds: Map<number, Bar>;
  /** The aggregate of `minutes` (recomputed when one is added). */
  minutesBar: Bar | null;
  /** The start of the latest final minute. */
  lastMinute: number;
  lastMinuteFinal: boolean;
}

export class LiveBars {
  private windows = new Map<number, Window>();
  /** The latest window with data. */
  latest: number | null = null;

  /** `bucket`: the start of the chart window holding a time (the timeframe's). */
  constructor(private readonly bucket: (t: number) => number) {}

  private window(w: number): Window {
    let win = this.windows.get(w);
    if (!win) {
      win = { minutes: new Map(), seconds: new Map(), minutesBar: null, lastMinute: -Infinity, lastMinuteFinal: false };
      this.windows.set(w, win);
    }
    return win;
  }

  /** The windows whose bar changed when `w` got data (w, and the window it closed). */
  private touched(w: number): number[] {
    const previous = this.latest;
    if (previous == null || w > previous) {
      this.latest = w;
      return previous == null ? [w] : [previous, w];
    }
    return [w];
  }

  /** A live 1-second bar (`bar.t`: its start). Ignored once its minute is final. */
  addSecond(bar: Bar): number[] {
    const w = this.bucket(bar.t);
    const win = this.window(w);
    if (win.minutes.has(minuteOf(bar.t))) return [];
    win.seconds.set(bar.t, bar);
    return this.touched(w);
  }

  /** A live 1-minute bar (`bar.t`: its start): final for its minute. */
  addMinute(bar: Bar): number[] {
    const w = this.bucket(bar.t);
    const win = this.window(w);
    win.minutes.set(bar.t, bar);
    win.minutesBar = null;
    win.lastMinute = Math.max(win.lastMinute, bar.t);
    for (const s of win.seconds.keys()) if (minuteOf(s) === bar.t) win.seconds.delete(s);
    if (this.bucket(bar.t + MINUTE) !== w) win.lastMinuteFinal = true;
    return this.touched(w);
  }

  /** Whether window `w` is complete: its last minute is final, or a later window has data. */
  isClosed(w: number): boolean {
    const win = this.windows.get(w);
    return !!win && (win.lastMinuteFinal || (this.latest != null && w < this.latest));
  }

  /** The live bar of window `w` (its start as time), or null without data. */
  bar(w: number): Bar | null {
    const win = this.windows.get(w);
    if (!win) return null;
    const seconds = sortedValues(win.seconds);
    if (seconds.length && win.minutes.size && seconds[0].t < win.lastMinute) {
      // A minute arrived after later seconds (rare): order everything by time.
      return aggregate(w, [...sortedValues(win.minutes), ...seconds].sort((a, b) => a.t - b.t));
    }
    if (win.minutesBar == null && win.minutes.size) win.minutesBar = aggregate(w, sortedValues(win.minutes));
    return aggregate(w, win.minutesBar ? [win.minutesBar, ...seconds] : seconds);
  }
}

function sortedValues(map: Map<number, Bar>): Bar[] {
  return [...map.values()].sort((a, b) => a.t - b.t);
}
