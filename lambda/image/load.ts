/**
 * One entry point for the dialects: an ImageInput (raw bytes, base64, or an http/https/s3 URL)
 * → RGB raster, with the byte limit enforced on every path and the time spent on each step.
 */
import type { FetchConfig, ImageLimits } from '../config.js';
import { FacekitError } from '../errors.js';
import { decodeBase64Strict } from './base64.js';
import { decodeImageWithFormat, type ImageFormat } from './decode.js';
import { fetchUrlBytes, type FetchDependencies } from './fetch-url.js';
import { fetchS3Bytes, type S3Dependencies } from './s3.js';
import type { ImageInput, RgbImage } from './types.js';

export interface LoadedImage {
  readonly image: RgbImage;
  /** Encoded size in bytes. */
  readonly bytes: number;
  readonly format: ImageFormat;
  /** Time to decode bytes into pixels. */
  readonly decodeMs: number;
  /** Time to obtain the encoded bytes (download, S3 read or base64 decoding). */
  readonly fetchMs: number;
}

export type LoadDependencies = FetchDependencies & { readonly s3?: S3Dependencies };

/** `scheme:` at the start of a URL, lower-cased by the caller. */
const URL_SCHEME_PATTERN = /^([a-z][a-z0-9+.-]*):/i;

function checkByteCap(bytes: Buffer, limits: ImageLimits, field: string): Buffer {
  if (bytes.length > limits.maxBytes) {
    throw new FacekitError(
      'IMAGE_TOO_LARGE',
      `${field}: the image is ${bytes.length} bytes, over the limit of ${limits.maxBytes} bytes`,
      { field },
    );
  }
  return bytes;
}

async function fetchBytes(
  input: ImageInput,
  limits: ImageLimits,
  fetchConfig: FetchConfig,
  dependencies: LoadDependencies,
): Promise<Buffer> {
  switch (input.kind) {
    case 'bytes':
      return checkByteCap(input.bytes, limits, input.field);
    case 'base64':
      return decodeBase64Strict(input.base64, limits.maxBytes, input.field);
    case 'url': {
      const url = input.url.trim();
      const scheme = URL_SCHEME_PATTERN.exec(url)?.[1]?.toLowerCase();
      if (scheme === 'http' || scheme === 'https') {
        return fetchUrlBytes(url, fetchConfig, limits.maxBytes, input.field, dependencies);
      }
      if (scheme === 's3') return fetchS3Bytes(url, fetchConfig, limits.maxBytes, input.field, dependencies.s3);
      throw new FacekitError(
        'INVALID_URL',
        scheme === undefined
          ? `${input.field}: not a valid URL (expected http://, https:// or s3://)`
          : `${input.field}: unsupported URL scheme "${scheme}" (expected http, https or s3)`,
        { field: input.field },
      );
    }
  }
}

export interface FetchedImage {
  readonly encoded: Buffer;
  readonly field: string;
  readonly fetchMs: number;
}

/** Obtains the encoded bytes (download, S3 read, base64 decoding) within the byte cap. */
export async function fetchImageBytes(
  input: ImageInput,
  limits: ImageLimits,
  fetchConfig: FetchConfig,
  dependencies: LoadDependencies = {},
): Promise<FetchedImage> {
  const fetchStart = performance.now();
  const encoded = checkByteCap(await fetchBytes(input, limits, fetchConfig, dependencies), limits, input.field);
  return { encoded, field: input.field, fetchMs: performance.now() - fetchStart };
}

/** Decodes fetched bytes into pixels (header limits first). */
export async function decodeFetchedImage(fetched: FetchedImage, limits: ImageLimits): Promise<LoadedImage> {
  const decodeStart = performance.now();
  const { image, format } = await decodeImageWithFormat(fetched.encoded, limits, fetched.field);
  const decodeMs = performance.now() - decodeStart;
  return { image, bytes: fetched.encoded.length, format, decodeMs, fetchMs: fetched.fetchMs };
}

/** Obtains and decodes an image. Every failure is a FacekitError with a 4xx status (S3 outages: 502). */
export async function loadImage(
  input: ImageInput,
  limits: ImageLimits,
  fetchConfig: FetchConfig,
  dependencies: LoadDependencies = {},
): Promise<LoadedImage> {
  return decodeFetchedImage(await fetchImageBytes(input, limits, fetchConfig, dependencies), limits);
}
