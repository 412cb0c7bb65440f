/**
 * decodeImage on the real edge-case images of the shared eval set (never copied into the repo):
 * EXIF orientations, CMYK, alpha, 16-bit, animations (first frame), BMP, tiny, huge, broken EXIF.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { loadConfig, type ImageLimits } from '../../lambda/config.js';
import { FacekitError } from '../../lambda/errors.js';
import { decodeImage, decodeImageWithFormat, parseBmpHeader, sniffImageFormat } from '../../lambda/image/decode.js';
import type { RgbImage } from '../../lambda/image/types.js';
import { pngChunk } from '../helpers/synthetic-bytes.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const evalDir = path.resolve(repoRoot, '../shared/eval/dev');
const limits: ImageLimits = loadConfig({}).image;

interface EdgeCase {
  file: string;
  width: number;
  height: number;
  format: string;
  mode: string;
  exif_orientation?: number;
  display_width?: number;
  display_height?: number;
}
const edgeCases: EdgeCase[] = JSON.parse(readFileSync(path.join(evalDir, 'edge_cases.json'), 'utf8')).images;

function evalBytes(file: string): Buffer {
  return readFileSync(path.join(evalDir, file));
}

async function decodeEval(file: string, customLimits: ImageLimits = limits): Promise<RgbImage> {
  return decodeImage(evalBytes(file), customLimits);
}

/** Values compared per image at most (element access is slow inside jest's vm realm). */
const MAX_COMPARED_VALUES = 300_000;

/** Mean absolute difference per channel value over rows [fromRow, toRow), sampled evenly on big images. */
function meanAbsDiff(a: RgbImage, b: RgbImage, fromRow = 0, toRow = a.height): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  const start = fromRow * a.width * 3;
  const end = toRow * a.width * 3;
  // An odd step not divisible by 3 visits all three channels.
  let step = Math.max(1, Math.floor((end - start) / MAX_COMPARED_VALUES));
  if (step > 1 && step % 3 === 0) step++;
  let sum = 0;
  let count = 0;
  for (let i = start; i < end; i += step, count++) sum += Math.abs(a.data[i] - b.data[i]);
  return sum / count;
}

/** RGB → BGR, to show that a channel-order mistake would be caught. */
function swapRedBlue(image: RgbImage): RgbImage {
  const data = Buffer.from(image.data);
  for (let i = 0; i < data.length; i += 3) [data[i], data[i + 2]] = [data[i + 2], data[i]];
  return { ...image, data };
}

function expectRgbLayout(image: RgbImage): void {
  expect(image.data.length).toBe(image.width * image.height * 3);
}

async function expectError(promise: Promise<unknown>, code: string): Promise<FacekitError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FacekitError);
  expect((error as FacekitError).code).toBe(code);
  expect((error as FacekitError).status).toBeGreaterThanOrEqual(400);
  expect((error as FacekitError).status).toBeLessThan(500);
  return error as FacekitError;
}

/** Minimal PPM (P6, 8-bit) reader for the BMP comparison; sharp cannot read PPM from a buffer. */
function readPpm(bytes: Buffer): RgbImage {
  const tokens: string[] = [];
  let offset = 0;
  while (tokens.length < 4) {
    while (/\s/.test(String.fromCharCode(bytes[offset]))) offset++;
    if (bytes[offset] === 0x23 /* # comment */) {
      while (bytes[offset] !== 0x0a) offset++;
      continue;
    }
    let token = '';
    while (!/\s/.test(String.fromCharCode(bytes[offset]))) token += String.fromCharCode(bytes[offset++]);
    tokens.push(token);
  }
  offset++; // the single whitespace after maxval
  const [magic, width, height, maxValue] = tokens;
  expect([magic, maxValue]).toEqual(['P6', '255']);
  const w = Number(width);
  const h = Number(height);
  return { data: bytes.subarray(offset, offset + w * h * 3), width: w, height: h };
}


/** A two-frame APNG built by hand (sharp cannot write APNG): IDAT is frame 0, fdAT frame 1. */
function makeApng(frames: RgbImage[]): Buffer {
  const { width, height } = frames[0];
  const compress = (image: RgbImage): Buffer => {
    const rows: Buffer[] = [];
    for (let y = 0; y < height; y++) {
      rows.push(Buffer.from([0]), image.data.subarray(y * width * 3, (y + 1) * width * 3));
    }
    return deflateSync(Buffer.concat(rows));
  };
  const frameControl = (sequence: number): Buffer => {
    const data = Buffer.alloc(26);
    data.writeUInt32BE(sequence, 0);
    data.writeUInt32BE(width, 4);
    data.writeUInt32BE(height, 8);
    data.writeUInt16BE(1, 20); // delay 1/10 s
    data.writeUInt16BE(10, 22);
    return pngChunk('fcTL', data);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const animationControl = Buffer.alloc(8);
  animationControl.writeUInt32BE(frames.length, 0);
  const secondFrame = Buffer.alloc(4);
  secondFrame.writeUInt32BE(2, 0);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('acTL', animationControl),
    frameControl(0),
    pngChunk('IDAT', compress(frames[0])),
    frameControl(1),
    pngChunk('fdAT', Buffer.concat([secondFrame, compress(frames[1])])),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function inverted(image: RgbImage): RgbImage {
  return { ...image, data: Buffer.from(image.data.map((value) => 255 - value)) };
}

async function encodePng(image: RgbImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).png().toBuffer();
}


interface BmpSpec {
  width: number;
  height: number;
  bitsPerPixel: 1 | 4 | 8 | 16 | 24 | 32;
  topDown?: boolean;
  /** DIB header size: 40 (BITMAPINFOHEADER) or 124 (V5). */
  headerSize?: 40 | 124;
  /** Bytes of padding between header/palette and pixels (pixel offset honoured). */
  gap?: number;
  /** BI_BITFIELDS with standard 8-bit masks (32-bit only). */
  bitFields?: boolean;
  /** Palette entries written (bitsPerPixel ≤ 8); colorsUsed = this count. */
  paletteSize?: number;
  /** Write colorsUsed = 0 (the full 2^bpp palette is then implied). */
  impliedPaletteSize?: boolean;
}

const paletteColour = (index: number): number[] => [(index * 71) & 255, (index * 29 + 40) & 255, (index * 113 + 7) & 255];
const directColour = (x: number, y: number): number[] => [(x * 37 + y * 11) & 255, (x * 5 + y * 53) & 255, (x * x + y) & 255];

/** Writes a BMP by hand and returns it with the RGB a correct decoder must produce. */
function makeBmp(spec: BmpSpec): { bytes: Buffer; expected: RgbImage } {
  const { width, height, bitsPerPixel, topDown = false, headerSize = 40, gap = 0, bitFields = false } = spec;
  const paletteSize = bitsPerPixel <= 8 ? (spec.paletteSize ?? 1 << bitsPerPixel) : 0;
  const masksAfterHeader = bitFields && headerSize === 40 ? 12 : 0;
  const pixelOffset = 14 + headerSize + masksAfterHeader + paletteSize * 4 + gap;
  const rowBytes = Math.ceil((width * bitsPerPixel) / 32) * 4;
  const bytes = Buffer.alloc(pixelOffset + rowBytes * height);
  bytes.write('BM', 0, 'latin1');
  bytes.writeUInt32LE(bytes.length, 2);
  bytes.writeUInt32LE(pixelOffset, 10);
  bytes.writeUInt32LE(headerSize, 14);
  bytes.writeInt32LE(width, 18);
  bytes.writeInt32LE(topDown ? -height : height, 22);
  bytes.writeUInt16LE(1, 26);
  bytes.writeUInt16LE(bitsPerPixel, 28);
  bytes.writeUInt32LE(bitFields ? 3 : 0, 30);
  bytes.writeUInt32LE(spec.impliedPaletteSize ? 0 : paletteSize, 46);
  if (bitFields) [0x00ff0000, 0x0000ff00, 0x000000ff].forEach((mask, i) => bytes.writeUInt32LE(mask, 54 + i * 4));
  for (let i = 0; i < paletteSize; i++) {
    const [r, g, b] = paletteColour(i);
    bytes.set([b, g, r, 0], 14 + headerSize + masksAfterHeader + i * 4);
  }
  const expected = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (topDown ? y : height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      let rgb: number[];
      if (bitsPerPixel <= 8) {
        const index = (x * 7 + y * 3) % paletteSize;
        const bitOffset = x * bitsPerPixel;
        const shift = 8 - bitsPerPixel - (bitOffset % 8);
        bytes[row + Math.floor(bitOffset / 8)] |= index << shift;
        rgb = paletteColour(index);
      } else if (bitsPerPixel === 16) {
        const [r, g, b] = directColour(x, y).map((value) => value >> 3);
        bytes.writeUInt16LE((r << 10) | (g << 5) | b, row + x * 2);
        rgb = [r * 8, g * 8, b * 8]; // 5-bit channels scaled by 256/32, as bmp-ts does
      } else {
        rgb = directColour(x, y);
        bytes.set([rgb[2], rgb[1], rgb[0]], row + (x * bitsPerPixel) / 8);
      }
      expected.set(rgb, (y * width + x) * 3);
    }
  }
  return { bytes, expected: { data: expected, width, height } };
}

const MASK_326 = 'detection/face_mask/maksssksksss326.png';
const DERIVED_326 = 'edge_cases/derived/maksssksksss326_';

describe('EXIF orientation', () => {
  const oriented = edgeCases.filter((item) => item.exif_orientation !== undefined);

  it.each(oriented.map((item) => [item.file, item]))('%s decodes to its documented display size', async (_file, item) => {
    const image = await decodeEval(item.file);
    expect([image.width, image.height]).toEqual([item.display_width, item.display_height]);
    expectRgbLayout(image);
  });

  it.each(['Landscape', 'Portrait'])('every %s_N.jpg matches the upright picture after orientation', async (kind) => {
    const upright = await decodeEval(`edge_cases/exif_orientation_examples/${kind}_0.jpg`);
    const variants = edgeCases.filter((item) => item.file.includes(`/${kind}_`) && item.exif_orientation !== undefined);
    expect(variants.length).toBeGreaterThanOrEqual(4);
    for (const variant of variants) {
      // Re-encoded JPEGs differ slightly; a wrong orientation differs by tens of levels.
      expect(meanAbsDiff(await decodeEval(variant.file), upright)).toBeLessThan(5);
    }
  });

  it('the comparison is sensitive: the stored (un-rotated) pixels of orientation 3 do not match', async () => {
    const upright = await decodeEval('edge_cases/exif_orientation_examples/Landscape_0.jpg');
    const { data, info } = await sharp(evalBytes('edge_cases/exif_orientation_examples/Landscape_3.jpg'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(meanAbsDiff({ data, width: info.width, height: info.height }, upright)).toBeGreaterThan(20);
  });

  it.each([
    ['maksssksksss326', [3, 6, 8]],
    ['maksssksksss288', [3, 6, 8]],
    ['maksssksksss39', [3, 6, 8]],
  ] as const)('derived %s_exif{3,6,8} equal the original PNG in display coordinates', async (name, orientations) => {
    const original = await decodeEval(`detection/face_mask/${name}.png`);
    for (const orientation of orientations) {
      const image = await decodeEval(`edge_cases/derived/${name}_exif${orientation}.jpg`);
      expect(meanAbsDiff(image, original)).toBeLessThan(4);
    }
  });

  it('ignores the legacy ImageMagick "Raw profile type exif" text chunk in PNG (as browsers and libvips do)', async () => {
    const image = await decodeEval('edge_cases/pillow_tests/exif_imagemagick_orientation.png');
    expect([image.width, image.height]).toEqual([512, 512]);
  });
});

describe('colour models and bit depths', () => {
  it('CMYK JPEG becomes sRGB (not inverted)', async () => {
    const original = await decodeEval(MASK_326);
    const cmyk = await decodeEval(`${DERIVED_326}cmyk.jpg`);
    expectRgbLayout(cmyk);
    expect(meanAbsDiff(cmyk, original)).toBeLessThan(25); // profile-based conversion, not identical
    expect(meanAbsDiff(inverted(cmyk), original)).toBeGreaterThan(60);
  });

  it('Pillow CMYK sample ("RED") decodes to red pixels', async () => {
    const image = await decodeEval('edge_cases/pillow_tests/pil_sample_cmyk.jpg');
    let redPixels = 0;
    for (let i = 0; i < image.data.length; i += 3) {
      if (image.data[i] > 150 && image.data[i + 1] < 100 && image.data[i + 2] < 100) redPixels++;
    }
    expect(redPixels).toBeGreaterThan(500);
  });

  it('RGBA PNG: alpha is flattened on white, opaque pixels are unchanged', async () => {
    const original = await decodeEval(MASK_326);
    const image = await decodeEval(`${DERIVED_326}rgba.png`);
    expectRgbLayout(image);
    const transparentRows = Math.floor(image.height * 0.05) - 1; // "top 5% fully transparent"
    const top = image.data.subarray(0, transparentRows * image.width * 3);
    expect(top.every((value) => value === 255)).toBe(true);
    expect(meanAbsDiff(image, original, transparentRows + 2)).toBeLessThan(2);
  });

  it('RGBA WebP decodes to 3 channels', async () => {
    const image = await decodeEval('edge_cases/pillow_tests/transparent.webp');
    expect([image.width, image.height]).toEqual([200, 150]);
    expectRgbLayout(image);
  });

  it('16-bit grayscale PNG is scaled to 8 bits (not clipped to white) and expanded to RGB', async () => {
    const gray8 = await decodeEval(`${DERIVED_326}gray.jpg`);
    const gray16 = await decodeEval(`${DERIVED_326}gray16.png`);
    expectRgbLayout(gray16);
    expect(meanAbsDiff(gray16, gray8)).toBeLessThan(3);
    for (let i = 0; i < gray16.data.length; i += 3 * 997) {
      expect(gray16.data[i]).toBe(gray16.data[i + 1]);
      expect(gray16.data[i]).toBe(gray16.data[i + 2]);
    }
  });

  it('1-bit PNG and 8-bit grayscale JPEG become RGB', async () => {
    const bilevel = await decodeEval('edge_cases/pillow_tests/hopper_bw_500.png');
    expectRgbLayout(bilevel);
    expect(bilevel.data.every((value) => value === 0 || value === 255)).toBe(true);
    expectRgbLayout(await decodeEval(`${DERIVED_326}gray.jpg`));
  });
});

describe('animations: first frame only', () => {
  it('2-frame GIF gives frame 0', async () => {
    const original = await decodeEval(MASK_326);
    const first = await decodeEval(`${DERIVED_326}anim.gif`);
    const { data, info } = await sharp(evalBytes(`${DERIVED_326}anim.gif`), { page: 1 })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const second = { data, width: info.width, height: info.height };
    expect([first.width, first.height]).toEqual([382, 400]); // not a tall strip of frames
    expect(meanAbsDiff(first, original)).toBeLessThan(5);
    expect(meanAbsDiff(second, original)).toBeGreaterThan(20);
  });

  it('animated WebP (made in memory from eval frames) gives frame 0', async () => {
    const frame = await decodeEval('edge_cases/pillow_tests/hopper.bmp');
    const frames = [await encodePng(frame), await encodePng(inverted(frame))];
    const webp = await sharp(frames, { join: { animated: true } }).webp({ lossless: true }).toBuffer();
    expect((await sharp(webp).metadata()).pages).toBe(2);
    const decoded = await decodeImageWithFormat(webp, limits);
    expect(decoded.format).toBe('webp');
    expect([decoded.image.width, decoded.image.height]).toEqual([frame.width, frame.height]);
    expect(meanAbsDiff(decoded.image, frame)).toBeLessThan(1);
  });

  it('APNG (made in memory from eval frames) gives frame 0', async () => {
    const frame = await decodeEval('edge_cases/pillow_tests/hopper.bmp');
    const decoded = await decodeImageWithFormat(makeApng([frame, inverted(frame)]), limits);
    expect(decoded.format).toBe('png');
    expect(meanAbsDiff(decoded.image, frame)).toBe(0);
  });

  it('MPO (multi-picture JPEG) gives the first picture', async () => {
    const image = await decodeEval('edge_cases/pillow_tests/sugarshack.mpo');
    expect([image.width, image.height]).toEqual([640, 480]);
  });
});

describe('BMP (bmp-ts, ABGR → RGB)', () => {
  it('24-bit V5 BMP matches the PPM of the same picture (the two files differ by ±1–5 levels of noise)', async () => {
    const bmp = await decodeEval('edge_cases/pillow_tests/hopper.bmp');
    const ppm = readPpm(evalBytes('edge_cases/pillow_tests/hopper.ppm'));
    expect(meanAbsDiff(bmp, ppm)).toBeLessThan(2);
    expect(meanAbsDiff(swapRedBlue(bmp), ppm)).toBeGreaterThan(10);
  });

  it('24-bit BMP equals the lossless WebP of the same picture exactly', async () => {
    const bmp = await decodeImageWithFormat(evalBytes(`${DERIVED_326}bmp.bmp`), limits);
    expect(bmp.format).toBe('bmp');
    const webp = await decodeEval(`${DERIVED_326}lossless.webp`);
    expect(meanAbsDiff(bmp.image, webp)).toBe(0);
    expect(meanAbsDiff(swapRedBlue(bmp.image), webp)).toBeGreaterThan(10);
  });

  it.each([
    ['1-bit, width not a multiple of 8', { width: 37, height: 9, bitsPerPixel: 1 }],
    ['4-bit, odd width (bmp-ts stops after one row unless padded)', { width: 33, height: 10, bitsPerPixel: 4 }],
    ['4-bit, even width, 11-colour palette', { width: 32, height: 10, bitsPerPixel: 4, paletteSize: 11 }],
    ['8-bit, implied 256-colour palette', { width: 31, height: 12, bitsPerPixel: 8, impliedPaletteSize: true }],
    ['8-bit, 20-colour palette, top-down', { width: 30, height: 12, bitsPerPixel: 8, paletteSize: 20, topDown: true }],
    ['16-bit 5-5-5', { width: 15, height: 9, bitsPerPixel: 16 }],
    ['24-bit, top-down, gap before the pixels', { width: 30, height: 11, bitsPerPixel: 24, topDown: true, gap: 6 }],
    ['32-bit BI_RGB in a V5 header with zero masks and a gap', { width: 17, height: 9, bitsPerPixel: 32, headerSize: 124, gap: 10 }],
    ['32-bit BI_BITFIELDS', { width: 17, height: 9, bitsPerPixel: 32, bitFields: true }],
  ] as Array<[string, BmpSpec]>)('hand-made %s decodes exactly', async (_name, spec) => {
    const { bytes, expected } = makeBmp(spec);
    const decoded = await decodeImageWithFormat(bytes, { ...limits, minSide: 1 });
    expect(decoded.format).toBe('bmp');
    expect([decoded.image.width, decoded.image.height]).toEqual([expected.width, expected.height]);
    expect(decoded.image.data.equals(expected.data)).toBe(true);
  });

  it('the header parser reads the documented dimensions', () => {
    const header = parseBmpHeader(evalBytes(`${DERIVED_326}bmp.bmp`));
    expect([header.width, header.height, header.bitsPerPixel]).toEqual([382, 400, 24]);
  });

  it('over-limit BMP dimensions are refused from the header', async () => {
    await expectError(
      decodeImage(evalBytes(`${DERIVED_326}bmp.bmp`), { ...limits, maxLongSide: 399 }),
      'IMAGE_DIMENSIONS_TOO_LARGE',
    );
  });
});

describe('TIFF', () => {
  it('decodes a TIFF made in memory from an eval image', async () => {
    const frame = await decodeEval('edge_cases/pillow_tests/hopper.bmp');
    const tiff = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
      .tiff({ compression: 'lzw' })
      .toBuffer();
    expect(sniffImageFormat(tiff)).toBe('tiff');
    const decoded = await decodeImageWithFormat(tiff, limits);
    expect(decoded.format).toBe('tiff');
    expect(meanAbsDiff(decoded.image, frame)).toBe(0);
  });
});

describe('sizes and limits', () => {
  it('tiny 4×4 PNG is refused below minSide, accepted with a lower minSide', async () => {
    const error = await expectError(decodeEval('edge_cases/pillow_tests/tiny.png'), 'IMAGE_TOO_SMALL');
    expect(error.message).toContain(`${limits.minSide} px`);
    const image = await decodeEval('edge_cases/pillow_tests/tiny.png', { ...limits, minSide: 1 });
    expect([image.width, image.height]).toEqual([4, 4]);
  });

  it('96×54 JPEG decodes', async () => {
    const image = await decodeEval('edge_cases/derived/maksssksksss288_tiny96.jpg');
    expect([image.width, image.height]).toEqual([96, 54]);
  });

  it('5970×6000 JPEG is refused by the default limit from its header, fast', async () => {
    const started = performance.now();
    const error = await expectError(
      decodeEval('edge_cases/derived/maksssksksss39_huge6000.jpg'),
      'IMAGE_DIMENSIONS_TOO_LARGE',
    );
    expect(performance.now() - started).toBeLessThan(500);
    expect(error.message).toContain(`${limits.maxLongSide} px`);
  });

  it('5970×6000 JPEG decodes with raised limits', async () => {
    const raised = { ...limits, maxLongSide: 6000, maxPixels: 6000 * 6000 };
    const image = await decodeEval('edge_cases/derived/maksssksksss39_huge6000.jpg', raised);
    expect([image.width, image.height]).toEqual([5970, 6000]);
    expectRgbLayout(image);
  });

  it('maxPixels is checked as well as the long side', async () => {
    await expectError(
      decodeEval('edge_cases/exif_orientation_examples/Landscape_0.jpg', { ...limits, maxPixels: 1800 * 1200 - 1 }),
      'IMAGE_DIMENSIONS_TOO_LARGE',
    );
  });

  it('the byte limit applies', async () => {
    await expectError(decodeEval(`${DERIVED_326}bmp.bmp`, { ...limits, maxBytes: 1000 }), 'IMAGE_TOO_LARGE');
  });
});

describe('odd real-world files and unsupported formats', () => {
  it.each([
    'edge_cases/pillow_tests/hopper_bad_exif.jpg',
    'edge_cases/pillow_tests/broken_exif_dpi.jpg',
    'edge_cases/pillow_tests/hopper_16bit_qtables.jpg',
    `${DERIVED_326}progressive.jpg`,
    'edge_cases/pillow_tests/hopper_45.png',
    'edge_cases/pillow_tests/hopper.gif',
    'edge_cases/pillow_tests/flower.webp',
  ])('%s decodes', async (file) => {
    const item = edgeCases.find((candidate) => candidate.file === file);
    const image = await decodeEval(file);
    expectRgbLayout(image);
    if (item) expect([image.width, image.height]).toEqual([item.width, item.height]);
  });

  it('PPM is not a supported format', async () => {
    const error = await expectError(decodeEval('edge_cases/pillow_tests/hopper.ppm'), 'UNSUPPORTED_FORMAT');
    expect(error.message).toMatch(/jpeg, png, bmp, webp, gif, tiff/);
  });

  it('every eval edge case either decodes to RGB or fails with a 4xx FacekitError', async () => {
    for (const item of edgeCases) {
      try {
        expectRgbLayout(await decodeEval(item.file));
      } catch (error) {
        expect(error).toBeInstanceOf(FacekitError);
        expect((error as FacekitError).status).toBeLessThan(500);
      }
    }
  });
});
