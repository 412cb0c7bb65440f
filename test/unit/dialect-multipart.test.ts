/**
 * The multipart/form-data parser on what real clients send (lambda/api/multipart.ts): forms busboy
 * dropped or refused, and the caps.
 */
import { headerParameters, parseMultipartBody, type MultipartLimits } from '../../lambda/api/multipart.js';
import type { FacekitError } from '../../lambda/errors.js';

const LIMITS: MultipartLimits = { maxFileBytes: 100, maxTotalFileBytes: 150, maxFieldChars: 50, maxFiles: 3, maxFields: 4 };
const TYPE = 'multipart/form-data; boundary=XyZ';

function parse(text: string | Buffer, limits: MultipartLimits = LIMITS, contentType = TYPE) {
  return parseMultipartBody(Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1'), contentType, limits);
}

function failure(text: string, limits: MultipartLimits = LIMITS, contentType = TYPE): FacekitError {
  try {
    parse(text, limits, contentType);
  } catch (error) {
    return error as FacekitError;
  }
  throw new Error('parsed');
}

const summary = (parts: ReturnType<typeof parse>) => parts.map((part) => ({ name: part.name, filename: part.filename, value: part.bytes.toString('latin1') }));

describe('multipart/form-data', () => {
  it('reads Youtu\'s documented form: LF line ends and `name="appid";` with a trailing semicolon', () => {
    const body = '--XyZ\nContent-Disposition: form-data; name="appid";\n\n123456\n--XyZ\nContent-Disposition: form-data; name="mode";\n\n1\n'
      + '--XyZ\nContent-Disposition: form-data; name="image"; filename="test.jpg"\nContent-Type: image/jpeg\n\nJPEG\n--XyZ--\n';
    expect(summary(parse(body))).toEqual([
      { name: 'appid', filename: undefined, value: '123456' },
      { name: 'mode', filename: undefined, value: '1' },
      { name: 'image', filename: 'test.jpg', value: 'JPEG' },
    ]);
  });

  it('reads CRLF forms with a preamble and an epilogue, unquoted names, filename*= and escaped quotes', () => {
    const body = 'preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=api_key\r\n\r\nk\r\n'
      + '--XyZ\r\ncontent-disposition: FORM-DATA; Name="img"; filename="a.jpg"; filename*=UTF-8\'\'%E4%BA%BA.jpg\r\n\r\n\x00\xff\r\n\r\n'
      + '--XyZ\r\nContent-Disposition: form-data; name="say \\"hi\\""\r\n\r\n\r\n--XyZ--\r\nepilogue';
    expect(summary(parse(body))).toEqual([
      { name: 'api_key', filename: undefined, value: 'k' },
      // binary content kept exactly, a trailing CRLF inside the content included
      { name: 'img', filename: '人.jpg', value: '\x00\xff\r\n' },
      { name: 'say "hi"', filename: undefined, value: '' },
    ]);
  });

  it('takes a quoted boundary and ignores parts without a name', () => {
    const body = '--a b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--a b\r\nContent-Disposition: form-data; name="n"\r\n\r\nv\r\n--a b--';
    expect(summary(parse(body, LIMITS, 'multipart/form-data; boundary="a b"'))).toEqual([{ name: 'n', filename: undefined, value: 'v' }]);
  });

  it('caps each file, the sum of files, each field and the number of parts', () => {
    const file = (name: string, size: number) => `--XyZ\r\nContent-Disposition: form-data; name="${name}"; filename="f"\r\n\r\n${'x'.repeat(size)}\r\n`;
    expect(failure(`${file('a', 101)}--XyZ--`)).toMatchObject({ code: 'IMAGE_TOO_LARGE', field: 'a' });
    expect(failure(`${file('a', 100)}${file('b', 51)}--XyZ--`)).toMatchObject({ code: 'IMAGE_TOO_LARGE', field: 'b' });
    expect(failure(`--XyZ\r\nContent-Disposition: form-data; name="t"\r\n\r\n${'y'.repeat(51)}\r\n--XyZ--`)).toMatchObject({ code: 'IMAGE_TOO_LARGE', field: 't' });
    expect(failure(`${file('a', 1)}${file('b', 1)}${file('c', 1)}${file('d', 1)}--XyZ--`)).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('refuses a missing boundary, a truncated body and a part without a header end', () => {
    expect(failure('--XyZ--', LIMITS, 'multipart/form-data')).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(failure('--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nunfinished')).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'body' });
    expect(failure('no delimiter at all')).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(failure('--XyZ\r\nContent-Disposition: form-data; name="a"')).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('parses header parameters like RFC 7578 / 6266 say, tolerating empty ones', () => {
    expect(headerParameters('form-data; name="a;b"; ; filename=x.jpg;')).toEqual({ token: 'form-data', parameters: { name: 'a;b', filename: 'x.jpg' } });
  });
});
