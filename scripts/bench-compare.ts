/**
 * `npm run bench -- --compare`: detection configurations side by side, in one run, on the same dev
 * photos (every image of ../shared/eval/dev/detection: WIDER, face-mask, dlib). Each configuration
 * runs in a fresh child process (so its peak RSS is its own) over every image once after a warm-up,
 * decode included, at the AP threshold (0.02) for all of them. Printed per configuration: WIDER dev
 * AP (IoU 0.5), images/s, p50/p95 ms per image and peak RSS.
 *
 * Configurations:
 *   - facekit default (the planner, default smallest face), with 2 and 1 intra-op threads;
 *   - facekit under each dialect's planning: Face++ (48 px or 1/48 of the short side), largest face
 *     only (Youtu mode=1, Tencent CI max-face-num=1, native max_faces=1);
 *   - the seed's pipeline rebuilt inside the bench: SCRFD-2.5g, one square letterbox pass at 736²
 *     (InsightFace 0.7.3 `SCRFD.detect`: keep-aspect resize into the top-left corner, zero pad,
 *     (x−127.5)/128, score ≥ threshold, NMS 0.4), and the same plain pipeline at 1280² and 640².
 * Then the close-up portrait case: a Face++ detection request (multipart, return_landmark=0) to the
 * local server over HTTP, against the plain 640² pipeline on the same photo in-process.
 *
 * Options: --limit N (first N images), --portrait-iterations N (default 30), --json.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig, type DetectorConfig } from '../lambda/config.js';
import { decodeImage } from '../lambda/image/decode.js';
import type { RgbImage } from '../lambda/image/types.js';
import { FacePipeline } from '../lambda/vision/pipeline.js';
import { letterbox, nms, runScrfd } from '../lambda/vision/scrfd.js';
import { getSession } from '../lambda/vision/session.js';
import type { DetectOptions } from '../lambda/vision/types.js';
import { GLIBC_MALLOC_TUNING, startServerBundle } from './soak.js';
import { AP_MIN_CONFIDENCE, averagePrecision, EVAL_ROOT, loadEvalSet, PROJECT_ROOT, toBox, type GroundTruth, type ScoredBox } from './evaluation.js';

const PORTRAIT = 'landmarks68/helen/3181052163_1.jpg';

/**
 * AWS Lambda prices (us-east-1, per GB-second of configured memory, and per request) and CPU share
 * (1 vCPU per 1769 MB): https://aws.amazon.com/lambda/pricing/ and the Lambda developer guide
 * ("Configuring memory"). The seed's cost page quotes $142.95 per 1 M images (1 s at 8 GB).
 */
const LAMBDA_PRICE_PER_GB_SECOND = { x86_64: 0.0000166667, arm64: 0.0000133334 } as const;
const LAMBDA_PRICE_PER_REQUEST = 0.2 / 1e6;
const LAMBDA_MB_PER_VCPU = 1769;
const LAMBDA_MEMORY_SIZES_MB = [2048, 4096, 8192, 10240];

/**
 * Cost of 1 M images from measured mean seconds per image with 1 and 2 intra-op threads. With under
 * two vCPUs a function gets the 1-thread time; with more, the 2-thread time (no further speed-up is
 * assumed: this machine cannot measure beyond 2 cores). arm64 is priced at the x86 duration, which
 * this machine cannot measure either.
 */
export function costPerMillion(secondsOneThread: number, secondsTwoThreads: number): { memoryMb: number; seconds: number; x86_64: number; arm64: number }[] {
  return LAMBDA_MEMORY_SIZES_MB.map((memoryMb) => {
    const seconds = memoryMb / LAMBDA_MB_PER_VCPU >= 2 ? secondsTwoThreads : secondsOneThread;
    const price = (perGbSecond: number): number => Math.round((1e6 * ((memoryMb / 1024) * seconds * perGbSecond + LAMBDA_PRICE_PER_REQUEST)) * 100) / 100;
    return { memoryMb, seconds, x86_64: price(LAMBDA_PRICE_PER_GB_SECOND.x86_64), arm64: price(LAMBDA_PRICE_PER_GB_SECOND.arm64) };
  });
}

interface Configuration {
  readonly name: string;
  readonly threads?: number;
  /** facekit's pipeline with these request options... */
  readonly facekit?: Pick<DetectOptions, 'minFaceSize' | 'minFaceShortSideFraction' | 'maxFaces'>;
  /** ...and these detector settings instead of the defaults (settings compared in the same run). */
  readonly detector?: Partial<DetectorConfig>;
  /** ...or the plain single-pass pipeline at this square size. */
  readonly plainSide?: number;
}

export const CONFIGURATIONS: readonly Configuration[] = [
  { name: 'facekit default', facekit: {} },
  { name: 'facekit default, 1 thread', facekit: {}, threads: 1 },
  { name: 'facekit, enlargement 1.5× (the previous default)', facekit: {}, detector: { maxUpscale: 1.5 } },
  { name: 'facekit, libvips linear resize', facekit: {}, detector: { resampling: 'linear' } },
  { name: 'facekit, Face++ planning (≥ 48 px, ≥ 1/48 short side)', facekit: { minFaceSize: 48, minFaceShortSideFraction: 1 / 48 } },
  { name: 'facekit, largest face only (Youtu mode=1, CI max-face-num=1)', facekit: { maxFaces: 1 } },
  { name: 'seed pipeline: SCRFD-2.5g, one 736² pass', plainSide: 736 },
  { name: 'plain SCRFD-2.5g, one 1280² pass', plainSide: 1280 },
  { name: 'plain SCRFD-2.5g, one 640² pass', plainSide: 640 },
];

interface ConfigurationReport {
  readonly name: string;
  readonly images: number;
  readonly widerAp: number;
  readonly imagesPerSecond: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly peakRssMb: number;
}

const percentile = (sorted: readonly number[], fraction: number): number => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
const round1 = (value: number): number => Math.round(value * 10) / 10;

type Detector = (image: RgbImage) => Promise<ScoredBox[]>;

/** The plain InsightFace-style detector: one square letterbox pass, no planner. */
export async function plainDetector(side: number, threads: number): Promise<Detector> {
  const config = loadConfig();
  const session = await getSession(config.detector.modelFile, { modelDir: config.modelDir, intraOpThreads: threads, memoryArena: config.detector.memoryArena, memoryPattern: config.memoryPattern });
  return async (image) => {
    const box = letterbox({ x: 0, y: 0, width: image.width, height: image.height }, { width: side, height: side });
    const candidates = await runScrfd(session, image, box, AP_MIN_CONFIDENCE, config.detector.preNmsTopK);
    return nms(candidates, config.detector.nmsIouThreshold).map((c) => ({ x: c.x1, y: c.y1, width: c.x2 - c.x1, height: c.y2 - c.y1, score: c.score }));
  };
}

async function facekitDetector(options: NonNullable<Configuration['facekit']>, detector: Configuration['detector'], threads: number): Promise<Detector> {
  const defaults = loadConfig();
  const config = { ...defaults, intraOpThreads: threads, detector: { ...defaults.detector, ...detector } };
  const pipeline = await FacePipeline.create(config);
  return async (image) => (await pipeline.detect(image, { ...options, minConfidence: AP_MIN_CONFIDENCE }))
    .map((face) => ({ ...face.box, score: face.score }));
}

/** Child side: one configuration over every detection image; prints its report as JSON. */
async function runConfiguration(configuration: Configuration, limit: number | undefined): Promise<ConfigurationReport> {
  const threads = configuration.threads ?? loadConfig().intraOpThreads;
  const detector = configuration.plainSide ? await plainDetector(configuration.plainSide, threads) : await facekitDetector(configuration.facekit!, configuration.detector, threads);
  const config = loadConfig();
  const images = (await loadEvalSet('detection')).slice(0, limit);
  const encoded = images.map((image) => readFileSync(join(EVAL_ROOT, image.file)));
  await detector(await decodeImage(encoded[0]!, config.image)); // warm-up
  const times: number[] = [];
  const detections: ScoredBox[][] = [];
  const truths: GroundTruth[][] = [];
  const started = performance.now();
  for (const [index, image] of images.entries()) {
    const imageStarted = performance.now();
    const found = await detector(await decodeImage(encoded[index]!, config.image));
    times.push(performance.now() - imageStarted);
    if (image.source === 'wider_val') {
      detections.push(found);
      truths.push((image.faces ?? []).filter((face) => face.box).map((face) => ({ ...toBox(face.box!), ignore: Boolean(face.ignore) })));
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const sorted = [...times].sort((a, b) => a - b);
  return {
    name: configuration.name,
    images: images.length,
    widerAp: Math.round(averagePrecision(detections, truths).ap * 1000) / 1000,
    imagesPerSecond: round1(images.length / seconds),
    p50Ms: round1(percentile(sorted, 0.5)),
    p95Ms: round1(percentile(sorted, 0.95)),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

function runChild(args: string[]): Promise<string> {
  // Every configuration runs with the malloc settings `npm start` and the Lambda image use.
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...GLIBC_MALLOC_TUNING }, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve(output.trim().split('\n').pop()!) : reject(new Error(`bench child ${args.join(' ')} exited with ${code}`)))));
}

/** A multipart Face++ detection request body (return_landmark=0) with the photo as image_file. */
function faceppMultipart(photo: Buffer): { body: Buffer; contentType: string } {
  const boundary = 'facekitbench';
  const part = (headers: string, content: Buffer | string): Buffer[] => [Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`), Buffer.from(content), Buffer.from('\r\n')];
  const body = Buffer.concat([
    ...part('Content-Disposition: form-data; name="api_key"', 'bench'),
    ...part('Content-Disposition: form-data; name="api_secret"', 'bench'),
    ...part('Content-Disposition: form-data; name="return_landmark"', '0'),
    ...part('Content-Disposition: form-data; name="image_file"; filename="portrait.jpg"\r\nContent-Type: image/jpeg', photo),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Child side: the close-up portrait, Face++ over HTTP vs the plain 640² pipeline in-process. */
async function runPortrait(iterations: number): Promise<{ faceppHttpP50Ms: number; plain640P50Ms: number; faceppFaces: number }> {
  const photo = readFileSync(join(EVAL_ROOT, PORTRAIT));
  const config = loadConfig();
  const plain = await plainDetector(640, config.intraOpThreads);
  const { child: server, url } = await startServerBundle(GLIBC_MALLOC_TUNING);
  try {
    const { body, contentType } = faceppMultipart(photo);
    const facepp = async (): Promise<number> => {
      const response = await fetch(`${url}/facepp/v3/detect`, { method: 'POST', headers: { 'content-type': contentType }, body });
      const json = (await response.json()) as { faces?: unknown[] };
      if (response.status !== 200) throw new Error(`Face++ answered ${response.status}: ${JSON.stringify(json)}`);
      return json.faces?.length ?? 0;
    };
    const faceppFaces = await facepp();
    await plain(await decodeImage(photo, config.image));
    const faceppTimes: number[] = [], plainTimes: number[] = [];
    // Interleaved, so both see the same machine load.
    for (let i = 0; i < iterations; i++) {
      let started = performance.now();
      await facepp();
      faceppTimes.push(performance.now() - started);
      started = performance.now();
      await plain(await decodeImage(photo, config.image));
      plainTimes.push(performance.now() - started);
    }
    const median = (values: number[]): number => round1(percentile([...values].sort((a, b) => a - b), 0.5));
    return { faceppHttpP50Ms: median(faceppTimes), plain640P50Ms: median(plainTimes), faceppFaces };
  } finally {
    server.kill('SIGTERM');
  }
}

export async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      compare: { type: 'boolean', default: false },
      iterations: { type: 'string' },
      threads: { type: 'string' },
      child: { type: 'string' },
      portrait: { type: 'boolean', default: false },
      limit: { type: 'string' },
      'portrait-iterations': { type: 'string', default: '30' },
      json: { type: 'boolean', default: false },
    },
  });
  const limit = values.limit ? Number(values.limit) : undefined;
  if (values.child !== undefined) {
    console.log(JSON.stringify(await runConfiguration(CONFIGURATIONS[Number(values.child)]!, limit)));
    return;
  }
  if (values.portrait) {
    console.log(JSON.stringify(await runPortrait(Number(values['portrait-iterations']))));
    return;
  }
  const reports: ConfigurationReport[] = [];
  for (const [index] of CONFIGURATIONS.entries()) {
    reports.push(JSON.parse(await runChild(['--child', String(index), ...(limit ? ['--limit', String(limit)] : [])])) as ConfigurationReport);
  }
  const portrait = JSON.parse(await runChild(['--portrait', '--portrait-iterations', values['portrait-iterations']!])) as Awaited<ReturnType<typeof runPortrait>>;
  if (values.json) { console.log(JSON.stringify({ reports, portrait }, null, 2)); return; }
  console.log(`facekit bench --compare ${new Date().toISOString()}`);
  console.log(`${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${reports[0]!.images} dev detection photos, threshold ${AP_MIN_CONFIDENCE}, decode included\n`);
  console.log('| configuration | WIDER dev AP | images/s | p50 ms | p95 ms | peak RSS MB |\n|---|---|---|---|---|---|');
  for (const report of reports) console.log(`| ${report.name} | ${report.widerAp.toFixed(3)} | ${report.imagesPerSecond} | ${report.p50Ms} | ${report.p95Ms} | ${report.peakRssMb} |`);
  const plain1280 = reports.find((report) => report.name.includes('1280'))!;
  console.log(`\nfacekit default vs plain 1280²: ${(reports[0]!.imagesPerSecond / plain1280.imagesPerSecond).toFixed(2)}× the images/s, AP ${reports[0]!.widerAp.toFixed(3)} vs ${plain1280.widerAp.toFixed(3)}`);
  const one = reports.find((report) => report.name === 'facekit default, 1 thread')!;
  console.log('\ncost per 1 M images (detection, this image mix; Lambda us-east-1 prices; arm64 at the x86 duration):');
  console.log('| Lambda memory | s / image | x86_64 $ | arm64 $ |\n|---|---|---|---|');
  for (const row of costPerMillion(1 / one.imagesPerSecond, 1 / reports[0]!.imagesPerSecond)) {
    console.log(`| ${row.memoryMb / 1024} GB | ${row.seconds.toFixed(3)} | ${row.x86_64.toFixed(2)} | ${row.arm64.toFixed(2)} |`);
  }
  console.log(`close-up portrait (${PORTRAIT}): Face++ multipart request over HTTP p50 ${portrait.faceppHttpP50Ms} ms (${portrait.faceppFaces} face) vs plain 640² in-process p50 ${portrait.plain640P50Ms} ms`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
