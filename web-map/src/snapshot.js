// "Save for the command post": the map with the result list as one PNG, or a
// printable page (the browser's "Save as PDF").
import { h, download } from './ui.js';

function wrap(ctx, text, width) {
  const lines = [];
  let line = '';
  for (const ch of text) {
    if (ctx.measureText(line + ch).width > width && line) {
      lines.push(line);
      line = ch;
    } else line += ch;
  }
  if (line) lines.push(line);
  return lines;
}

/** Draws the map canvas and the text lines side by side into one PNG blob. */
export async function composePng(map, title, lines) {
  map.triggerRepaint();
  await new Promise((resolve) => map.once('render', resolve));
  const src = map.getCanvas();
  const scale = src.width / src.clientWidth || 1;
  const listWidth = Math.round(420 * scale);
  const canvas = document.createElement('canvas');
  canvas.width = src.width + listWidth;
  canvas.height = Math.max(src.height, Math.round(200 * scale));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(src, 0, 0);
  ctx.fillStyle = '#111827';
  const font = "'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif";
  ctx.font = `bold ${Math.round(16 * scale)}px ${font}`;
  let y = Math.round(28 * scale);
  const x = src.width + Math.round(14 * scale);
  ctx.fillText(title, x, y);
  ctx.font = `${Math.round(12 * scale)}px ${font}`;
  const lh = Math.round(17 * scale);
  y += lh;
  for (const text of lines) {
    for (const l of wrap(ctx, text, listWidth - 28 * scale)) {
      y += lh;
      if (y > canvas.height - lh) break;
      ctx.fillText(l, x, y);
    }
  }
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
}

export async function savePng(map, title, lines, name = 'emergency.png') {
  const blob = await composePng(map, title, lines);
  if (blob) download(blob, name);
  return blob;
}

/** Prints the map image with the result list (print CSS hides the rest). */
export function printPdf(map, title, lines) {
  const old = document.getElementById('print-sheet');
  if (old) old.remove();
  const img = h('img', { src: map.getCanvas().toDataURL('image/png'), alt: title });
  const sheet = h('div', { id: 'print-sheet' }, h('h1', {}, title), img, h('ul', {}, lines.map((l) => h('li', {}, l))));
  document.body.append(sheet);
  window.print();
}
