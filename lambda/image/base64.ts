/**
 * Strict base64 → bytes. Accepts the standard and the URL-safe alphabet (not mixed), optional
 * padding, ASCII whitespace anywhere (MIME line breaks), and an optional
 * `data:image/<type>[;param=value];base64,` prefix. Anything else is INVALID_BASE64 rather than
 * silently skipped (Node's decoder ignores garbage). The decoded size is computed from the text
 * and checked against maxBytes before anything is decoded or allocated.
 */
import { FacekitError } from '../errors.js';

/** `data:` URL header: optional image media type, optional parameters, mandatory `;base64,`. */
const DATA_URL_PREFIX = /^data:(?:image\/[a-z0-9.+-]+)?(?:;[a-z0-9.+-]+=[^;,]*)*;base64,/i;
const BITS_PER_CHAR = 6;
const BITS_PER_BYTE = 8;
const CHARS_PER_QUANTUM = 4;
const MAX_PADDING_CHARS = 2;
/**
 * Text longer than this many times the longest valid encoding is refused without scanning it:
 * generous for MIME line breaks (76 + 2 per line) or pretty-printing, not for megabytes of filler.
 */
const MAX_WHITESPACE_OVERHEAD_FACTOR = 2;

/** Longest base64 text (padded, no whitespace) whose decoded size is ≤ maxBytes. */
export function maxEncodedLength(maxBytes: number): number {
  return Math.ceil(maxBytes / 3) * CHARS_PER_QUANTUM;
}

enum CharClass {
  Shared, // A–Z a–z 0–9
  Standard, // + /
  UrlSafe, // - _
  Padding, // =
  Whitespace,
  Invalid,
}

function classify(code: number): CharClass {
  if ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39)) {
    return CharClass.Shared;
  }
  switch (code) {
    case 0x2b: // +
    case 0x2f: // /
      return CharClass.Standard;
    case 0x2d: // -
    case 0x5f: // _
      return CharClass.UrlSafe;
    case 0x3d: // =
      return CharClass.Padding;
    case 0x20: // space
    case 0x09: // tab
    case 0x0a: // \n
    case 0x0d: // \r
      return CharClass.Whitespace;
    default:
      return CharClass.Invalid;
  }
}

/** Removes an optional `data:image/...;base64,` header; other `data:` URLs are refused. */
export function stripDataUrlPrefix(text: string, field: string): string {
  const trimmed = text.trimStart();
  if (!/^data:/i.test(trimmed)) return text;
  const match = DATA_URL_PREFIX.exec(trimmed);
  if (!match) {
    throw new FacekitError(
      'INVALID_BASE64',
      `${field}: unsupported data URL; expected data:image/<type>;base64,<data>`,
      { field },
    );
  }
  return trimmed.slice(match[0].length);
}

/** Number of bytes `dataChars` base64 characters (padding excluded) decode to. */
export function decodedByteLength(dataChars: number): number {
  return Math.floor((dataChars * BITS_PER_CHAR) / BITS_PER_BYTE);
}

/**
 * Validates `text` (without data URL prefix) in one pass without allocating.
 * Returns the number of data characters (padding and whitespace excluded).
 */
function validateBase64(text: string, field: string): number {
  let dataChars = 0;
  let paddingChars = 0;
  let sawStandard = false;
  let sawUrlSafe = false;
  for (let i = 0; i < text.length; i++) {
    const kind = classify(text.charCodeAt(i));
    if (kind === CharClass.Whitespace) continue;
    if (kind === CharClass.Invalid) {
      throw new FacekitError('INVALID_BASE64', `${field}: invalid base64 character at position ${i}`, { field });
    }
    if (kind === CharClass.Padding) {
      paddingChars++;
      continue;
    }
    if (paddingChars > 0) {
      throw new FacekitError('INVALID_BASE64', `${field}: base64 data continues after '=' padding`, { field });
    }
    if (kind === CharClass.Standard) sawStandard = true;
    if (kind === CharClass.UrlSafe) sawUrlSafe = true;
    dataChars++;
  }
  if (sawStandard && sawUrlSafe) {
    throw new FacekitError(
      'INVALID_BASE64',
      `${field}: base64 mixes the standard (+/) and URL-safe (-_) alphabets`,
      { field },
    );
  }
  const remainder = dataChars % CHARS_PER_QUANTUM;
  if (remainder === 1) {
    throw new FacekitError(
      'INVALID_BASE64',
      `${field}: base64 length is invalid (a character is missing or extra)`,
      { field },
    );
  }
  if (paddingChars > 0) {
    const expectedPadding = remainder === 0 ? 0 : CHARS_PER_QUANTUM - remainder;
    if (paddingChars !== expectedPadding || paddingChars > MAX_PADDING_CHARS) {
      throw new FacekitError('INVALID_BASE64', `${field}: base64 has incorrect '=' padding`, { field });
    }
  }
  return dataChars;
}

/**
 * Decodes base64 text strictly. EMPTY_IMAGE for empty input, INVALID_BASE64 for malformed input,
 * IMAGE_TOO_LARGE when the decoded size would exceed `maxBytes` (checked before decoding).
 */
export function decodeBase64Strict(text: string, maxBytes: number, field: string): Buffer {
  const payload = stripDataUrlPrefix(text, field);
  if (payload.length > maxEncodedLength(maxBytes) * MAX_WHITESPACE_OVERHEAD_FACTOR) {
    throw new FacekitError(
      'IMAGE_TOO_LARGE',
      `${field}: the base64 text is ${payload.length} characters, far over the ${maxBytes}-byte image limit`,
      { field },
    );
  }
  const dataChars = validateBase64(payload, field);
  if (dataChars === 0) throw new FacekitError('EMPTY_IMAGE', `${field}: the base64 image is empty`, { field });
  const expectedBytes = decodedByteLength(dataChars);
  if (expectedBytes > maxBytes) {
    throw new FacekitError(
      'IMAGE_TOO_LARGE',
      `${field}: the image is ${expectedBytes} bytes after base64 decoding, over the limit of ${maxBytes} bytes`,
      { field },
    );
  }
  // Validated above, so Node's lenient decoder (both alphabets, skips whitespace) is exact here.
  const bytes = Buffer.from(payload, 'base64');
  if (bytes.length !== expectedBytes) {
    throw new FacekitError('INVALID_BASE64', `${field}: base64 could not be decoded`, { field });
  }
  return bytes;
}
