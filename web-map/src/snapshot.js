// "Save for the command post": the map with the result list side by side, as
// one PNG or as a one-page PDF (built in the browser by pdf.js), each with a
// single click and no print dialog.
import { download } from './ui.js';
import { buildPdf } from './pdf.js';

const FONT = "'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif";

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

/**
 * Draws the map canvas and the result list beside it into one canvas, tall
 * enough for every line. Returns the canvas and where each text line went
 * (`runs`, in canvas pixels: baseline `y`, font `size`, drawn `width`).
 */
export async function composeSheet(map, title, lines) {
  // The WebGL canvas keeps no frame after it is shown (no
  // preserveDrawingBuffer), so copy it inside the `render` event of a fresh frame.
  const src = map.getCanvas();
  const frame = document.createElement('canvas');
  frame.width = src.width;
  frame.height = src.height;
  await new Promise((resolve) => {
    map.once('render', () => {
      frame.getContext('2d').drawImage(src, 0, 0);
      resolve();
    });
    map.triggerRepaint();
  });
  const scale = src.width / src.clientWidth || 1;
  const listWidth = Math.round(420 * scale);
  const x = src.width + Math.round(14 * scale);
  const titleSize = Math.round(16 * scale);
  const size = Math.round(12 * scale);
  const lh = Math.round(17 * scale);

  // Lay out first (a scratch context measures), then size the canvas to fit.
  const measure = document.createElement('canvas').getContext('2d');
  measure.font = `bold ${titleSize}px ${FONT}`;
  const runs = [{ text: title, x, y: Math.round(28 * scale), size: titleSize, bold: true, width: measure.measureText(title).width }];
  measure.font = `${size}px ${FONT}`;
  let y = runs[0].y + lh;
  for (const text of lines) {
    const wrapped = text ? wrap(measure, text, listWidth - 28 * scale) : [''];
    for (const l of wrapped) {
      y += lh;
      runs.push({ text: l, x, y, size, width: measure.measureText(l).width });
    }
  }

  const canvas = document.createElement('canvas');
  canvas.width = src.width + listWidth;
  canvas.height = Math.max(src.height, y + lh, Math.round(200 * scale));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(frame, 0, 0);
  ctx.fillStyle = '#111827';
  for (const r of runs) {
    ctx.font = `${r.bold ? 'bold ' : ''}${r.size}px ${FONT}`;
    ctx.fillText(r.text, r.x, r.y);
  }
  return { canvas, runs };
}

const toBlob = (canvas, type, quality) => new Promise((resolve) => canvas.toBlob(resolve, type, quality));

export async function composePng(map, title, lines) {
  const { canvas } = await composeSheet(map, title, lines);
  return toBlob(canvas, 'image/png');
}

export async function savePng(map, title, lines, name = 'emergency.png') {
  const blob = await composePng(map, title, lines);
  if (blob) download(blob, name);
  return blob;
}

/** The sheet as a one-page A4 PDF (image + searchable result list). */
export async function composePdf(map, title, lines) {
  const { canvas, runs } = await composeSheet(map, title, lines);
  const jpeg = await toBlob(canvas, 'image/jpeg', 0.92);
  if (!jpeg) return null;
  const bytes = new Uint8Array(await jpeg.arrayBuffer());
  return buildPdf({ jpeg: bytes, width: canvas.width, height: canvas.height, runs, title });
}

export async function savePdf(map, title, lines, name = 'emergency.pdf') {
  const blob = await composePdf(map, title, lines);
  if (blob) download(blob, name);
  return blob;
}
