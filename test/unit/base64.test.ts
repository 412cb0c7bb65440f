/** Strict base64 decoding: alphabets, padding, whitespace, data URLs, and the size check before decoding. */
import { decodeBase64Strict, decodedByteLength, maxEncodedLength } from '../../lambda/image/base64.js';
import { FacekitError } from '../../lambda/errors.js';

const FIELD = 'img';
const MAX_BYTES = 1024;
/** Bytes whose standard encoding contains both '+' and '/' (so the URL-safe one has '-' and '_'). */
const SAMPLE = Buffer.from([0xfb, 0xff, 0xbf, 0x00, 0x01, 0x02, 0x03, 0xfe, 0xef]);
const STANDARD = SAMPLE.toString('base64');
const URL_SAFE = SAMPLE.toString('base64url');

function decode(text: string, maxBytes = MAX_BYTES): Buffer {
  return decodeBase64Strict(text, maxBytes, FIELD);
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(FacekitError);
    expect((error as FacekitError).message.startsWith(`${FIELD}: `)).toBe(true);
    return (error as FacekitError).code;
  }
}

describe('decodeBase64Strict accepts', () => {
  it('the sample uses both alphabet-specific characters', () => {
    expect(STANDARD).toMatch(/\+/);
    expect(STANDARD).toMatch(/\//);
    expect(URL_SAFE).toMatch(/-/);
    expect(URL_SAFE).toMatch(/_/);
  });

  it.each([
    ['standard', STANDARD],
    ['url-safe', URL_SAFE],
    ['standard with whitespace and CRLF line breaks', `${STANDARD.slice(0, 4)}\r\n${STANDARD.slice(4, 8)} \t${STANDARD.slice(8)}\n`],
    ['a data URL', `data:image/jpeg;base64,${STANDARD}`],
    ['a data URL with a parameter, upper-case', `DATA:image/png;charset=utf-8;BASE64,${STANDARD}`],
    ['a data URL without media type', `data:;base64,${URL_SAFE}`],
  ])('%s', (_name, text) => {
    expect(decode(text).equals(SAMPLE)).toBe(true);
  });

  it.each([1, 2, 3, 4, 5, 6])('padded and unpadded encodings of %i bytes', (length) => {
    const bytes = SAMPLE.subarray(0, length);
    const padded = bytes.toString('base64');
    expect(decode(padded).equals(bytes)).toBe(true);
    expect(decode(padded.replace(/=+$/, '')).equals(bytes)).toBe(true);
  });

  it('exactly maxBytes', () => {
    const bytes = Buffer.alloc(MAX_BYTES, 7);
    expect(decode(bytes.toString('base64')).length).toBe(MAX_BYTES);
  });

  it('a real-size payload with MIME line breaks every 76 characters', () => {
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31) % 256));
    const wrapped = bytes.toString('base64').replace(/.{76}/g, '$&\r\n');
    expect(decode(wrapped, 4096).equals(bytes)).toBe(true);
  });
});

describe('decodeBase64Strict refuses', () => {
  it.each([
    ['a character outside both alphabets', `${STANDARD.slice(0, 4)}*${STANDARD.slice(4)}`],
    ['non-ASCII', `${STANDARD}é`],
    ['a NUL byte', `${STANDARD.slice(0, 4)}\u0000${STANDARD.slice(4)}`],
    ['mixed alphabets', `${STANDARD}${URL_SAFE}`],
    ['data after padding', 'QQ==QUFB'],
    ['padding in the middle', 'QQ=A'],
    ['too much padding', 'QUE==='],
    ['padding where none is due', 'QUFB===='],
    ['a single dangling character', 'QUFBQ'],
    ['a single character', 'Q'],
    ['a non-image data URL with extra text', 'data:text/html,<b>hi</b>'],
    ['a data URL that is not base64', 'data:image/png,rawdata'],
    ['JSON instead of base64', '{"image":"abc"}'],
  ])('%s → INVALID_BASE64', (_name, text) => {
    expect(codeOf(() => decode(text))).toBe('INVALID_BASE64');
  });

  it.each([
    ['empty text', ''],
    ['whitespace only', ' \r\n\t'],
    ['an empty data URL', 'data:image/png;base64,'],
  ])('%s → EMPTY_IMAGE', (_name, text) => {
    expect(codeOf(() => decode(text))).toBe('EMPTY_IMAGE');
  });

  it('one byte over maxBytes → IMAGE_TOO_LARGE, with the limit in the message', () => {
    const text = Buffer.alloc(MAX_BYTES + 1).toString('base64');
    expect(codeOf(() => decode(text))).toBe('IMAGE_TOO_LARGE');
    expect(() => decode(text)).toThrow(String(MAX_BYTES));
  });

  it('a huge text is refused from its length alone, before it is scanned or decoded', () => {
    // Garbage after the first character: had the text been scanned, this would be INVALID_BASE64.
    const huge = `A${'*'.repeat(maxEncodedLength(MAX_BYTES) * 3)}`;
    expect(codeOf(() => decode(huge))).toBe('IMAGE_TOO_LARGE');
  });
});

describe('size arithmetic', () => {
  it.each([0, 1, 2, 3, 4, 100, 1023, 1024, 1025])('decodedByteLength matches Node for %i bytes', (length) => {
    const encoded = Buffer.alloc(length, 1).toString('base64').replace(/=+$/, '');
    expect(decodedByteLength(encoded.length)).toBe(length);
    expect(maxEncodedLength(length)).toBeGreaterThanOrEqual(Buffer.alloc(length).toString('base64').length);
  });
});
