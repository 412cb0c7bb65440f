/**
 * multipart/form-data (RFC 7578) over an in-memory body, tolerant of what real clients send:
 * `Content-Disposition: form-data; name="appid";` (a trailing `;`, as in Youtu's own example; busboy
 * drops such a part), quoted or unquoted parameter values, `filename*=UTF-8''...` (RFC 6266/5987),
 * LF-only line ends, a preamble and an epilogue. Every part, the sum of the files and the number of
 * parts are capped. The router already caps the whole body, so the buffer is bounded.
 */
import { FacekitError } from '../errors.js';

export interface MultipartLimits {
  readonly maxFileBytes: number;
  readonly maxTotalFileBytes: number;
  readonly maxFieldChars: number;
  readonly maxFiles: number;
  readonly maxFields: number;
}

export interface MultipartPart {
  readonly name: string;
  readonly filename?: string;
  readonly contentType?: string;
  readonly bytes: Buffer;
}

/** RFC 2046: a boundary is 1..70 characters. */
const MAX_BOUNDARY_LENGTH = 70;
/** Part headers are short; a longer header block is not a form a client sent. */
const MAX_PART_HEADER_BYTES = 16 * 1024;

function malformed(reason: string): FacekitError {
  return new FacekitError('INVALID_ARGUMENT', `malformed multipart/form-data body: ${reason}`, { field: 'body' });
}

/**
 * `key=value` parameters of a header value (after its first `;`-separated token): values quoted
 * (backslash escapes) or bare; empty parameters (a trailing `;`) are skipped; names lower-cased.
 */
export function headerParameters(value: string): { token: string; parameters: Record<string, string> } {
  const parameters: Record<string, string> = {};
  let index = value.indexOf(';');
  const token = (index < 0 ? value : value.slice(0, index)).trim().toLowerCase();
  while (index >= 0 && index < value.length) {
    index += 1; // past ';'
    const equals = value.indexOf('=', index);
    const nextSemicolon = value.indexOf(';', index);
    if (equals < 0 || (nextSemicolon >= 0 && nextSemicolon < equals)) {
      index = nextSemicolon; // a parameter without a value (or an empty one): skipped
      continue;
    }
    const name = value.slice(index, equals).trim().toLowerCase();
    let cursor = equals + 1;
    while (value[cursor] === ' ' || value[cursor] === '\t') cursor += 1;
    let parameterValue = '';
    if (value[cursor] === '"') {
      cursor += 1;
      while (cursor < value.length && value[cursor] !== '"') {
        if (value[cursor] === '\\' && cursor + 1 < value.length) cursor += 1;
        parameterValue += value[cursor];
        cursor += 1;
      }
      cursor += 1; // closing quote
      const after = value.indexOf(';', cursor);
      index = after;
    } else {
      const end = value.indexOf(';', cursor);
      parameterValue = (end < 0 ? value.slice(cursor) : value.slice(cursor, end)).trim();
      index = end;
    }
    if (name !== '' && !(name in parameters)) parameters[name] = parameterValue;
  }
  return { token, parameters };
}

/** RFC 5987 ext-value: `charset'language'percent-encoded`. Undefined when it cannot be decoded. */
function decodeExtValue(raw: string): string | undefined {
  const match = /^([\w!#$%&+^`{}~-]*)'[^']*'(.*)$/.exec(raw);
  if (!match) return undefined;
  const charset = match[1]!.toLowerCase();
  try {
    if (charset === 'utf-8' || charset === '') return decodeURIComponent(match[2]!);
    if (charset === 'iso-8859-1') return Buffer.from(unescape(match[2]!), 'latin1').toString('latin1');
  } catch {
    return undefined;
  }
  return undefined;
}

export function multipartBoundary(contentType: string | undefined): string {
  const { parameters } = headerParameters(contentType ?? '');
  const boundary = parameters.boundary;
  if (!boundary || boundary.length > MAX_BOUNDARY_LENGTH) {
    throw new FacekitError('UNSUPPORTED_MEDIA_TYPE', 'multipart/form-data body cannot be read: the Content-Type has no valid boundary');
  }
  return boundary;
}

/** Index just past the line end at `index` (CRLF or LF), or -1 when there is none. */
function skipLineEnd(body: Buffer, index: number): number {
  if (body[index] === 0x0d && body[index + 1] === 0x0a) return index + 2;
  if (body[index] === 0x0a) return index + 1;
  return -1;
}

function parsePartHeaders(block: string): { name?: string; filename?: string; contentType?: string } {
  const result: { name?: string; filename?: string; contentType?: string } = {};
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const headerName = line.slice(0, colon).trim().toLowerCase();
    const headerValue = line.slice(colon + 1).trim();
    if (headerName === 'content-disposition') {
      const { parameters } = headerParameters(headerValue);
      if (parameters.name !== undefined) result.name = parameters.name;
      const extended = parameters['filename*'] !== undefined ? decodeExtValue(parameters['filename*']) : undefined;
      const filename = extended ?? parameters.filename;
      if (filename !== undefined) result.filename = filename;
    } else if (headerName === 'content-type') {
      result.contentType = headerValue;
    }
  }
  return result;
}

/** Every named part of the body, in order. Throws FacekitError on a malformed body or a cap. */
export function parseMultipartBody(body: Buffer, contentType: string | undefined, limits: MultipartLimits): MultipartPart[] {
  const boundary = multipartBoundary(contentType);
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: MultipartPart[] = [];
  let files = 0;
  let fields = 0;
  let totalFileBytes = 0;

  // The first delimiter starts the body or a line (anything before it is preamble).
  let start = body.indexOf(delimiter);
  while (start > 0 && body[start - 1] !== 0x0a) start = body.indexOf(delimiter, start + 1);
  if (start < 0) throw malformed('no boundary delimiter');

  for (;;) {
    let cursor = start + delimiter.length;
    if (body[cursor] === 0x2d && body[cursor + 1] === 0x2d) return parts; // close delimiter
    while (body[cursor] === 0x20 || body[cursor] === 0x09) cursor += 1; // transport padding
    cursor = skipLineEnd(body, cursor);
    if (cursor < 0) throw malformed('a boundary is not followed by a line end');

    // Headers end at the first empty line (CRLFCRLF or LFLF; mixed line ends accepted).
    const headerEnd = /\r?\n\r?\n/.exec(body.subarray(cursor, cursor + MAX_PART_HEADER_BYTES + 4).toString('latin1'));
    let headerBlock: string;
    let contentStart: number;
    if (body[cursor] === 0x0a || (body[cursor] === 0x0d && body[cursor + 1] === 0x0a)) {
      headerBlock = ''; // a part without headers
      contentStart = skipLineEnd(body, cursor);
    } else if (headerEnd) {
      headerBlock = body.subarray(cursor, cursor + headerEnd.index).toString('utf8');
      contentStart = cursor + headerEnd.index + headerEnd[0].length;
    } else {
      throw malformed('a part has no end of headers');
    }

    // The content ends at the line end before the next delimiter.
    let next = body.indexOf(delimiter, contentStart);
    while (next >= 0 && body[next - 1] !== 0x0a) next = body.indexOf(delimiter, next + 1);
    if (next < 0) throw malformed('Unexpected end of form (no closing boundary)');
    const contentEnd = body[next - 2] === 0x0d && next - 2 >= contentStart ? next - 2 : next - 1;
    const bytes = body.subarray(contentStart, Math.max(contentStart, contentEnd));

    const headers = parsePartHeaders(headerBlock);
    if (headers.name !== undefined) {
      const name = headers.name;
      const tooLarge = (what: string): FacekitError => new FacekitError('IMAGE_TOO_LARGE', `${name}: ${what}`, { field: name });
      if (headers.filename !== undefined) {
        files += 1;
        if (files > limits.maxFiles) throw malformed(`more than ${limits.maxFiles} files`);
        if (bytes.length > limits.maxFileBytes) throw tooLarge(`the file is larger than the ${limits.maxFileBytes}-byte limit`);
        totalFileBytes += bytes.length;
        if (totalFileBytes > limits.maxTotalFileBytes) throw tooLarge(`the uploaded files exceed the ${limits.maxTotalFileBytes}-byte limit`);
      } else {
        fields += 1;
        if (fields > limits.maxFields) throw malformed(`more than ${limits.maxFields} fields`);
        if (bytes.length > limits.maxFieldChars) throw tooLarge(`the field is larger than the ${limits.maxFieldChars}-character limit`);
      }
      parts.push({
        name,
        bytes,
        ...(headers.filename !== undefined ? { filename: headers.filename } : {}),
        ...(headers.contentType !== undefined ? { contentType: headers.contentType } : {}),
      });
    }
    start = next;
  }
}
