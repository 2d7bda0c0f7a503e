// A 16×16 favicon (teal disc with a white river line) drawn in code, so the
// build needs no binary source file.

export function favicon() {
  const size = 16;
  const pixels = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x - 7.5;
      const dy = y - 7.5;
      const inside = dx * dx + dy * dy <= 56;
      const river = Math.abs(y - (10 - x * 0.45 + Math.sin(x / 2))) < 1.1;
      // ICO bitmaps are stored bottom-up, in BGRA order.
      const o = ((size - 1 - y) * size + x) * 4;
      const [r, g, b, a] = !inside ? [0, 0, 0, 0] : river ? [255, 255, 255, 255] : [15, 118, 110, 255];
      pixels.writeUInt8(b, o);
      pixels.writeUInt8(g, o + 1);
      pixels.writeUInt8(r, o + 2);
      pixels.writeUInt8(a, o + 3);
    }
  }
  const mask = Buffer.alloc(size * 4); // 1-bit AND mask, rows padded to 32 bits; alpha decides
  const header = Buffer.alloc(40);
  header.writeUInt32LE(40, 0);
  header.writeInt32LE(size, 4);
  header.writeInt32LE(size * 2, 8); // colour + mask heights
  header.writeUInt16LE(1, 12);
  header.writeUInt16LE(32, 14);
  header.writeUInt32LE(pixels.length + mask.length, 20);
  const image = Buffer.concat([header, pixels, mask]);
  const dir = Buffer.alloc(6 + 16);
  dir.writeUInt16LE(0, 0);
  dir.writeUInt16LE(1, 2);
  dir.writeUInt16LE(1, 4);
  dir.writeUInt8(size, 6);
  dir.writeUInt8(size, 7);
  dir.writeUInt16LE(1, 10);
  dir.writeUInt16LE(32, 12);
  dir.writeUInt32LE(image.length, 14);
  dir.writeUInt32LE(22, 18);
  return Buffer.concat([dir, image]);
}
