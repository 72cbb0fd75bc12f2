/** The overlays the price panel can draw, and the indicator lines of the lower panels. */

import type { ChartView } from "./chartModel";
import type { IndicatorTable } from "./indicators";

export interface OverlayLine {
  key: string;
  label: string;
  color: string;
  dashed?: boolean;
  values: (number | null)[];
}

export interface OverlayChoice {
  vwap: boolean;
  sma: boolean;
  ema: boolean;
  bollinger: boolean;
}

const SMA_COLORS = ["#f0b429", "#e07b39", "#c2455e"];
const EMA_COLORS = ["#5ad1c8", "#3f9be8", "#8e7cf0"];

/** The enabled overlays as lines at the bars shown. */
export function overlayLines(choice: OverlayChoice, view: ChartView, table: IndicatorTable): OverlayLine[] {
  const lines: OverlayLine[] = [];
  if (choice.vwap) lines.push({ key: "vwap", label: "VWAP", color: "#b48ead", dashed: true, values: view.vwap });
  if (choice.sma) {
    table.fields("SMA").forEach((f, i) =>
      lines.push({ key: f, label: f.replace("sma_", "SMA "), color: SMA_COLORS[i % SMA_COLORS.length], values: table.column("SMA", f, view.t) }),
    );
  }
  if (choice.ema) {
    table.fields("EMA").forEach((f, i) =>
      lines.push({ key: f, label: f.replace("ema_", "EMA "), color: EMA_COLORS[i % EMA_COLORS.length], values: table.column("EMA", f, view.t) }),
    );
  }
  if (choice.bollinger) {
    for (const f of ["upper", "middle", "lower"]) {
      lines.push({ key: `bb_${f}`, label: `BB ${f}`, color: "#7f8c9a", dashed: f === "middle", values: table.column("BOLLINGER", f, view.t) });
    }
  }
  return lines;
}
