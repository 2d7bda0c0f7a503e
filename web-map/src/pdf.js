// A one-page PDF written in the browser, with no library and no font files:
// the sheet (map + result list, drawn by the canvas with the browser's own
// CJK fonts) as a JPEG image on an A4 landscape page, and the result list
// again as invisible text laid over the image, so the PDF can be searched and
// its lines copied. The text uses a non-embedded CID font with Identity-H
// codes equal to UTF-16 code units and a ToUnicode map; it is never drawn
// (render mode 3), so no reader needs the font itself, only the map.

const A4_LANDSCAPE = [842, 595];
const MARGIN = 18;

const enc = new TextEncoder();

/** UTF-16 code units as 4-digit hex (the Identity-H codes of our text). */
function hex16(text) {
  let out = '';
  for (let i = 0; i < text.length; i++) out += text.charCodeAt(i).toString(16).padStart(4, '0').toUpperCase();
  return out;
}

/** A PDF text string (document info) in UTF-16BE with its byte order mark. */
function textString(text) {
  return `<FEFF${hex16(text)}>`;
}

/** ToUnicode CMap: every code maps to the same UTF-16 unit (surrogates kept as pairs). */
function toUnicodeCMap() {
  const ranges = [];
  for (let hi = 0; hi < 256; hi++) {
    const b = hi.toString(16).padStart(2, '0').toUpperCase();
    ranges.push(`<${b}00> <${b}FF> <${b}00>`);
  }
  const blocks = [];
  for (let i = 0; i < ranges.length; i += 100) {
    const part = ranges.slice(i, i + 100);
    blocks.push(`${part.length} beginbfrange\n${part.join('\n')}\nendbfrange`);
  }
  return [
    '/CIDInit /ProcSet findresource begin',
    '12 dict begin',
    'begincmap',
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
    '/CMapName /Adobe-Identity-UCS def',
    '/CMapType 2 def',
    '1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange',
    ...blocks,
    'endcmap',
    'CMapName currentdict /CMap defineresource pop',
    'end',
    'end',
  ].join('\n');
}

const num = (x) => (Math.round(x * 100) / 100).toString();

/**
 * Builds the PDF bytes.
 * `jpeg`: the sheet as JPEG bytes of `width`×`height` pixels;
 * `runs`: text lines in sheet pixels `{ text, x, y (baseline), size, width }`;
 * `title`: the document title.
 */
export function buildPdf({ jpeg, width, height, runs, title }) {
  const [pw, ph] = A4_LANDSCAPE;
  const scale = Math.min((pw - 2 * MARGIN) / width, (ph - 2 * MARGIN) / height);
  const iw = width * scale;
  const ih = height * scale;
  const ox = (pw - iw) / 2;
  const oy = (ph - ih) / 2;

  const text = runs
    .filter((r) => r.text)
    .map((r) => {
      const size = r.size * scale;
      // Stretch the 1-em-wide CID glyphs so a selection covers the drawn line.
      const tz = (100 * r.width * scale) / (size * r.text.length);
      return `${num(size)} 0 0 ${num(size)} ${num(ox + r.x * scale)} ${num(oy + ih - r.y * scale)} Tm ${num(tz)} Tz <${hex16(r.text)}> Tj`;
    });
  const content = [
    'q',
    `${num(iw)} 0 0 ${num(ih)} ${num(ox)} ${num(oy)} cm`,
    '/Sheet Do',
    'Q',
    'BT',
    '3 Tr',
    '/F1 1 Tf',
    ...text,
    'ET',
  ].join('\n');
  const cmap = toUnicodeCMap();

  // Objects in order; each is a list of string/bytes parts.
  const objects = [
    ['<< /Type /Catalog /Pages 2 0 R >>'],
    ['<< /Type /Pages /Kids [3 0 R] /Count 1 >>'],
    [
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${pw} ${ph}] /Contents 4 0 R`,
      ' /Resources << /XObject << /Sheet 5 0 R >> /Font << /F1 6 0 R >> >> >>',
    ],
    [`<< /Length ${enc.encode(content).length} >>\nstream\n`, content, '\nendstream'],
    [
      `<< /Type /XObject /Subtype /Image /Width ${width} /Height ${height} /ColorSpace /DeviceRGB`,
      ` /BitsPerComponent 8 /Filter /DCTDecode /Length ${jpeg.length} >>\nstream\n`,
      jpeg,
      '\nendstream',
    ],
    ['<< /Type /Font /Subtype /Type0 /BaseFont /SimSun /Encoding /Identity-H /DescendantFonts [7 0 R] /ToUnicode 8 0 R >>'],
    [
      '<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun /CIDToGIDMap /Identity /DW 1000',
      ' /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 9 0 R >>',
    ],
    [`<< /Length ${enc.encode(cmap).length} >>\nstream\n`, cmap, '\nendstream'],
    [
      '<< /Type /FontDescriptor /FontName /SimSun /Flags 4 /FontBBox [0 -141 1000 859]',
      ' /ItalicAngle 0 /Ascent 859 /Descent -141 /CapHeight 859 /StemV 80 >>',
    ],
    [`<< /Title ${textString(title)} /Creator (envatlas web map) /Producer (envatlas) >>`],
  ];

  const parts = [enc.encode('%PDF-1.4\n%\u00e2\u00e3\u00cf\u00d3\n')];
  let length = parts[0].length;
  const push = (p) => {
    const bytes = typeof p === 'string' ? enc.encode(p) : p;
    parts.push(bytes);
    length += bytes.length;
  };
  const offsets = [];
  objects.forEach((obj, i) => {
    offsets.push(length);
    push(`${i + 1} 0 obj\n`);
    obj.forEach(push);
    push('\nendobj\n');
  });
  const xref = length;
  push(`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`);
  for (const o of offsets) push(`${String(o).padStart(10, '0')} 00000 n \n`);
  push(`trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info ${objects.length} 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  return new Blob(parts, { type: 'application/pdf' });
}
