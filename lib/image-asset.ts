/**
 * The one container image facekit's functions run: built from `lambda/Dockerfile` for the
 * function's architecture. The API function and the batch function use the same asset (same hash,
 * one image in ECR) and differ only in the handler the image's CMD names.
 *
 * Infrastructure only. Nothing in lib/ imports from lambda/: the image copies the bundle
 * `npm run build:lambda` writes to `dist/lambda/`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Annotations, IgnoreMode } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';

/**
 * Paths inside the Docker build context (the project root) that never go into the image asset.
 * Docker-ignore syntax: everything is excluded, then only what `lambda/Dockerfile` copies is let
 * back in. This keeps `cdk synth` fast (node_modules is never staged) and the image small; above
 * all, the host's node_modules (native binaries for the host's CPU) can never reach the image: the
 * Dockerfile installs sharp and onnxruntime-node inside the image, for the image's platform.
 */
export const IMAGE_ASSET_EXCLUDE: readonly string[] = [
  '*',
  '!lambda/Dockerfile',
  '!dist/lambda/**',
  '!models/*.onnx',
  '!models/manifest.json',
  // Never, even inside the included folders.
  '**/node_modules',
  '**/.git',
];

/** The project root (the folder above lib/): the default Docker build context. */
export const DEFAULT_PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Handlers inside the image (files of dist/lambda/, see scripts/build.mjs). */
export enum FacekitHandler {
  /** The HTTP API (API Gateway proxy events). */
  API = 'index.handler',
  /** Item batches of the FaceBatch Distributed Map. */
  BATCH = 'batch.handler',
}

/** The Docker platform to build for a Lambda architecture (arm64 images for arm64 functions). */
export function platformFor(architecture: lambda.Architecture): Platform {
  return architecture.name === lambda.Architecture.ARM_64.name ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64;
}

/** The facekit image, built from `directory` for `architecture`, starting `handler`. */
export function facekitImageCode(directory: string, architecture: lambda.Architecture, handler: FacekitHandler): lambda.DockerImageCode {
  return lambda.DockerImageCode.fromImageAsset(directory, {
    file: 'lambda/Dockerfile',
    exclude: [...IMAGE_ASSET_EXCLUDE],
    ignoreMode: IgnoreMode.DOCKER,
    platform: platformFor(architecture),
    // CMD is function configuration (ImageConfig), not part of the asset: both functions share one image.
    cmd: [handler],
  });
}

/**
 * Synth only stages the build context; the Docker build at deploy time needs the bundle. Warns on
 * `scope` when the handler's file is missing from `directory`/dist/lambda.
 */
export function warnIfBundleMissing(scope: IConstruct, directory: string, handler: FacekitHandler): void {
  const file = join(directory, 'dist', 'lambda', `${handler.split('.')[0]}.mjs`);
  if (!existsSync(file)) {
    Annotations.of(scope).addWarningV2(
      'facekit:lambdaBundleMissing',
      `${file} does not exist: run \`npm run build:lambda\` before \`cdk deploy\`, or the image build fails.`,
    );
  }
}
