/**
 * Request-body parsing shared by the dialects: multipart/form-data (busboy), urlencoded forms and
 * JSON. Pure over the already-read Buffer body: nothing touches the network or the disk, and every
 * part is capped so an oversized upload fails with IMAGE_TOO_LARGE naming its field.
 */
import busboy from 'busboy';

import type { ImageLimits } from '../config.js';
import { FacekitError } from '../errors.js';
import type { HttpRequest } from './http.js';

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
   * Multipart fields that hold binary images even when a client sends them without a filename
   * (busboy then reports a text field); their bytes are kept exactly.
   */
  readonly binaryFields?: readonly string[];
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
  if (type === 'application/json' || type === 'text/json' || type.endsWith('+json')) return 'json';
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
  const type = mediaType(request.headers['content-type']);
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
      return { kind, ...(await parseMultipart(request, options)) };
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

async function parseMultipart(
  request: HttpRequest,
  options: ParseBodyOptions,
): Promise<{ fields: Record<string, string>; files: Record<string, UploadedFile> }> {
  const { limits } = options;
  const binaryFields = new Set(options.binaryFields ?? []);
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': request.headers['content-type'] },
      // latin1 maps every byte to one char, so a binary image sent as a text part survives intact;
      // ordinary text fields are re-decoded as UTF-8 below.
      defCharset: 'latin1',
      limits: {
        fileSize: limits.maxFileBytes,
        fieldSize: limits.maxFieldChars,
        files: MAX_MULTIPART_FILES,
        fields: MAX_MULTIPART_FIELDS,
      },
    });
  } catch (error) {
    throw new FacekitError('UNSUPPORTED_MEDIA_TYPE', `multipart/form-data body cannot be read: ${(error as Error).message}`);
  }

  const fields: Record<string, string> = {};
  const files: Record<string, UploadedFile> = {};
  let totalFileBytes = 0;

  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (error: FacekitError): void => {
      if (failed) return;
      failed = true;
      reject(error);
    };
    const tooLarge = (name: string, what: string): FacekitError =>
      new FacekitError('IMAGE_TOO_LARGE', `${name}: ${what}`, { field: name });

    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        totalFileBytes += chunk.length;
        if (totalFileBytes > limits.maxTotalFileBytes) {
          fail(tooLarge(name, `the uploaded files exceed the ${limits.maxTotalFileBytes}-byte limit`));
          stream.resume();
          return;
        }
        chunks.push(chunk);
      });
      stream.on('limit', () => fail(tooLarge(name, `the file is larger than the ${limits.maxFileBytes}-byte limit`)));
      stream.on('end', () => {
        if (failed || name in files) return;
        files[name] = {
          bytes: Buffer.concat(chunks),
          ...(info.filename ? { filename: info.filename } : {}),
          ...(info.mimeType ? { contentType: info.mimeType } : {}),
        };
      });
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) {
        fail(tooLarge(name, `the field is larger than the ${limits.maxFieldChars}-character limit`));
        return;
      }
      const bytes = Buffer.from(value, 'latin1');
      if (binaryFields.has(name)) {
        if (!(name in files)) files[name] = { bytes };
        return;
      }
      if (!(name in fields)) fields[name] = bytes.toString('utf8');
    });
    parser.on('error', (error: unknown) =>
      fail(new FacekitError('INVALID_ARGUMENT', `malformed multipart/form-data body: ${(error as Error).message}`, { field: 'body' })),
    );
    parser.on('close', () => {
      if (!failed) resolve({ fields, files });
    });
    parser.end(request.body);
  });
}
