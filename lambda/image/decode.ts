/**
 * Encoded image bytes → packed 8-bit RGB in display orientation.
 *
 * Order of work, cheapest first, so hostile input is refused before any pixel is allocated:
 *   1. size and magic bytes (only JPEG, PNG, BMP, WebP, GIF, TIFF reach a decoder),
 *   2. dimensions from the header alone (sharp `metadata()`, or our own BMP header parser),
 *      checked against ImageLimits in display orientation,
 *   3. the full decode, with sharp's `limitInputPixels` as a second line of defence.
 * Every failure is a FacekitError with a 4xx status; nothing from a decoder escapes as a 500.
 */
import sharp, { type Metadata } from 'sharp';
import { decode as decodeBmpPixels } from 'bmp-ts';
import type { ImageLimits } from '../config.js';
import { FacekitError } from '../errors.js';
import type { RgbImage } from './types.js';

export type ImageFormat = 'jpeg' | 'png' | 'bmp' | 'webp' | 'gif' | 'tiff';

export const SUPPORTED_FORMATS: readonly ImageFormat[] = ['jpeg', 'png', 'bmp', 'webp', 'gif', 'tiff'];

export interface DecodedImage {
  readonly image: RgbImage;
  readonly format: ImageFormat;
}

/** Width and height as stored, plus the EXIF orientation (1 when absent). */
export interface HeaderDimensions {
  readonly width: number;
  readonly height: number;
  readonly orientation: number;
}

const RGB_CHANNELS = 3;
/** Alpha is composited onto white (as a browser page shows it), so transparent areas are not noise. */
const ALPHA_BACKGROUND = { r: 255, g: 255, b: 255 };
/** Upper bound for one decode; a valid image within the limits decodes in well under a second. */
const DECODE_TIMEOUT_SECONDS = 10;
/** EXIF orientations 5–8 transpose the image: display width is the stored height. */
const FIRST_TRANSPOSING_ORIENTATION = 5;
/** Default field name in messages when the caller does not name one. */
const DEFAULT_FIELD = 'image';

// ---------------------------------------------------------------------------------------------
// Format identification

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function startsWith(bytes: Buffer, prefix: ArrayLike<number>, offset = 0): boolean {
  if (bytes.length < offset + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[offset + i] !== prefix[i]) return false;
  return true;
}

function ascii(text: string): number[] {
  return Array.from(text, (char) => char.charCodeAt(0));
}

/** Identifies the container from its magic bytes; undefined for anything not supported. */
export function sniffImageFormat(bytes: Buffer): ImageFormat | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  // Classic TIFF (42) and BigTIFF (43), little- and big-endian.
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])) return 'tiff';
  if (startsWith(bytes, ascii('BM'))) return 'bmp';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Limits

/** Display dimensions: EXIF orientations 5–8 swap width and height. */
export function displayDimensions(header: HeaderDimensions): { width: number; height: number } {
  return header.orientation >= FIRST_TRANSPOSING_ORIENTATION
    ? { width: header.height, height: header.width }
    : { width: header.width, height: header.height };
}

/** Throws when display dimensions break the limits. Pure; called before any pixel is decoded. */
export function checkDimensions(width: number, height: number, limits: ImageLimits, field: string): void {
  const size = `${width}×${height} px`;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width <= 0 || height <= 0) {
    throw new FacekitError('CORRUPT_IMAGE', `${field}: the image header gives invalid dimensions (${size})`, { field });
  }
  const longSide = Math.max(width, height);
  if (longSide > limits.maxLongSide) {
    throw new FacekitError(
      'IMAGE_DIMENSIONS_TOO_LARGE',
      `${field}: the image is ${size}; its long side exceeds the limit of ${limits.maxLongSide} px`,
      { field },
    );
  }
  if (width * height > limits.maxPixels) {
    throw new FacekitError(
      'IMAGE_DIMENSIONS_TOO_LARGE',
      `${field}: the image is ${size} (${width * height} pixels), over the limit of ${limits.maxPixels} pixels`,
      { field },
    );
  }
  if (Math.min(width, height) < limits.minSide) {
    throw new FacekitError(
      'IMAGE_TOO_SMALL',
      `${field}: the image is ${size}; each side must be at least ${limits.minSide} px`,
      { field },
    );
  }
}

function checkByteSize(bytes: Buffer, limits: ImageLimits, field: string): void {
  if (bytes.length === 0) throw new FacekitError('EMPTY_IMAGE', `${field}: the image is empty (0 bytes)`, { field });
  if (bytes.length > limits.maxBytes) {
    throw new FacekitError(
      'IMAGE_TOO_LARGE',
      `${field}: the image is ${bytes.length} bytes, over the limit of ${limits.maxBytes} bytes`,
      { field },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// BMP (sharp has no BMP loader): our own header parser for the limits, bmp-ts for the pixels.

const BMP_FILE_HEADER_BYTES = 14;
const BMP_INFO_HEADER_BYTES = 40;
/** DIB header sizes bmp-ts understands: BITMAPINFOHEADER, V2, V3, V4, V5. */
const BMP_SUPPORTED_DIB_HEADER_SIZES = new Set([40, 52, 56, 108, 124]);
const BMP_V2_HEADER_BYTES = 52;
const BMP_V3_HEADER_BYTES = 56;
const BMP_V4_HEADER_BYTES = 108;
const BMP_V5_HEADER_BYTES = 124;
const BMP_RGB_MASK_BYTES = 12;
const BMP_ALPHA_MASK_BYTES = 4;
const BMP_PALETTE_ENTRY_BYTES = 4;
const BMP_MAX_PALETTE_ENTRIES = 256;
const BMP_BITS_PER_PIXEL = new Set([1, 4, 8, 16, 24, 32]);
const BMP_ROW_ALIGNMENT_BITS = 32;
/** bmp-ts output: 4 bytes per pixel in A, B, G, R order (verified against the PNG of the same picture). */
const BMP_TS_CHANNELS = 4;
const BMP_TS_RED_OFFSET = 3;
const BMP_TS_GREEN_OFFSET = 2;
const BMP_TS_BLUE_OFFSET = 1;
/** Where V2+ headers keep the red, green, blue, alpha masks. */
const BMP_MASKS_OFFSET = BMP_FILE_HEADER_BYTES + BMP_INFO_HEADER_BYTES;
/** The masks implied by uncompressed (BI_RGB) 16- and 32-bit BMP: [red, green, blue, alpha]. */
const BMP_IMPLIED_MASKS: Readonly<Record<number, readonly number[]>> = {
  16: [0x7c00, 0x03e0, 0x001f, 0],
  32: [0x00ff0000, 0x0000ff00, 0x000000ff, 0],
};

enum BmpCompression {
  None = 0,
  Rle8 = 1,
  Rle4 = 2,
  BitFields = 3,
  Jpeg = 4,
  Png = 5,
  AlphaBitFields = 6,
}

export interface BmpHeader {
  readonly width: number;
  /** Absolute value; `topDown` keeps the sign. */
  readonly height: number;
  readonly topDown: boolean;
  readonly bitsPerPixel: number;
  readonly compression: number;
  readonly dibHeaderSize: number;
  readonly pixelDataOffset: number;
  readonly paletteEntries: number;
  /** Where bmp-ts starts reading pixels (it ignores pixelDataOffset). */
  readonly bmpTsPixelStart: number;
  readonly rowBytes: number;
}

/** Parses and validates a BMP header without touching pixel data. Pure. */
export function parseBmpHeader(bytes: Buffer, field = DEFAULT_FIELD): BmpHeader {
  if (bytes.length < BMP_FILE_HEADER_BYTES + BMP_INFO_HEADER_BYTES) {
    throw new FacekitError('CORRUPT_IMAGE', `${field}: the BMP header is truncated`, { field });
  }
  const pixelDataOffset = bytes.readUInt32LE(10);
  const dibHeaderSize = bytes.readUInt32LE(14);
  if (!BMP_SUPPORTED_DIB_HEADER_SIZES.has(dibHeaderSize)) {
    throw new FacekitError(
      'UNSUPPORTED_FORMAT',
      `${field}: BMP variant with a ${dibHeaderSize}-byte header (e.g. OS/2) is not supported; send PNG or JPEG`,
      { field },
    );
  }
  const width = bytes.readInt32LE(18);
  const signedHeight = bytes.readInt32LE(22);
  const planes = bytes.readUInt16LE(26);
  const bitsPerPixel = bytes.readUInt16LE(28);
  const compression = bytes.readUInt32LE(30);
  const colorsUsed = bytes.readUInt32LE(46);
  const height = Math.abs(signedHeight);

  if (width <= 0 || height === 0 || planes !== 1 || !BMP_BITS_PER_PIXEL.has(bitsPerPixel)) {
    throw new FacekitError(
      'CORRUPT_IMAGE',
      `${field}: invalid BMP header (width ${width}, height ${signedHeight}, planes ${planes}, ` +
        `${bitsPerPixel} bits per pixel)`,
      { field },
    );
  }
  const usesBitFields = compression === BmpCompression.BitFields || compression === BmpCompression.AlphaBitFields;
  if (compression === BmpCompression.Rle8 || compression === BmpCompression.Rle4) {
    throw new FacekitError(
      'UNSUPPORTED_FORMAT',
      `${field}: RLE-compressed BMP is not supported; send PNG or JPEG`,
      { field },
    );
  }
  if (compression === BmpCompression.Jpeg || compression === BmpCompression.Png) {
    throw new FacekitError('UNSUPPORTED_FORMAT', `${field}: BMP with embedded JPEG/PNG is not supported`, { field });
  }
  if (compression !== BmpCompression.None && !(usesBitFields && (bitsPerPixel === 16 || bitsPerPixel === 32))) {
    throw new FacekitError(
      'CORRUPT_IMAGE',
      `${field}: invalid BMP compression ${compression} for ${bitsPerPixel} bits per pixel`,
      { field },
    );
  }
  if (colorsUsed > BMP_MAX_PALETTE_ENTRIES || (bitsPerPixel <= 8 && colorsUsed > 1 << bitsPerPixel)) {
    throw new FacekitError('CORRUPT_IMAGE', `${field}: invalid BMP palette size ${colorsUsed}`, { field });
  }

  // Mirror how bmp-ts walks the header, to know where it will start reading pixels.
  let bmpTsPixelStart = BMP_FILE_HEADER_BYTES + BMP_INFO_HEADER_BYTES;
  if (dibHeaderSize > BMP_INFO_HEADER_BYTES || usesBitFields) bmpTsPixelStart += BMP_RGB_MASK_BYTES;
  if (dibHeaderSize > BMP_V2_HEADER_BYTES || compression === BmpCompression.AlphaBitFields) {
    bmpTsPixelStart += BMP_ALPHA_MASK_BYTES;
  }
  if (dibHeaderSize > BMP_V3_HEADER_BYTES) bmpTsPixelStart += BMP_V4_HEADER_BYTES - BMP_V3_HEADER_BYTES;
  if (dibHeaderSize > BMP_V4_HEADER_BYTES) bmpTsPixelStart += BMP_V5_HEADER_BYTES - BMP_V4_HEADER_BYTES;
  const paletteEntries = bitsPerPixel <= 8 || colorsUsed > 0 ? colorsUsed || 1 << bitsPerPixel : 0;
  bmpTsPixelStart += paletteEntries * BMP_PALETTE_ENTRY_BYTES;

  const rowBytes = Math.ceil((width * bitsPerPixel) / BMP_ROW_ALIGNMENT_BITS) * (BMP_ROW_ALIGNMENT_BITS / 8);
  return {
    width,
    height,
    topDown: signedHeight < 0,
    bitsPerPixel,
    compression,
    dibHeaderSize,
    pixelDataOffset,
    paletteEntries,
    bmpTsPixelStart,
    rowBytes,
  };
}

/**
 * Decodes BMP pixels with bmp-ts, working around what it gets wrong:
 * - it ignores the pixel-data offset: bytes between its read position and the offset are cut out;
 * - it stops after the first row of 4-bit images with an odd width: the header width is rounded
 *   up to even (same row size in bytes) and the extra column cropped.
 * Alpha (32-bit BMP alpha is usually unused padding) is dropped.
 */
function decodeBmp(bytes: Buffer, header: BmpHeader, field: string): RgbImage {
  if (header.bmpTsPixelStart > header.pixelDataOffset) {
    throw new FacekitError('CORRUPT_IMAGE', `${field}: BMP pixel data overlaps its header or palette`, { field });
  }
  const pixelBytes = header.rowBytes * header.height;
  if (header.pixelDataOffset + pixelBytes > bytes.length) {
    throw new FacekitError(
      'CORRUPT_IMAGE',
      `${field}: the BMP is truncated (${bytes.length} bytes, needs ${header.pixelDataOffset + pixelBytes})`,
      { field },
    );
  }
  const headerAndPalette = Buffer.from(bytes.subarray(0, header.bmpTsPixelStart));
  const padOddNibbleWidth = header.bitsPerPixel === 4 && header.width % 2 === 1;
  const decodeWidth = padOddNibbleWidth ? header.width + 1 : header.width;
  headerAndPalette.writeInt32LE(decodeWidth, 18);
  // bmp-ts reads masks from any V2+ header even for BI_RGB, where the spec says to ignore them
  // (often zero): write the implied ones.
  const impliedMasks = BMP_IMPLIED_MASKS[header.bitsPerPixel];
  if (header.compression === BmpCompression.None && header.dibHeaderSize > BMP_INFO_HEADER_BYTES && impliedMasks) {
    const maskCount = header.dibHeaderSize >= BMP_V3_HEADER_BYTES ? impliedMasks.length : impliedMasks.length - 1;
    for (let index = 0; index < maskCount; index++) {
      headerAndPalette.writeUInt32LE(impliedMasks[index], BMP_MASKS_OFFSET + index * BMP_ALPHA_MASK_BYTES);
    }
  }
  const normalised = Buffer.concat([
    headerAndPalette,
    bytes.subarray(header.pixelDataOffset, header.pixelDataOffset + pixelBytes),
  ]);

  let abgr: Buffer;
  try {
    abgr = decodeBmpPixels(normalised).data;
  } catch (error) {
    throw new FacekitError(
      'CORRUPT_IMAGE',
      `${field}: the BMP pixel data could not be decoded`,
      { cause: error, field },
    );
  }
  return {
    data: abgrToRgb(abgr, decodeWidth, header.width, header.height),
    width: header.width,
    height: header.height,
  };
}

/** bmp-ts ABGR rows of `sourceWidth` pixels → packed RGB rows of `width` (≤ sourceWidth) pixels. Pure. */
export function abgrToRgb(abgr: Buffer, sourceWidth: number, width: number, height: number): Buffer {
  const rgb = Buffer.allocUnsafe(width * height * RGB_CHANNELS);
  let out = 0;
  for (let y = 0; y < height; y++) {
    let source = y * sourceWidth * BMP_TS_CHANNELS;
    for (let x = 0; x < width; x++, source += BMP_TS_CHANNELS) {
      rgb[out++] = abgr[source + BMP_TS_RED_OFFSET];
      rgb[out++] = abgr[source + BMP_TS_GREEN_OFFSET];
      rgb[out++] = abgr[source + BMP_TS_BLUE_OFFSET];
    }
  }
  return rgb;
}

// ---------------------------------------------------------------------------------------------
// Everything else: sharp

/**
 * 'error' aborts on real decode errors (truncated or corrupt pixel data) but tolerates warnings
 * such as extraneous bytes before a marker, which real cameras and broken EXIF writers produce
 * (e.g. hopper_bad_exif.jpg fails under the stricter default 'warning').
 */
const SHARP_FAIL_ON = 'error' as const;

function sharpErrorToFacekit(error: unknown, field: string): FacekitError {
  if (error instanceof FacekitError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) {
    return new FacekitError(
      'IMAGE_DIMENSIONS_TOO_LARGE',
      `${field}: the image exceeds the pixel limit`,
      { cause: error, field },
    );
  }
  if (/timeout/i.test(message)) {
    return new FacekitError('CORRUPT_IMAGE', `${field}: the image took too long to decode`, { cause: error, field });
  }
  return new FacekitError(
    'CORRUPT_IMAGE',
    `${field}: the image is corrupt or truncated and could not be decoded`,
    { cause: error, field },
  );
}

/** Header-only read (no pixel decode): stored dimensions and EXIF orientation. */
async function readSharpHeader(bytes: Buffer, format: ImageFormat, field: string): Promise<HeaderDimensions> {
  let metadata: Metadata;
  try {
    // No pixel limit here: this reads the header only, and we want our own error for the limits.
    metadata = await sharp(bytes, { failOn: SHARP_FAIL_ON, limitInputPixels: false, pages: 1 }).metadata();
  } catch (error) {
    throw sharpErrorToFacekit(error, field);
  }
  // The magic bytes chose the format; a different loader would mean a disguised file.
  const loader = metadata.format as string;
  if (loader !== format && !(format === 'jpeg' && loader === 'jpg')) {
    throw new FacekitError(
      'CORRUPT_IMAGE',
      `${field}: the file looks like ${format} but its content is not`,
      { field },
    );
  }
  return { width: metadata.width, height: metadata.height, orientation: metadata.orientation ?? 1 };
}

async function decodeWithSharp(bytes: Buffer, limits: ImageLimits, field: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes, {
      failOn: SHARP_FAIL_ON,
      limitInputPixels: limits.maxPixels,
      autoOrient: true,
      animated: false,
      pages: 1,
      sequentialRead: true,
    })
      .timeout({ seconds: DECODE_TIMEOUT_SECONDS })
      .flatten({ background: ALPHA_BACKGROUND })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== RGB_CHANNELS || data.length !== info.width * info.height * RGB_CHANNELS) {
      throw new FacekitError('CORRUPT_IMAGE', `${field}: the image decoded to an unexpected pixel layout`, { field });
    }
    return { data, width: info.width, height: info.height };
  } catch (error) {
    throw sharpErrorToFacekit(error, field);
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Decodes and reports the detected format. */
export async function decodeImageWithFormat(
  bytes: Buffer,
  limits: ImageLimits,
  field = DEFAULT_FIELD,
): Promise<DecodedImage> {
  checkByteSize(bytes, limits, field);
  const format = sniffImageFormat(bytes);
  if (format === undefined) {
    throw new FacekitError(
      'UNSUPPORTED_FORMAT',
      `${field}: unsupported or unrecognised image format; supported: ${SUPPORTED_FORMATS.join(', ')}`,
      { field },
    );
  }

  if (format === 'bmp') {
    const header = parseBmpHeader(bytes, field);
    checkDimensions(header.width, header.height, limits, field);
    return { image: decodeBmp(bytes, header, field), format };
  }

  const header = await readSharpHeader(bytes, format, field);
  const display = displayDimensions(header);
  checkDimensions(display.width, display.height, limits, field);
  const image = await decodeWithSharp(bytes, limits, field);
  // The header promised these dimensions; a decoder disagreeing would be a bug or a trick.
  checkDimensions(image.width, image.height, limits, field);
  return { image, format };
}

/** Encoded bytes (JPEG, PNG, BMP, WebP, GIF first frame, TIFF first page) → RGB in display orientation. */
export async function decodeImage(bytes: Buffer, limits: ImageLimits, field = DEFAULT_FIELD): Promise<RgbImage> {
  return (await decodeImageWithFormat(bytes, limits, field)).image;
}
