/**
 * FaceBatch's entry point (dist/lambda/batch.mjs, `batch.handler` in the image): analyses one item
 * batch of the Step Functions Distributed Map and writes its results as one JSONL object, one line
 * per image. The same code runs the batch locally (`npm run batch -- --local`, see batch-local.ts).
 *
 * The event is what the Map's ItemBatcher sends (AWS Step Functions developer guide, "ItemBatcher"):
 *   { Items: [{Key, Size, Etag, LastModified, StorageClass}, ...],   // from the ListObjectsV2 reader
 *     BatchInput: {inputBucket, outputBucket, outputPrefix, analysis} }
 *
 * One bad image never fails the batch: it becomes an error line. The batch fails (and the Map's
 * result writer lists it) only when its results cannot be written, or the event itself is wrong.
 * Images are held in memory only; logs carry counts and keys, never pixels.
 */
import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from './config.js';
import { isFacekitError } from './errors.js';
import { checkBucketAllowed, fetchS3Bytes, getS3Client } from './image/s3.js';
import { createRuntime, detect, type Runtime } from './runtime.js';
import type { DetectOptions, FaceAnalysis } from './vision/types.js';

/** What the batch computes per face (must match lib/face-batch.ts BatchAnalysis). */
export const BATCH_ANALYSES = ['detect', 'full'] as const;
export type BatchAnalysis = (typeof BATCH_ANALYSES)[number];
export const DEFAULT_BATCH_ANALYSIS: BatchAnalysis = 'full';

/** One object listed by the S3 ListObjectsV2 item reader. */
export interface BatchItem {
  readonly Key: string;
  readonly Size?: number;
  readonly Etag?: string;
  readonly LastModified?: string;
  readonly StorageClass?: string;
}

export interface BatchInput {
  readonly inputBucket: string;
  readonly outputBucket: string;
  /** Ends with `/`. */
  readonly outputPrefix: string;
  /** @default 'full' */
  readonly analysis?: BatchAnalysis;
}

export interface ItemBatchEvent {
  readonly Items: readonly BatchItem[];
  readonly BatchInput: BatchInput;
}

/** What the function returns to the Map (collected by its result writer). */
export interface ItemBatchResult {
  /** `s3://bucket/key` of the JSONL object written. */
  readonly output: string;
  /** Lines written: one per image. */
  readonly images: number;
  readonly failed: number;
  /** Folder placeholders (keys ending in `/`): not images, no line. */
  readonly skipped: number;
}

/** One line of the results. */
export type BatchLine =
  | { readonly key: string; readonly width: number; readonly height: number; readonly faces: readonly FaceAnalysis[]; readonly faceModelVersion: string }
  | { readonly key: string; readonly error: { readonly code: string; readonly message: string } };

export interface BatchDependencies {
  readonly runtime: Runtime;
  /** Reads the inputs and writes the results. */
  readonly client: S3Client;
}

/** Thrown for an event the Map would never send: the batch fails as a whole. */
export class BatchEventError extends Error {
  constructor(message: string) {
    super(`facekit batch: ${message}`);
    this.name = 'BatchEventError';
  }
}

export function detectOptionsFor(analysis: BatchAnalysis): DetectOptions {
  const full = analysis === 'full';
  return { landmarks106: full, genderAge: full, attributes: new Set() };
}

/** `s3://bucket/key` with each key segment percent-encoded (parseS3Url decodes it). */
export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * Name of a batch's result object: a digest of its keys, so a retried batch overwrites its own
 * results instead of adding a second copy.
 */
export function resultKey(outputPrefix: string, keys: readonly string[]): string {
  const digest = createHash('sha256').update(keys.join('\n')).digest('hex').slice(0, 32);
  return `${outputPrefix}batch-${digest}.jsonl`;
}

function checkEvent(event: unknown): ItemBatchEvent {
  const candidate = event as Partial<ItemBatchEvent> | null;
  if (!candidate || !Array.isArray(candidate.Items)) throw new BatchEventError('the event has no Items array');
  const input = candidate.BatchInput as Partial<BatchInput> | undefined;
  for (const name of ['inputBucket', 'outputBucket', 'outputPrefix'] as const) {
    if (typeof input?.[name] !== 'string' || input[name] === '') throw new BatchEventError(`BatchInput.${name} is missing`);
  }
  if (!input!.outputPrefix!.endsWith('/')) throw new BatchEventError('BatchInput.outputPrefix must end with "/"');
  const analysis = input!.analysis ?? DEFAULT_BATCH_ANALYSIS;
  if (!BATCH_ANALYSES.includes(analysis)) throw new BatchEventError(`BatchInput.analysis must be one of ${BATCH_ANALYSES.join(', ')}`);
  for (const item of candidate.Items) {
    if (typeof (item as Partial<BatchItem>)?.Key !== 'string') throw new BatchEventError('every item needs a Key');
  }
  return candidate as ItemBatchEvent;
}

async function analyseObject(key: string, input: BatchInput, options: DetectOptions, dependencies: BatchDependencies): Promise<BatchLine> {
  const { runtime, client } = dependencies;
  const { config } = runtime;
  try {
    const bytes = await fetchS3Bytes(s3Url(input.inputBucket, key), config.fetch, config.image.maxBytes, key, { client });
    const result = await detect(runtime, { image: { kind: 'bytes', bytes, field: key }, options });
    return { key, width: result.width, height: result.height, faces: result.faces, faceModelVersion: config.faceModelVersion };
  } catch (error) {
    // A FacekitError is the image's fault (corrupt, too large, missing…); anything else is a fault
    // of ours on this image. Either way the line says so and the other images go on.
    if (isFacekitError(error)) return { key, error: { code: error.code, message: error.message } };
    return { key, error: { code: 'INTERNAL_ERROR', message: 'the image could not be analysed' } };
  }
}

/** Analyses every object of the batch and writes the results object. */
export async function analyseItemBatch(event: unknown, dependencies: BatchDependencies): Promise<ItemBatchResult> {
  const { Items: items, BatchInput: input } = checkEvent(event);
  // The deployment names the bucket it may read (FACEKIT_S3_BUCKETS); refuse others up front.
  checkBucketAllowed(input.inputBucket, dependencies.runtime.config.fetch.allowedBuckets, 'BatchInput.inputBucket');
  const options = detectOptionsFor(input.analysis ?? DEFAULT_BATCH_ANALYSIS);
  const lines: BatchLine[] = [];
  let skipped = 0;
  for (const item of items) {
    if (item.Key.endsWith('/')) {
      skipped++;
      continue;
    }
    lines.push(await analyseObject(item.Key, input, options, dependencies));
  }
  const key = resultKey(input.outputPrefix, items.map((item) => item.Key));
  await dependencies.client.send(new PutObjectCommand({
    Bucket: input.outputBucket,
    Key: key,
    Body: lines.map((line) => JSON.stringify(line)).join('\n') + (lines.length > 0 ? '\n' : ''),
    ContentType: 'application/x-ndjson',
  }));
  const failed = lines.filter((line) => 'error' in line).length;
  return { output: `s3://${input.outputBucket}/${key}`, images: lines.length, failed, skipped };
}

let runtimePromise: Promise<Runtime> | undefined;

/** The Lambda handler: one runtime (models loaded once) per execution environment. */
export async function handler(event: unknown): Promise<ItemBatchResult> {
  runtimePromise ??= createRuntime(loadConfig());
  const runtime = await runtimePromise;
  const result = await analyseItemBatch(event, { runtime, client: getS3Client(runtime.config.fetch) });
  console.log(JSON.stringify({ message: 'facekit batch done', ...result }));
  return result;
}
