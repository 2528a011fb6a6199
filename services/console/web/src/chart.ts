import { h, svg } from './dom';

export interface Series {
  label: string;
  /** A CSS class giving the line its colour. */
  className: string;
  /** [time in ms, value]; null leaves a gap. */
  points: Array<[number, number | null]>;
}

const width = 560;
const height = 160;
const left = 56;
const bottom = 22;
const top = 8;

/**
 * A line chart of a few series over time, drawn as SVG by hand: the console loads nothing from
 * outside, and a chart of a few hundred points needs no library.
 */
export function lineChart(title: string, series: Series[], format: (value: number) => string): HTMLElement {
  const all = series.flatMap((s) => s.points);
  const times = all.map(([time]) => time);
  const values = all.map(([, value]) => value).filter((value): value is number => value !== null);
  const figure = h('figure', { class: 'chart' }, h('figcaption', null, title));
  if (times.length < 1) {
    figure.append(h('p', { class: 'empty' }, 'Waiting for the first readings…'));
    return figure;
  }
  const t0 = Math.min(...times);
  const t1 = Math.max(...times, t0 + 1_000);
  const max = niceMax(Math.max(1, ...values));
  const x = (time: number) => left + ((time - t0) / (t1 - t0)) * (width - left - 4);
  const y = (value: number) => top + (1 - value / max) * (height - top - bottom);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title });
  for (const fraction of [0, 0.5, 1]) {
    const value = max * fraction;
    chart.append(
      svg('line', { x1: left, x2: width - 4, y1: y(value), y2: y(value), class: 'grid' }),
      text(left - 6, y(value) + 4, format(value), 'end'),
    );
  }
  chart.append(
    text(left, height - 4, new Date(t0).toLocaleTimeString(), 'start'),
    text(width - 4, height - 4, new Date(t1).toLocaleTimeString(), 'end'),
  );
  for (const s of series) {
    let path = '';
    let pen = 'M';
    for (const [time, value] of s.points) {
      if (value === null) {
        pen = 'M';
        continue;
      }
      path += `${pen}${x(time).toFixed(1)},${y(value).toFixed(1)} `;
      pen = 'L';
    }
    if (path) chart.append(svg('path', { d: path, class: `line ${s.className}` }));
    const last = s.points.at(-1);
    if (last && last[1] !== null)
      chart.append(svg('circle', { cx: x(last[0]), cy: y(last[1]), r: 3, class: `dot ${s.className}` }));
  }
  figure.append(chart);
  if (series.length > 1) {
    figure.append(
      h(
        'div',
        { class: 'legend' },
        ...series.map((s) => h('span', null, h('i', { class: `swatch ${s.className}` }), s.label)),
      ),
    );
  }
  return figure;
}

function text(xPosition: number, yPosition: number, content: string, anchor: string): SVGElement {
  const element = svg('text', { x: xPosition, y: yPosition, 'text-anchor': anchor, class: 'axis' });
  element.textContent = content;
  return element;
}

/** 1, 2 or 5 times a power of ten, at or above `value`: round numbers on the axis. */
function niceMax(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}
