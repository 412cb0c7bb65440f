#!/usr/bin/env node
/**
 * `npm run models:pack [-- --out DIR]`: writes `facekit-models-<version>.tar.gz` and its `.sha256`
 * (default DIR: dist/) from a complete, verified models/ folder, for a team to host as a release
 * asset or in its own S3 bucket; `FACEKIT_MODEL_BASE_URL=<that folder URL> npm ci` then installs
 * from it. The archive holds every manifest file (a complete offline set), in manifest order, with
 * fixed modes and times, so packing the same models twice gives the same tar stream.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { bundleFileName, mismatch, projectRoot, readManifest, sha256 } from './model-files.mjs';

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const outDir = resolve(values.out ?? join(projectRoot, 'dist'));
const modelDir = process.env.FACEKIT_MODEL_DIR ? resolve(process.env.FACEKIT_MODEL_DIR) : join(projectRoot, 'models');
const manifest = readManifest();

const BLOCK = 512;
/** One ustar entry: header block, then the data padded to whole blocks. */
function tarEntry(path, bytes) {
  const header = Buffer.alloc(BLOCK);
  new Header({ path, mode: 0o644, size: bytes.length, mtime: new Date(0), type: 'File', uname: '', gname: '', uid: 0, gid: 0 }).encode(header, 0);
  const padding = Buffer.alloc((BLOCK - (bytes.length % BLOCK)) % BLOCK);
  return [header, bytes, padding];
}

const parts = [];
for (const model of manifest.models) {
  const bytes = readFileSync(join(modelDir, model.file));
  const problem = mismatch(model, bytes);
  if (problem) {
    console.error(`facekit: cannot pack ${model.file}: ${problem}. Run \`npm run models\` first.`);
    process.exit(1);
  }
  parts.push(...tarEntry(model.file, bytes));
}
const manifestBytes = readFileSync(join(projectRoot, 'models', 'manifest.json'));
parts.push(...tarEntry('manifest.json', manifestBytes), Buffer.alloc(2 * BLOCK));

const archive = gzipSync(Buffer.concat(parts), { level: 9 });
const name = bundleFileName(manifest);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, name), archive);
writeFileSync(join(outDir, `${name}.sha256`), `${sha256(archive)}  ${name}\n`);
console.log(`wrote ${join(outDir, name)} (${archive.length} bytes) and ${name}.sha256`);
console.log(`host both in one folder, then: FACEKIT_MODEL_BASE_URL=<folder URL> npm run models`);
