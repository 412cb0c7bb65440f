/**
 * `facekit detect <files | folders | s3://bucket/prefix ...>`: the pipeline on many images, no server.
 * stdout carries only the results (one JSON document, or JSON lines with --jsonl); progress, one
 * line per skipped or refused file, and the summary go to stderr. Run `facekit --help` for options.
 */
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { formatNativeBody } from './api/native.js';
import { loadConfig, type FacekitConfig } from './config.js';
import { isFacekitError } from './errors.js';
import { decodeImage } from './image/decode.js';
import { createS3Client, fetchS3Bytes } from './image/s3.js';
import { createStderrLogger } from './observability.js';
import { createRuntime, detect, type Runtime } from './runtime.js';
import { ATTRIBUTE_NAMES, type AttributeName, type DetectOptions, type DetectResult, type FaceAnalysis, type Point } from './vision/types.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.webp', '.gif', '.tif', '.tiff']);
const S3_PREFIX = 's3://';

const USAGE = `usage: facekit detect <image files | folders | s3://bucket/prefix ...> [options]
  --format native|full     native: the native route's response per image (default);
                           full: box, score, 5 and 106 points, gender, age, attributes in display pixels
  --jsonl                  one JSON line per image (default: one JSON document, an array)
  --only PARTS             comma-separated: detect (boxes, scores, 5 points) plus any of
                           landmarks, gender-age, ${ATTRIBUTE_NAMES.join(', ')}
  --min-confidence X       detector score threshold in (0, 1] (e.g. 0.02 for AP measurement)
  --min-face-size PX       skip detection passes that only find faces smaller than PX pixels
  --max-faces N            keep the N largest faces
  --annotate DIR           write each image with boxes, points and labels drawn into DIR
  --concurrency N          images analysed at once, each in its own worker thread (default 1)`;

/** `--only` names besides the attribute names, and the option each one turns on. */
const ONLY_PARTS: Readonly<Record<string, 'detect' | 'landmarks106' | 'genderAge'>> = {
  detect: 'detect',
  landmarks: 'landmarks106',
  landmarks106: 'landmarks106',
  'gender-age': 'genderAge',
  genderAge: 'genderAge',
};

/** What an image is read from. `name` is its path relative to the input it was found under. */
interface ImageSource {
  readonly label: string;
  readonly name: string;
  read(): Promise<Buffer>;
}

interface Expanded {
  readonly sources: ImageSource[];
  /** Files passed over while listing folders or prefixes (not image files). */
  readonly skipped: string[];
}

class UsageError extends Error {}

const isImageName = (name: string): boolean => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());

function fileSource(file: string, name: string): ImageSource {
  return { label: file, name, read: () => readFile(file) };
}

async function expandFolder(folder: string, into: Expanded): Promise<void> {
  const entries = (await readdir(folder, { recursive: true })).sort();
  for (const entry of entries) {
    const file = join(folder, entry);
    if (!(await stat(file)).isFile()) continue;
    if (isImageName(entry)) into.sources.push(fileSource(file, entry));
    else into.skipped.push(file);
  }
}

async function expandS3Prefix(url: string, client: S3Client, config: FacekitConfig, into: Expanded): Promise<void> {
  const rest = url.slice(S3_PREFIX.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const prefix = slash === -1 ? '' : rest.slice(slash + 1);
  // The user named this bucket on the command line: reading it is the request itself.
  const fetchConfig = { ...config.fetch, allowedBuckets: [bucket] };
  for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: prefix })) {
    for (const { Key: key } of page.Contents ?? []) {
      if (!key || key.endsWith('/')) continue;
      const label = `${S3_PREFIX}${bucket}/${key}`;
      if (!isImageName(key)) { into.skipped.push(label); continue; }
      const encoded = `${S3_PREFIX}${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
      into.sources.push({ label, name: key.slice(prefix.lastIndexOf('/') + 1), read: () => fetchS3Bytes(encoded, fetchConfig, config.image.maxBytes, label, { client }) });
    }
  }
}

/**
 * Files named directly (whatever their extension: decoding decides), image files found
 * recursively in folders, and image objects under s3:// prefixes; both listings sorted.
 */
export async function expandInputs(inputs: readonly string[], config: FacekitConfig): Promise<Expanded> {
  const expanded: Expanded = { sources: [], skipped: [] };
  let client: S3Client | undefined;
  try {
    for (const input of inputs) {
      if (input.toLowerCase().startsWith(S3_PREFIX)) {
        client ??= createS3Client({ endpoint: config.fetch.s3Endpoint, connectTimeoutMs: config.fetch.connectTimeoutMs });
        await expandS3Prefix(input, client, config, expanded);
      } else if ((await stat(input)).isDirectory()) {
        await expandFolder(input, expanded);
      } else {
        expanded.sources.push(fileSource(input, basename(input)));
      }
    }
  } catch (error) {
    client?.destroy();
    throw error;
  }
  return expanded;
}

const pair = (point: Point): [number, number] => [point.x, point.y];

export function formatFull(file: string, result: DetectResult): unknown {
  return {
    file,
    width: result.width,
    height: result.height,
    faces: result.faces.map((face) => ({
      box: [face.box.x, face.box.y, face.box.width, face.box.height],
      score: face.score,
      landmarks5: face.landmarks5.map(pair),
      landmarks106: face.landmarks106?.map(pair),
      gender: face.gender?.value,
      age: face.age,
      ageRange: face.ageRange,
      attributes: face.attributes,
    })),
  };
}

/** `--only` → the parts of DetectOptions it controls. Throws UsageError on an unknown name. */
export function parseOnly(text: string): Pick<DetectOptions, 'landmarks106' | 'genderAge' | 'attributes'> {
  let landmarks106 = false;
  let genderAge = false;
  const attributes = new Set<AttributeName>();
  for (const part of text.split(',').map((item) => item.trim()).filter(Boolean)) {
    const option = ONLY_PARTS[part];
    if (option === 'landmarks106') landmarks106 = true;
    else if (option === 'genderAge') genderAge = true;
    else if ((ATTRIBUTE_NAMES as readonly string[]).includes(part)) attributes.add(part as AttributeName);
    else if (option !== 'detect') {
      throw new UsageError(`--only: unknown part "${part}"; known: detect, landmarks, gender-age, ${ATTRIBUTE_NAMES.join(', ')}`);
    }
  }
  return { landmarks106, genderAge, attributes };
}

const LABEL_FONT_FRACTION = 0.025;

/** An SVG as large as the image with each face's box, 5 points (red), 106 points (cyan) and label. */
export function annotationSvg(width: number, height: number, faces: readonly FaceAnalysis[]): string {
  const unit = Math.max(1, Math.round(Math.min(width, height) / 400));
  const fontSize = Math.max(10, Math.round(Math.min(width, height) * LABEL_FONT_FRACTION));
  const dot = (point: Point, radius: number, colour: string): string =>
    `<circle cx="${point.x.toFixed(1)}" cy="${point.y.toFixed(1)}" r="${radius}" fill="${colour}"/>`;
  const shapes = faces.flatMap((face) => {
    const { x, y, width: boxWidth, height: boxHeight } = face.box;
    const label = [face.gender?.value, face.age === undefined ? undefined : String(Math.round(face.age)), face.score.toFixed(2)].filter(Boolean).join(' ');
    return [
      `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${boxWidth.toFixed(1)}" height="${boxHeight.toFixed(1)}" fill="none" stroke="#00e676" stroke-width="${2 * unit}"/>`,
      ...(face.landmarks106 ?? []).map((point) => dot(point, unit, '#00bcd4')),
      ...face.landmarks5.map((point) => dot(point, 2 * unit, '#ff1744')),
      `<text x="${x.toFixed(1)}" y="${Math.max(fontSize, y - unit * 3).toFixed(1)}" font-family="sans-serif" font-size="${fontSize}" fill="#00e676" stroke="#000" stroke-width="${unit * 2}" paint-order="stroke">${label}</text>`,
    ];
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`;
}

/**
 * Draws on the image as the pipeline saw it (decoded by facekit's own decoder, so EXIF rotation
 * and formats sharp cannot read, like BMP, match the coordinates), written as JPEG.
 */
async function writeAnnotated(bytes: Buffer, result: DetectResult, config: FacekitConfig, outFile: string): Promise<void> {
  const image = await decodeImage(bytes, config.image, outFile);
  await mkdir(dirname(outFile), { recursive: true });
  await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .composite([{ input: Buffer.from(annotationSvg(image.width, image.height, result.faces)), top: 0, left: 0 }])
    .jpeg({ quality: 90 })
    .toFile(outFile);
}

const PROGRESS_INTERVAL_MS = 2000;

/** Progress on stderr: one rewritten line on a terminal, plain lines (at most one per interval) otherwise. */
class Progress {
  private readonly started = performance.now();
  private lastLine = 0;
  private shown = false;

  constructor(private readonly total: number, private readonly stream: NodeJS.WriteStream = process.stderr) {}

  elapsedSeconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** A line that must stay (skipped or refused file): clears the terminal progress line first. */
  note(line: string): void {
    if (this.stream.isTTY && this.shown) this.stream.write('\r\x1b[K');
    this.stream.write(`${line}\n`);
    this.shown = false;
  }

  update(done: number): void {
    const seconds = this.elapsedSeconds();
    const rate = done / Math.max(seconds, 1e-3);
    const eta = rate > 0 ? Math.round((this.total - done) / rate) : 0;
    const text = `${done}/${this.total} images, ${rate.toFixed(1)} images/s, ETA ${eta} s`;
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[K${text}`);
      this.shown = true;
    } else if (this.lastLine === 0 || performance.now() - this.lastLine >= PROGRESS_INTERVAL_MS || done === this.total) {
      this.stream.write(`facekit: ${text}\n`);
      this.lastLine = performance.now();
    }
  }

  finish(summary: string): void {
    this.note(summary);
  }
}

/** Writes records in input order even when they finish out of order, as JSON lines or one JSON array. */
class OrderedOutput {
  private readonly waiting = new Map<number, unknown>();
  private next = 0;

  constructor(private readonly jsonl: boolean, private readonly stream: NodeJS.WritableStream = process.stdout) {
    if (!jsonl) stream.write('[');
  }

  put(index: number, record: unknown): void {
    this.waiting.set(index, record);
    while (this.waiting.has(this.next)) {
      const text = JSON.stringify(this.waiting.get(this.next));
      this.waiting.delete(this.next);
      this.stream.write(this.jsonl ? `${text}\n` : `${this.next === 0 ? '' : ','}\n${text}`);
      this.next++;
    }
  }

  end(): void {
    if (!this.jsonl) this.stream.write('\n]\n');
  }
}

interface CliOptions {
  readonly format: 'native' | 'full';
  readonly jsonl: boolean;
  readonly detect: Omit<DetectOptions, 'attributes'> & { readonly attributes: ReadonlySet<AttributeName> };
  readonly annotateDir?: string;
  readonly concurrency: number;
  readonly inputs: readonly string[];
}

function numberOption(raw: string | undefined, name: string, check: (value: number) => boolean, rule: string): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || !check(value)) throw new UsageError(`${name} must be ${rule}, got "${raw}"`);
  return value;
}

export function parseCliArgs(argv: readonly string[]): CliOptions | 'help' {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      format: { type: 'string' },
      jsonl: { type: 'boolean', default: false },
      only: { type: 'string' },
      'min-confidence': { type: 'string' },
      'min-face-size': { type: 'string' },
      'max-faces': { type: 'string' },
      annotate: { type: 'string' },
      concurrency: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const [command, ...inputs] = positionals;
  if (command !== 'detect') throw new UsageError(command === undefined ? 'no command given' : `unknown command "${command}"`);
  if (inputs.length === 0) throw new UsageError('name at least one image file, folder or s3://bucket/prefix');
  const only = values.only === undefined ? undefined : parseOnly(values.only);
  // The native response always has 106 points, gender and age: --only without them implies --format full.
  const nativeFits = !only || (only.landmarks106 && only.genderAge);
  const format = values.format ?? (nativeFits ? 'native' : 'full');
  if (format !== 'native' && format !== 'full') throw new UsageError(`--format must be native or full, got "${format}"`);
  if (format === 'native' && !nativeFits) {
    throw new UsageError('--format native needs landmarks and gender-age; use --format full with --only');
  }
  const minConfidence = numberOption(values['min-confidence'], '--min-confidence', (value) => value > 0 && value <= 1, 'a number in (0, 1]');
  const minFaceSize = numberOption(values['min-face-size'], '--min-face-size', (value) => value > 0, 'a number of pixels > 0');
  const maxFaces = numberOption(values['max-faces'], '--max-faces', (value) => Number.isInteger(value) && value >= 1, 'an integer ≥ 1');
  const concurrency = numberOption(values.concurrency, '--concurrency', (value) => Number.isInteger(value) && value >= 1 && value <= availableParallelism() * 4, `an integer from 1 to ${availableParallelism() * 4}`) ?? 1;
  return {
    format,
    jsonl: values.jsonl,
    detect: {
      landmarks106: only?.landmarks106 ?? true,
      genderAge: only?.genderAge ?? true,
      attributes: only?.attributes ?? new Set(),
      ...(minConfidence !== undefined ? { minConfidence } : {}),
      ...(minFaceSize !== undefined ? { minFaceSize } : {}),
      ...(maxFaces !== undefined ? { maxFaces } : {}),
    },
    ...(values.annotate !== undefined ? { annotateDir: values.annotate } : {}),
    concurrency,
    inputs,
  };
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

/** Worker threads need the bundled worker beside the bundled CLI; from sources (tsx) the models run in-process. */
function workerFile(): URL | undefined {
  const file = new URL('./inference-worker.mjs', import.meta.url);
  return existsSync(file) ? file : undefined;
}

async function createCliRuntime(config: FacekitConfig, concurrency: number): Promise<Runtime> {
  const file = concurrency > 1 ? workerFile() : undefined;
  const cliConfig: FacekitConfig = {
    ...config,
    // Every listed image is queued at once; the runners below bound what is in flight.
    concurrency: { inferenceWorkers: file ? concurrency : 0, maxConcurrentAnalyses: concurrency, maxQueuedAnalyses: concurrency },
  };
  return createRuntime(cliConfig, file ? { workers: { file, count: concurrency } } : {});
}

export async function main(argv: readonly string[]): Promise<number> {
  let options: CliOptions | 'help';
  try {
    options = parseCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError) && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') !== true) throw error;
    console.error(`facekit: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    console.error(USAGE);
    return 0;
  }
  const config = loadConfig();
  let expanded: Expanded;
  try {
    expanded = await expandInputs(options.inputs, config);
  } catch (error) {
    console.error(`facekit: cannot list the inputs: ${(error as Error).message}`);
    return 2;
  }
  const { sources, skipped } = expanded;
  const progress = new Progress(sources.length);
  for (const file of skipped) progress.note(`facekit: skipped ${file}: not an image file (${[...IMAGE_EXTENSIONS].join(' ')})`);

  const logger = createStderrLogger();
  const runtime = await createCliRuntime(config, options.concurrency);
  const output = new OrderedOutput(options.jsonl);
  let faces = 0;
  let errors = 0;
  let done = 0;
  let nextIndex = 0;

  const analyse = async (source: ImageSource): Promise<unknown> => {
    try {
      const bytes = await source.read();
      const result = await detect(runtime, { image: { kind: 'bytes', bytes, field: source.label }, options: options.detect });
      faces += result.faces.length;
      logger.debug('image', { file: source.label, width: result.width, height: result.height, bytes: bytes.length, faces: result.faces.length, timings: result.timings });
      if (options.annotateDir) {
        const relativeName = source.name.replace(/\.[^./]+$/, '');
        await writeAnnotated(bytes, result, config, join(options.annotateDir, `${relativeName}.jpg`));
      }
      return options.format === 'full'
        ? formatFull(source.label, result)
        : { file: source.label, ...formatNativeBody(result, config.faceModelVersion, [...options.detect.attributes]) };
    } catch (error) {
      errors++;
      const code = isFacekitError(error) ? error.code : (error as { code?: string }).code ?? 'FAILED';
      const message = (error as Error).message;
      // FacekitError messages already start with the field, here the file's name.
      progress.note(`facekit: refused ${message.startsWith(source.label) ? message : `${source.label}: ${message}`} (${code})`);
      return { file: source.label, error: { code, message } };
    }
  };

  const runner = async (): Promise<void> => {
    while (nextIndex < sources.length) {
      const index = nextIndex++;
      output.put(index, await analyse(sources[index]));
      progress.update(++done);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, Math.max(1, sources.length)) }, runner));
  } finally {
    output.end();
    await runtime.analyzer.close();
  }
  const seconds = progress.elapsedSeconds();
  progress.finish(
    `facekit: ${plural(sources.length, 'image')}, ${plural(faces, 'face')}, ${plural(errors, 'error')}, ${skipped.length} skipped` +
      ` in ${seconds.toFixed(1)} s (${(sources.length / Math.max(seconds, 1e-3)).toFixed(1)} images/s)`,
  );
  return errors > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`facekit: ${(error as Error).message}`);
  return 1;
});
