/** Shared set-up for the infrastructure tests: an App with the same feature flags as cdk.json. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FaceDetectionApi, type FaceDetectionApiProps } from '../../lib/face-detection-api.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

const outdirs: string[] = [];

/**
 * A fresh App carrying cdk.json's context, so tests see what `cdk synth` sees. Its cloud assembly
 * goes to a temporary folder that `removeOutdirs()` deletes (call it in afterAll).
 */
export function newApp(extraContext: Record<string, unknown> = {}): App {
  const outdir = mkdtempSync(join(tmpdir(), 'facekit-cdk-'));
  outdirs.push(outdir);
  return new App({ outdir, context: { ...cdkJson.context, ...extraContext } });
}

/** Deletes the cloud assemblies (with their staged image contexts) of the Apps created so far. */
export function removeOutdirs(): void {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface TestStack {
  readonly app: App;
  readonly stack: Stack;
  readonly api: FaceDetectionApi;
}

/**
 * One stack holding one FaceDetectionApi. `buckets` names imported buckets, available to `props` so
 * a test can pass them as sourceBuckets / ciBucket. The image asset is staged from the real project
 * root with the construct's real exclude list (no Docker needed: synth only stages it).
 */
export function makeStack(
  props: (buckets: Record<string, s3.IBucket>) => FaceDetectionApiProps = () => ({}),
  bucketNames: string[] = [],
): TestStack {
  const app = newApp();
  const stack = new Stack(app, 'Test');
  const buckets = Object.fromEntries(bucketNames.map((n) => [n, s3.Bucket.fromBucketName(stack, `B-${n}`, n)]));
  const resolved = props(buckets);
  const api = new FaceDetectionApi(stack, 'FaceDetection', resolved);
  if (resolved.imageAssetDirectory === undefined) {
    // The project's dist/lambda may not be built while infra tests run; the warning is tested with
    // a temporary build context instead.
    Validations.of(stack).acknowledge({
      id: 'facekit:lambdaBundleMissing',
      reason: 'infrastructure tests synthesize without building the Lambda bundle',
    });
  }
  return { app, stack, api };
}
