#!/usr/bin/env node
/**
 * Builds the runtime bundles with esbuild (sharp and onnxruntime-node stay external: native code).
 *   dist/lambda/index.mjs + package.json   the bundle lambda/Dockerfile copies (`npm run build:lambda`)
 *   dist/lambda/batch.mjs                  FaceBatch's handler, in the same image
 *   dist/server/server.mjs                 `npm start`
 *   dist/cli/facekit.mjs                   `facekit detect ...` (the package's bin; + its inference worker)
 *   dist/server/web/                       the web demo the local server serves at `/` (browser bundle)
 */
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Native packages: installed in the image / node_modules, never bundled. */
const EXTERNAL = ['sharp', 'onnxruntime-node'];
const lambdaOnly = process.argv.includes('--lambda-only');

const entries = [
  { entry: 'lambda/handler.ts', out: 'dist/lambda/index.mjs' },
  { entry: 'lambda/batch.ts', out: 'dist/lambda/batch.mjs' },
  ...(lambdaOnly ? [] : [
    { entry: 'lambda/server.ts', out: 'dist/server/server.mjs' },
    { entry: 'lambda/vision/inference-worker.ts', out: 'dist/server/inference-worker.mjs' },
    { entry: 'lambda/cli.ts', out: 'dist/cli/facekit.mjs', banner: '#!/usr/bin/env node' },
    // `--concurrency N` runs the models in worker threads, loaded from beside the CLI bundle.
    { entry: 'lambda/vision/inference-worker.ts', out: 'dist/cli/inference-worker.mjs' },
  ]),
];

// CommonJS dependencies bundled into ESM still call require(): give them one.
const requireShim = "import { createRequire as __facekitCreateRequire } from 'node:module'; const require = __facekitCreateRequire(import.meta.url);";

for (const { entry, out, banner } of entries) {
  await build({
    entryPoints: [join(projectRoot, entry)],
    outfile: join(projectRoot, out),
    bundle: true,
    platform: 'node',
    format: 'esm',
    // Runs on Node 20 locally and Node 22 in Lambda.
    target: 'node20',
    external: EXTERNAL,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
    banner: { js: [banner, requireShim].filter(Boolean).join('\n') },
  });
}

if (!lambdaOnly) {
  // The demo page: plain HTML plus one script bundled for the browser.
  await build({
    entryPoints: [join(projectRoot, 'lambda/web/demo.ts')],
    outfile: join(projectRoot, 'dist/server/web/demo.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(join(projectRoot, 'lambda/web/index.html'), join(projectRoot, 'dist/server/web/index.html'));
}

// The package's bin (`npx facekit`) runs the CLI bundle directly through its #! line.
if (!lambdaOnly) chmodSync(join(projectRoot, 'dist/cli/facekit.mjs'), 0o755);

// The image installs exactly the versions the bundle was built and tested against.
const versions = Object.fromEntries(EXTERNAL.map((name) => [name, JSON.parse(readFileSync(join(projectRoot, 'node_modules', name, 'package.json'), 'utf8')).version]));
mkdirSync(join(projectRoot, 'dist/lambda'), { recursive: true });
writeFileSync(
  join(projectRoot, 'dist/lambda/package.json'),
  `${JSON.stringify({ name: 'facekit-lambda', private: true, type: 'module', dependencies: versions }, null, 2)}\n`,
);
console.log(`built ${entries.map((item) => item.out).join(', ')} (externals: ${Object.entries(versions).map(([name, version]) => `${name}@${version}`).join(', ')})`);
