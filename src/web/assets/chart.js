// Line charts drawn as SVG, for kload's web UI. No library: axes with round ticks, one path
// per series (a gap where a value is missing), a legend, and a cursor that shows the values
// under the pointer.
'use strict';

const SVG_NS = 'http://www.w3.org/2000/svg';

function svgEl(name, attrs, parent) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (parent) parent.appendChild(el);
  return el;
}

// 1, 2 or 5 times a power of ten, so that about `count` steps cover `max`.
function niceStep(max, count) {
  const raw = max / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const n = raw / power;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * power;
}

function clockLabel(seconds) {
  const d = new Date(seconds * 1000);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((x) => String(x).padStart(2, '0')).join(':');
}

function shortNumber(x) {
  if (x >= 1e6) return `${+(x / 1e6).toFixed(1)}M`;
  if (x >= 1e4) return `${+(x / 1e3).toFixed(1)}k`;
  return String(+x.toFixed(2));
}

// Draws `series` ([{label, color, values, dashed}]) against `times` (Unix seconds) into
// `svg`, replacing what was there. `unit` is appended to values in the cursor box.
function drawLineChart(svg, times, series, unit) {
  const width = Math.max(280, Math.round(svg.getBoundingClientRect().width) || 600);
  const height = 260;
  const pad = { left: 52, right: 14, top: 26, bottom: 26 };
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.replaceChildren();
  const shown = series.filter((s) => s.values.some((v) => v !== null && v !== undefined));
  if (times.length < 2 || shown.length === 0) {
    svgEl('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'empty-note' }, svg)
      .textContent = 'Waiting for data…';
    return;
  }
  // The legend first: its items wrap onto as many rows as the width needs.
  const items = [];
  let lx = pad.left;
  let row = 0;
  for (const s of shown) {
    const itemWidth = 23 + s.label.length * 6.5 + 14;
    if (lx > pad.left && lx + itemWidth > width - pad.right) {
      lx = pad.left;
      row += 1;
    }
    items.push({ s, x: lx, y: 10 + row * 16 });
    lx += itemWidth;
  }
  pad.top += row * 16;
  const t0 = times[0];
  const t1 = times[times.length - 1];
  let max = 0;
  for (const s of shown) for (const v of s.values) if (v !== null && v > max) max = v;
  const step = niceStep(max > 0 ? max : 1, 4);
  const top = Math.max(step, Math.ceil((max > 0 ? max : 1) / step) * step);
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x = (t) => pad.left + (t1 === t0 ? 0 : ((t - t0) / (t1 - t0)) * plotW);
  const y = (v) => pad.top + plotH - (v / top) * plotH;

  const grid = svgEl('g', { class: 'grid' }, svg);
  const axis = svgEl('g', { class: 'axis' }, svg);
  for (let v = 0; v <= top + step / 2; v += step) {
    svgEl('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v) }, grid);
    svgEl('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, axis).textContent = shortNumber(v);
  }
  const ticks = Math.max(2, Math.min(6, Math.floor(plotW / 110)));
  for (let i = 0; i < ticks; i += 1) {
    const t = t0 + ((t1 - t0) * i) / (ticks - 1);
    const anchor = i === 0 ? 'start' : i === ticks - 1 ? 'end' : 'middle';
    svgEl('text', { x: x(t), y: height - 6, 'text-anchor': anchor }, axis).textContent = clockLabel(t);
  }

  for (const s of shown) {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(times[i]).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    const path = svgEl('path', { class: s.dashed ? 'line dashed' : 'line', d, stroke: s.color }, svg);
    path.dataset.label = s.label;
  }

  const legend = svgEl('g', { class: 'legend' }, svg);
  for (const { s, x: ix, y: iy } of items) {
    svgEl('line', {
      class: 'swatch', x1: ix, x2: ix + 18, y1: iy, y2: iy, stroke: s.color, 'stroke-width': 3,
      'stroke-dasharray': s.dashed ? '5 3' : 'none',
    }, legend);
    svgEl('text', { x: ix + 23, y: iy + 4 }, legend).textContent = s.label;
  }

  // The cursor: a vertical line at the nearest point and its values.
  const cursor = svgEl('g', { class: 'cursor', visibility: 'hidden' }, svg);
  const vline = svgEl('line', { y1: pad.top, y2: pad.top + plotH }, cursor);
  const box = svgEl('rect', { rx: 6, ry: 6 }, cursor);
  const label = svgEl('text', {}, cursor);
  const hit = svgEl('rect', { x: pad.left, y: pad.top, width: plotW, height: plotH, fill: 'transparent' }, svg);
  const show = (event) => {
    const rect = svg.getBoundingClientRect();
    const px = ((event.clientX - rect.left) / rect.width) * width;
    const t = t0 + ((px - pad.left) / plotW) * (t1 - t0);
    let i = 0;
    for (let k = 1; k < times.length; k += 1) if (Math.abs(times[k] - t) < Math.abs(times[i] - t)) i = k;
    const cx = x(times[i]);
    vline.setAttribute('x1', cx);
    vline.setAttribute('x2', cx);
    label.replaceChildren();
    const lines = [clockLabel(times[i])].concat(shown.map((s) => {
      const v = s.values[i];
      return `${s.label}: ${v === null || v === undefined ? '–' : `${shortNumber(v)}${unit}`}`;
    }));
    lines.forEach((line, k) => {
      svgEl('tspan', { x: 0, dy: k === 0 ? 0 : 14 }, label).textContent = line;
    });
    const boxW = Math.max(...lines.map((l) => l.length)) * 6.3 + 16;
    const boxH = lines.length * 14 + 8;
    const bx = cx + 10 + boxW > width ? cx - 10 - boxW : cx + 10;
    box.setAttribute('x', bx);
    box.setAttribute('y', pad.top + 4);
    box.setAttribute('width', boxW);
    box.setAttribute('height', boxH);
    label.setAttribute('transform', `translate(${bx + 8},${pad.top + 18})`);
    label.querySelectorAll('tspan').forEach((span) => span.setAttribute('x', 0));
    cursor.setAttribute('visibility', 'visible');
  };
  // Where the pointer is, kept on the svg element (which outlives a redraw): a new snapshot
  // redraws the chart about every second, and the cursor must stay under a still pointer.
  if (!('kloadPointer' in svg)) {
    svg.kloadPointer = null;
    svg.addEventListener('pointerleave', () => { svg.kloadPointer = null; });
  }
  const track = (event) => {
    svg.kloadPointer = { clientX: event.clientX, clientY: event.clientY };
    show(event);
  };
  hit.addEventListener('pointermove', track);
  hit.addEventListener('pointerdown', track);
  hit.addEventListener('pointerleave', () => {
    svg.kloadPointer = null;
    cursor.setAttribute('visibility', 'hidden');
  });
  if (svg.kloadPointer) show(svg.kloadPointer);
}

window.kloadChart = { drawLineChart, clockLabel };
