import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './chart.css';

export interface SeriesSpec {
  label: string;
  stroke: string;
  /** Fill under the line (a translucent colour). */
  fill?: string;
}

export interface StreamingChart {
  readonly plot: uPlot;
  /** Appends one point per series at time t (ms), keeping the last `window` points. */
  push(t: number, values: Array<number | null>): void;
  /** Replaces all points: times (ms) and one array per series. */
  set(times: number[], values: Array<Array<number | null>>): void;
  /** Points held. */
  readonly length: number;
}

/**
 * A streaming line chart on uPlot (made for time series that grow): a fixed window of
 * points, redrawn at most once per animation frame however fast points arrive, resized
 * with its container.
 */
export function streamingChart(container: HTMLElement, options: { series: SeriesSpec[]; height?: number; window?: number; format?: (v: number) => string; yMin?: number }): StreamingChart {
  const window = options.window ?? 300;
  const format = options.format ?? ((v: number) => String(Math.round(v * 100) / 100));
  const data: number[][] = [[], ...options.series.map(() => [])];
  const axis = { stroke: '#93a1bd', grid: { stroke: 'rgba(147,161,189,.12)', width: 1 }, ticks: { stroke: 'rgba(147,161,189,.2)', width: 1 }, font: '12px system-ui, sans-serif' };
  const plot = new uPlot(
    {
      width: Math.max(200, container.clientWidth),
      height: options.height ?? 220,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      // From yMin, with room above the highest point (and at least 0..4, so small counts get whole ticks).
      scales: { x: { time: true }, y: options.yMin === undefined ? {} : { range: (_u, _min, max) => [options.yMin!, Math.max((max ?? 0) * 1.15, options.yMin! + 4)] } },
      axes: [{ ...axis }, { ...axis, size: 78, values: (_u, splits) => splits.map((v) => format(v)) }],
      series: [{}, ...options.series.map((s) => ({ label: s.label, stroke: s.stroke, fill: s.fill, width: 2, points: { show: false }, value: (_u: uPlot, v: number | null | undefined) => (v == null ? '–' : format(v)) }))],
    },
    data as uPlot.AlignedData,
    container,
  );
  let frame = 0;
  const redraw = (): void => {
    if (frame !== 0) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      plot.setData(data as uPlot.AlignedData);
      // The legend shows the latest values (not the cursor's).
      plot.setLegend({ idx: data[0]!.length - 1 });
    });
  };
  new ResizeObserver(() => plot.setSize({ width: Math.max(200, container.clientWidth), height: options.height ?? 220 })).observe(container);
  return {
    plot,
    push(t, values) {
      data[0]!.push(t / 1000);
      values.forEach((v, i) => data[i + 1]!.push(v as number));
      if (data[0]!.length > window) for (const d of data) d.shift();
      redraw();
    },
    set(times, values) {
      data[0] = times.slice(-window).map((t) => t / 1000);
      values.forEach((v, i) => (data[i + 1] = v.slice(-window) as number[]));
      redraw();
    },
    get length() {
      return data[0]!.length;
    },
  };
}
