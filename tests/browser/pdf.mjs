// Reads the PDF the web map writes (web-map/src/pdf.js) enough to test it:
// the file structure (header, cross-reference offsets, trailer), the page
// image, and the text of the page's content stream (Identity-H codes that are
// UTF-16 units, as its ToUnicode map says). Not a general PDF parser: streams
// must be uncompressed, as ours are (the image is JPEG, passed through).
import assert from 'node:assert/strict';

export function readPdf(buf) {
  const latin = buf.toString('latin1');
  assert.ok(latin.startsWith('%PDF-1.'), 'starts with %PDF');
  assert.match(latin.slice(-32), /%%EOF\s*$/);
  const startxref = Number(latin.match(/startxref\s+(\d+)\s+%%EOF\s*$/)[1]);
  assert.equal(latin.slice(startxref, startxref + 4), 'xref');
  const [, first, count] = latin.slice(startxref).match(/^xref\s+(\d+)\s+(\d+)/);
  const entries = latin.slice(startxref).split('\n').slice(2, 2 + Number(count));
  const objects = new Map();
  entries.forEach((e, i) => {
    const [off, , kind] = e.trim().split(' ');
    const n = Number(first) + i;
    if (kind !== 'n') return;
    const at = Number(off);
    assert.ok(latin.startsWith(`${n} 0 obj`, at), `object ${n} at byte ${at}`);
    const end = latin.indexOf('\nendobj', at);
    objects.set(n, { at, body: latin.slice(at, end) });
  });
  const trailer = latin.slice(latin.lastIndexOf('trailer'));
  assert.match(trailer, /\/Root \d+ 0 R/);
  assert.match(trailer, new RegExp(`/Size ${Number(count)}\\b`));

  const stream = (body) => {
    const len = Number(body.match(/\/Length (\d+)/)[1]);
    const start = body.indexOf('stream\n') + 'stream\n'.length;
    return { start, len };
  };
  const all = [...objects.values()];
  const page = all.find((o) => /\/Type \/Page\b/.test(o.body));
  assert.ok(page, 'a page');
  assert.match(page.body, /\/MediaBox \[0 0 842 595\]/);
  const pageCount = all.filter((o) => /\/Type \/Page\b/.test(o.body)).length;
  assert.equal(pageCount, 1);

  const img = all.find((o) => /\/Subtype \/Image/.test(o.body));
  assert.ok(img, 'an image XObject');
  assert.match(img.body, /\/Filter \/DCTDecode/);
  const { start, len } = stream(img.body);
  const jpeg = buf.subarray(img.at + start, img.at + start + len);
  assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'JPEG data');
  assert.deepEqual([...jpeg.subarray(-2)], [0xff, 0xd9], 'whole JPEG');
  const image = { width: Number(img.body.match(/\/Width (\d+)/)[1]), height: Number(img.body.match(/\/Height (\d+)/)[1]) };

  const font = all.find((o) => /\/Subtype \/Type0/.test(o.body));
  assert.ok(font && /\/Encoding \/Identity-H/.test(font.body) && /\/ToUnicode \d+ 0 R/.test(font.body), 'Type0 font with ToUnicode');
  const contentsRef = Number(page.body.match(/\/Contents (\d+) 0 R/)[1]);
  const contents = objects.get(contentsRef);
  const cs = stream(contents.body);
  const content = buf.subarray(contents.at + cs.start, contents.at + cs.start + cs.len).toString('latin1');
  assert.match(content, /\/Sheet Do/);
  assert.match(content, /3 Tr/, 'invisible text');
  const lines = [...content.matchAll(/<([0-9A-F]*)> Tj/g)].map(([, hex]) => {
    const b = Buffer.from(hex, 'hex');
    return b.swap16().toString('utf16le');
  });
  return { image, jpeg, lines, text: lines.join('\n') };
}
