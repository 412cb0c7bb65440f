/**
 * The FaceBatch run without Step Functions: list an S3 prefix (any S3-compatible endpoint), cut
 * the objects into item batches the way the Distributed Map's ItemBatcher does, and hand each to
 * the same `analyseItemBatch` the Lambda handler runs. Used by `npm run batch -- --local`.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { analyseItemBatch, type BatchAnalysis, type BatchItem, type ItemBatchResult } from './batch.js';
import type { Runtime } from './runtime.js';

export interface S3PrefixLocation {
  readonly bucket: string;
  /** Empty, or ends with `/`. */
  readonly prefix: string;
}

export interface LocalBatchOptions {
  readonly input: S3PrefixLocation;
  readonly output: S3PrefixLocation;
  readonly analysis: BatchAnalysis;
  /** Objects per batch (the Map's MaxItemsPerBatch). */
  readonly itemsPerBatch: number;
  readonly runtime: Runtime;
  readonly client: S3Client;
  /** Called after each batch (progress). */
  readonly onBatch?: (result: ItemBatchResult) => void;
}

export interface LocalBatchSummary {
  readonly batches: number;
  readonly images: number;
  readonly failed: number;
  readonly skipped: number;
  readonly outputs: readonly string[];
}

/** Every object under the prefix, in ListObjectsV2 order, shaped like the Map's S3 item reader items. */
export async function* listItems(client: S3Client, location: S3PrefixLocation): AsyncGenerator<BatchItem> {
  let continuationToken: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: location.prefix, ContinuationToken: continuationToken }));
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined) continue;
      yield {
        Key: object.Key,
        Size: object.Size,
        Etag: object.ETag,
        LastModified: object.LastModified?.toUTCString(),
        StorageClass: object.StorageClass,
      };
    }
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (continuationToken);
}

export async function runBatchLocally(options: LocalBatchOptions): Promise<LocalBatchSummary> {
  const { input, output, analysis, itemsPerBatch, runtime, client } = options;
  const batchInput = { inputBucket: input.bucket, outputBucket: output.bucket, outputPrefix: output.prefix, analysis };
  const outputs: string[] = [];
  let images = 0;
  let failed = 0;
  let skipped = 0;
  const runOne = async (items: BatchItem[]): Promise<void> => {
    const result = await analyseItemBatch({ Items: items, BatchInput: batchInput }, { runtime, client });
    outputs.push(result.output);
    images += result.images;
    failed += result.failed;
    skipped += result.skipped;
    options.onBatch?.(result);
  };
  let pending: BatchItem[] = [];
  for await (const item of listItems(client, input)) {
    pending.push(item);
    if (pending.length === itemsPerBatch) {
      await runOne(pending);
      pending = [];
    }
  }
  if (pending.length > 0) await runOne(pending);
  return { batches: outputs.length, images, failed, skipped, outputs };
}
