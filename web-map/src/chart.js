// The 72-hour chart of a monitored source or station: one small uPlot chart
// per pollutant, with the emission limit as a dashed red line.
import uPlot from 'uplot';
import { h } from './ui.js';
import { t } from './i18n.js';

/**
 * Reads the series answer defensively: `{series: [{pollutant, limit, points:[{time,value}]}]}`,
 * `{points: [...]}` or a plain array of `{pollutant, time, value}` rows.
 */
export function normaliseSeries(answer, fallbackPollutant) {
  const groups = new Map();
  const add = (pollutant, time, value, limit) => {
    const key = pollutant || fallbackPollutant || '';
    if (!groups.has(key)) groups.set(key, { pollutant: key, limit: null, xs: [], ys: [] });
    const g = groups.get(key);
    const ts = Date.parse(time);
    if (Number.isFinite(ts) && value !== null && value !== undefined && Number.isFinite(Number(value))) {
      g.xs.push(ts / 1000);
      g.ys.push(Number(value));
    }
    if (limit !== undefined && limit !== null && Number.isFinite(Number(limit))) g.limit = Number(limit);
  };
  const rows = (list, pollutant, limit) => {
    for (const p of list || []) add(p.pollutant || pollutant, p.time || p.t || p.hour, p.value ?? p.mean ?? p.avg ?? p.v, p.limit ?? limit);
  };
  if (Array.isArray(answer)) rows(answer);
  else if (answer && Array.isArray(answer.series)) {
    for (const s of answer.series) rows(s.points || s.values || s.readings, s.pollutant, s.limit && typeof s.limit === 'object' ? s.limit.value : s.limit);
  } else if (answer) {
    rows(answer.points || answer.values || answer.readings, answer.pollutant, answer.limit && typeof answer.limit === 'object' ? answer.limit.value : answer.limit);
    const unit = answer.limit && typeof answer.limit === 'object' ? answer.limit.unit : answer.unit;
    for (const g of groups.values()) g.unit = unit || '';
  }
  for (const g of groups.values()) {
    const order = g.xs.map((_, i) => i).sort((a, b) => g.xs[a] - g.xs[b]);
    g.xs = order.map((i) => g.xs[i]);
    g.ys = order.map((i) => g.ys[i]);
  }
  return [...groups.values()].filter((g) => g.xs.length);
}

export function renderChart(box, group, title) {
  const width = Math.max(240, Math.min(box.clientWidth || 300, 420));
  const limit = group.limit;
  const data = [group.xs, group.ys];
  const measured = group.unit ? `${t('chart.measured')} (${group.unit})` : t('chart.measured');
  const series = [{ label: t('chart.time') }, { label: measured, stroke: '#2563eb', width: 1.5 }];
  if (limit !== null) {
    data.push(group.xs.map(() => limit));
    series.push({ label: t('chart.limit'), stroke: '#dc2626', width: 1.2, dash: [6, 4], points: { show: false } });
  }
  const el = h('div', { class: 'chart' });
  box.append(el);
  // eslint-disable-next-line no-new
  new uPlot(
    {
      width,
      height: 140,
      title,
      series,
      axes: [{ space: 60 }, { size: 46 }],
      legend: { show: true },
      scales: { x: { time: true } },
    },
    data,
    el,
  );
}
