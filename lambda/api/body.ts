/**
 * Request-body parsing shared by the dialects: multipart/form-data (./multipart.ts), urlencoded forms and
 * JSON. Pure over the already-read Buffer body: nothing touches the network or the disk, and every
 * part is capped so an oversized upload fails with IMAGE_TOO_LARGE naming its field.
 */
import type { ImageLimits } from '../config.js';
import { FacekitError } from '../errors.js';
import type { HttpRequest } from './http.js';
import { parseMultipartBody } from './multipart.js';

export type BodyKind = 'json' | 'multipart' | 'urlencoded';

export interface UploadedFile {
  readonly bytes: Buffer;
  readonly filename?: string;
  readonly contentType?: string;
}

export type ParsedBody =
  | { readonly kind: 'json'; readonly json: unknown }
  | {
      readonly kind: 'multipart' | 'urlencoded';
      /** Text fields; the first value wins for repeated names (as for query strings). */
      readonly fields: Readonly<Record<string, string>>;
      /** Uploaded files by field name (multipart only); the first file wins. */
      readonly files: Readonly<Record<string, UploadedFile>>;
    };

export interface BodyLimits {
  /** Largest single uploaded file, in bytes. */
  readonly maxFileBytes: number;
  /** Largest sum of all uploaded files, in bytes. */
  readonly maxTotalFileBytes: number;
  /** Largest text field (it may carry a base64 image), in characters. */
  readonly maxFieldChars: number;
}

export interface ParseBodyOptions {
  readonly accept: readonly BodyKind[];
  readonly limits: BodyLimits;
  /**
   * Multipart fields that hold binary images even when a client sends them without a filename;
   * their bytes are kept exactly.
   */
  readonly binaryFields?: readonly string[];
  /** How a body without Content-Type is read (Alibaba's pop-core sends JSON without one). Default: refused. */
  readonly withoutContentType?: BodyKind;
}

/** Multipart part counts: enough for any dialect's form, small enough to bound the work. */
const MAX_MULTIPART_FILES = 8;
const MAX_MULTIPART_FIELDS = 64;
/** Base64 grows bytes by 4/3; a little slack for line breaks and a data-URL prefix. */
const BASE64_FIELD_SLACK_CHARS = 4096;

/**
 * Caps derived from the image limits: one image of `maxBytes` per request, as a file or as a
 * base64 text field. The total over all files is the same cap (every dialect takes one image).
 */
export function bodyLimitsFor(image: ImageLimits): BodyLimits {
  return {
    maxFileBytes: image.maxBytes,
    maxTotalFileBytes: image.maxBytes,
    maxFieldChars: Math.ceil(image.maxBytes / 3) * 4 + BASE64_FIELD_SLACK_CHARS,
  };
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

function bodyKindOf(type: string): BodyKind | undefined {
  if (type === 'multipart/form-data') return 'multipart';
  if (type === 'application/x-www-form-urlencoded') return 'urlencoded';
  // application/x-amz-json-1.1: the AWS JSON protocol (Rekognition).
  if (type === 'application/json' || type === 'text/json' || type.endsWith('+json') || type.startsWith('application/x-amz-json-')) return 'json';
  return undefined;
}

const KIND_MEDIA_TYPES: Record<BodyKind, string> = {
  json: 'application/json',
  multipart: 'multipart/form-data',
  urlencoded: 'application/x-www-form-urlencoded',
};

export async function parseBody(request: HttpRequest, options: ParseBodyOptions): Promise<ParsedBody> {
  if (request.body.length === 0) throw new FacekitError('MISSING_BODY', 'the request has no body');
  const expected = options.accept.map((kind) => KIND_MEDIA_TYPES[kind]).join(' or ');
  const type = mediaType(request.headers['content-type']) ?? (options.withoutContentType && KIND_MEDIA_TYPES[options.withoutContentType]);
  if (type === undefined) {
    throw new FacekitError('UNSUPPORTED_MEDIA_TYPE', `the request has no Content-Type; send ${expected}`);
  }
  const kind = bodyKindOf(type);
  if (kind === undefined || !options.accept.includes(kind)) {
    throw new FacekitError('UNSUPPORTED_MEDIA_TYPE', `Content-Type ${type} is not supported here; send ${expected}`);
  }
  switch (kind) {
    case 'json':
      return { kind, json: parseJson(request.body) };
    case 'urlencoded':
      return { kind, fields: parseUrlEncoded(request.body, options.limits), files: {} };
    case 'multipart':
      return { kind, ...parseMultipart(request, options) };
  }
}

export function parseJson(body: Buffer): unknown {
  // A UTF-8 byte-order mark is legal in the wild; JSON.parse rejects it.
  const text = body.toString('utf8').replace(/^\uFEFF/, '');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new FacekitError('INVALID_JSON', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

export function parseUrlEncoded(body: Buffer, limits: BodyLimits): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    if (value.length > limits.maxFieldChars) {
      throw new FacekitError('IMAGE_TOO_LARGE', `${name}: the field is larger than the ${limits.maxFieldChars}-character limit`, {
        field: name,
      });
    }
    if (!(name in fields)) fields[name] = value;
  }
  return fields;
}

function parseMultipart(
  request: HttpRequest,
  options: ParseBodyOptions,
): { fields: Record<string, string>; files: Record<string, UploadedFile> } {
  const binaryFields = new Set(options.binaryFields ?? []);
  const parts = parseMultipartBody(request.body, request.headers['content-type'], {
    ...options.limits,
    maxFiles: MAX_MULTIPART_FILES,
    maxFields: MAX_MULTIPART_FIELDS,
  });
  const fields: Record<string, string> = {};
  const files: Record<string, UploadedFile> = {};
  for (const part of parts) {
    // A binary image field sent without a filename is still a file; its bytes are kept exactly.
    if (part.filename !== undefined || binaryFields.has(part.name)) {
      if (!(part.name in files)) {
        files[part.name] = {
          bytes: part.bytes,
          ...(part.filename ? { filename: part.filename } : {}),
          ...(part.contentType ? { contentType: part.contentType } : {}),
        };
      }
    } else if (!(part.name in fields)) {
      fields[part.name] = part.bytes.toString('utf8');
    }
  }
  return { fields, files };
}
