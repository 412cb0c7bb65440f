/**
 * The one typed configuration of the facekit runtime, with documented defaults. Environment
 * variables (set by the CDK construct, or by hand for `npm start`) may override some fields;
 * requests may only narrow the detection settings (see DetectOptions in vision/types.ts).
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODELS } from './vision/models.js';

/** Detector resampling choices: 'exact' (InsightFace's cv2 INTER_LINEAR) or a libvips kernel (https://sharp.pixelplumbing.com/api-resize). */
export const DETECTOR_RESAMPLINGS = ['exact', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'] as const;
export type DetectorResampling = (typeof DETECTOR_RESAMPLINGS)[number];

export interface DetectorConfig {
  /** SCRFD-2.5g with keypoints, dynamic input height/width. */
  readonly modelFile: string;
  /** Minimum face score kept (InsightFace default 0.5). */
  readonly scoreThreshold: number;
  /** IoU above which the lower-scored box is suppressed (InsightFace default 0.4). */
  readonly nmsIouThreshold: number;
  /**
   * Largest detector canvas side, in pixels (the planner, vision/planner.ts, never uses a larger
   * one). Larger finds more small faces at a higher cost (WIDER dev AP: docs/performance.md); 640
   * is the fast option. Env: FACEKIT_DETECTOR_MAX_SIDE. @default 1536
   */
  readonly maxInputSide: number;
  /**
   * Largest enlargement of the image for the finest pass (small faces need pixels, but WIDER dev AP
   * is flat from 1.1× to 1.5× while the cost grows with the square: docs/performance.md's sweep).
   * Env: FACEKIT_DETECTOR_UPSCALE. @default 1.25
   */
  readonly maxUpscale: number;
  /**
   * Smallest face side (image px) found when a request does not say: the planner scales the
   * finest pass so such a face reaches the detector's reliable range. Dialects with a documented
   * minimum (Face++: 48 px) set their own per request. Env: FACEKIT_MIN_FACE_SIZE. @default 10
   */
  readonly minFaceSize: number;
  /** Candidates kept per pass before NMS, highest scores first. @default 750 */
  readonly preNmsTopK: number;
  /**
   * How a pass resizes the image: 'exact' (cv2.resize INTER_LINEAR in JavaScript, as InsightFace)
   * or a libvips kernel (sharp, native). Chosen by measured WIDER dev AP and speed
   * (docs/performance.md). Env: FACEKIT_DETECTOR_RESAMPLING. @default 'exact'
   */
  readonly resampling: DetectorResampling;
  /**
   * onnxruntime's CPU arena for the detector only. Its activations are the largest of any model
   * (tens of MB per layer on a 1280×960 canvas); without an arena, under the malloc settings that
   * keep memory flat, every run maps them afresh and faults each page in: 1.8× slower detector
   * runs (docs/performance.md). The arena keeps its high-water mark, bounded by the largest canvas
   * (the planner's fixed sides). Env: FACEKIT_DETECTOR_ARENA. @default true
   */
  readonly memoryArena: boolean;
}

export interface ImageLimits {
  /** Largest encoded image accepted, in bytes (after base64 decoding / download). @default 10 MiB */
  readonly maxBytes: number;
  /** Longest side in pixels (the AI Solution Kit documents 4096). @default 4096 */
  readonly maxLongSide: number;
  /** Largest width × height decoded; checked from the header before any pixel is decoded. @default 4096² */
  readonly maxPixels: number;
  /** Smallest side accepted, in pixels. @default 8 */
  readonly minSide: number;
}

export interface FetchConfig {
  /** @default 3000 */
  readonly connectTimeoutMs: number;
  /** Whole download, headers to last byte. @default 10000 */
  readonly totalTimeoutMs: number;
  /** @default 3 */
  readonly maxRedirects: number;
  /**
   * Buckets `s3://` URLs may name. Empty refuses every s3 URL; `*` allows any bucket the process
   * credentials can read (local use only). Env: FACEKIT_S3_BUCKETS (comma-separated). @default []
   */
  readonly allowedBuckets: readonly string[];
  /**
   * An S3-compatible endpoint (path-style addressing) instead of AWS S3, e.g. a local test server.
   * Env: FACEKIT_S3_ENDPOINT. @default undefined (AWS S3 in the process's region)
   */
  readonly s3Endpoint?: string;
  /**
   * Test-only: allow loopback addresses (the local test servers). Never set in production.
   * Env: FACEKIT_TEST_ALLOW_LOOPBACK (1/true/yes/on). @default false
   */
  readonly allowLoopbackForTests: boolean;
}

export interface ConcurrencyConfig {
  /**
   * Worker threads running the models for the local server (0 = on the event-loop thread).
   * onnxruntime-node runs inference on the calling thread, so workers keep the server answering
   * while analyses run. The Lambda handler and the CLI always run in-process (one request at a time).
   * Env: FACEKIT_INFERENCE_WORKERS. @default maxConcurrentAnalyses
   */
  readonly inferenceWorkers: number;
  /** Analyses (decode + models) running at once per process. Env: FACEKIT_MAX_CONCURRENT. @default 2 */
  readonly maxConcurrentAnalyses: number;
  /** Analyses waiting beyond that before requests are refused with OVERLOADED (503). Env: FACEKIT_MAX_QUEUED. @default 64 */
  readonly maxQueuedAnalyses: number;
}

export const GENDER_MODELS = ['fused', 'genderage'] as const;
export type GenderModel = (typeof GENDER_MODELS)[number];

export interface FacekitConfig {
  /** Folder with the .onnx files. Env: FACEKIT_MODEL_DIR. @default <project>/models */
  readonly modelDir: string;
  /** onnxruntime intra-op threads per session. Env: FACEKIT_THREADS. @default available cores */
  readonly intraOpThreads: number;
  /**
   * onnxruntime's memory pattern (pre-planned buffers per input shape). Off: it keeps a plan, and
   * its buffers, for every shape it has seen, which grew RSS with each new image size
   * (docs/reliability.md, `npm run soak`). Env: FACEKIT_ORT_MEMORY_PATTERN=1. @default false
   */
  readonly memoryPattern: boolean;
  /**
   * onnxruntime's CPU arena for the per-face models (the detector has its own, detector.memoryArena):
   * keeps the largest buffers any run needed, for the life of the process; batches of 16 FaceRes
   * crops make that large. Env: FACEKIT_ORT_ARENA=1. @default false
   */
  readonly memoryArena: boolean;
  readonly detector: DetectorConfig;
  /** 106-point landmark model (PFLD-lite, 2d106 order). */
  readonly landmarkModelFile: string;
  /** Gender/age model on the aligned 112×112 crop (its age is always the reported age). */
  readonly genderAgeModelFile: string;
  /**
   * Which models feed the fitted gender/age heads (vision/age-gender-heads.ts). `fused`: genderage
   * and FaceRes (one more 224² model input per face), more accurate (docs/accuracy.md).
   * `genderage`: InsightFace genderage alone, faster.
   * Env: FACEKIT_GENDER_MODEL. @default 'fused'
   */
  readonly genderModel: GenderModel;
  /** FaceRes model (landmark-aligned 224×224 crop), used when genderModel is `fused`. */
  readonly faceResModelFile: string;
  readonly image: ImageLimits;
  readonly fetch: FetchConfig;
  readonly concurrency: ConcurrencyConfig;
  /** Names the model set and pre/post-processing; change it when either changes. */
  readonly faceModelVersion: string;
  /** Bucket the Tencent CI route (`GET /ci/{key}`) reads objects from. Env: FACEKIT_CI_BUCKET. */
  readonly ciBucket?: string;
  /**
   * Face++ credentials: when both are set, api_key/api_secret must match them; when unset any
   * value is accepted (API Gateway IAM/API-key auth protects the deployment).
   * Env: FACEKIT_FACEPP_API_KEY, FACEKIT_FACEPP_API_SECRET.
   */
  readonly faceppCredentials?: { readonly apiKey: string; readonly apiSecret: string };
}

/**
 * The nearest `models/` folder holding a manifest, searching upwards from this module: the same
 * rule finds <project>/models from the sources (lambda/) and from the bundles (dist/<entry>/).
 */
function defaultModelDir(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(folder, 'models');
    if (existsSync(join(candidate, 'manifest.json'))) return candidate;
    const parent = dirname(folder);
    if (parent === folder) return resolve('models');
    folder = parent;
  }
}

function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got "${raw}"`);
  return value;
}

function envChoice<T extends string>(env: NodeJS.ProcessEnv, name: string, choices: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(choices as readonly string[]).includes(raw)) throw new Error(`${name} must be one of ${choices.join(', ')}, got "${raw}"`);
  return raw as T;
}

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];

function envBoolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw new Error(`${name} must be one of ${[...TRUE_WORDS, ...FALSE_WORDS].join(', ')}, got "${raw}"`);
}

function envList(env: NodeJS.ProcessEnv, name: string): string[] {
  return (env[name] ?? '').split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): FacekitConfig {
  const genderModel = envChoice(env, 'FACEKIT_GENDER_MODEL', GENDER_MODELS, 'fused');
  return {
    modelDir: env.FACEKIT_MODEL_DIR ? resolve(env.FACEKIT_MODEL_DIR) : defaultModelDir(),
    intraOpThreads: envNumber(env, 'FACEKIT_THREADS', availableParallelism()),
    memoryPattern: env.FACEKIT_ORT_MEMORY_PATTERN === '1',
    memoryArena: env.FACEKIT_ORT_ARENA === '1',
    detector: {
      modelFile: MODELS.scrfd.file,
      scoreThreshold: envNumber(env, 'FACEKIT_MIN_CONFIDENCE', 0.5),
      nmsIouThreshold: 0.4,
      maxInputSide: envNumber(env, 'FACEKIT_DETECTOR_MAX_SIDE', 1536),
      maxUpscale: envNumber(env, 'FACEKIT_DETECTOR_UPSCALE', 1.25),
      minFaceSize: envNumber(env, 'FACEKIT_MIN_FACE_SIZE', 10),
      preNmsTopK: 750,
      resampling: envChoice(env, 'FACEKIT_DETECTOR_RESAMPLING', DETECTOR_RESAMPLINGS, 'exact'),
      memoryArena: envBoolean(env, 'FACEKIT_DETECTOR_ARENA', true),
    },
    landmarkModelFile: MODELS.landmarks106.file,
    genderAgeModelFile: MODELS.genderAge.file,
    genderModel,
    faceResModelFile: MODELS.faceRes.file,
    image: {
      maxBytes: envNumber(env, 'FACEKIT_MAX_IMAGE_BYTES', 10 * 1024 * 1024),
      maxLongSide: envNumber(env, 'FACEKIT_MAX_LONG_SIDE', 4096),
      maxPixels: envNumber(env, 'FACEKIT_MAX_PIXELS', 4096 * 4096),
      minSide: 8,
    },
    fetch: {
      connectTimeoutMs: envNumber(env, 'FACEKIT_FETCH_CONNECT_TIMEOUT_MS', 3000),
      totalTimeoutMs: envNumber(env, 'FACEKIT_FETCH_TIMEOUT_MS', 10000),
      maxRedirects: 3,
      // The Tencent CI route reads its own bucket, so that bucket is always allowed.
      allowedBuckets: [...new Set([...envList(env, 'FACEKIT_S3_BUCKETS'), ...envList(env, 'FACEKIT_CI_BUCKET')])],
      allowLoopbackForTests: envBoolean(env, 'FACEKIT_TEST_ALLOW_LOOPBACK', false),
      s3Endpoint: env.FACEKIT_S3_ENDPOINT || undefined,
    },
    concurrency: {
      inferenceWorkers: envNumber(env, 'FACEKIT_INFERENCE_WORKERS', envNumber(env, 'FACEKIT_MAX_CONCURRENT', 2)),
      maxConcurrentAnalyses: envNumber(env, 'FACEKIT_MAX_CONCURRENT', 2),
      maxQueuedAnalyses: envNumber(env, 'FACEKIT_MAX_QUEUED', 64),
    },
    faceModelVersion: genderModel === 'fused'
      ? 'facekit-1.4.0 (scrfd_2.5g_kps planned+pfld106_lite+genderage_v1+faceres heads)'
      : 'facekit-1.4.0 (scrfd_2.5g_kps planned+pfld106_lite+genderage_v1 heads)',
    ciBucket: env.FACEKIT_CI_BUCKET || undefined,
    faceppCredentials:
      env.FACEKIT_FACEPP_API_KEY && env.FACEKIT_FACEPP_API_SECRET
        ? { apiKey: env.FACEKIT_FACEPP_API_KEY, apiSecret: env.FACEKIT_FACEPP_API_SECRET }
        : undefined,
  };
}
