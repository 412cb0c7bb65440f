/**
 * What scripts/fetch-models.mjs and scripts/pack-models.mjs share: the manifest, the byte check and
 * the model bundle's name and format. Plain Node (no TypeScript runner) because `npm ci` runs the
 * fetch as its postinstall step, also where dev dependencies are left out.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Parser } from 'tar';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const manifestPath = join(projectRoot, 'models', 'manifest.json');

export const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

export function readManifest() {
  return JSON.parse(readFileSync(manifestPath, 'utf8'));
}

/** Why `bytes` is not the manifest entry's file, or undefined when it is. */
export function mismatch(model, bytes) {
  if (bytes.length !== model.bytes) return `size ${bytes.length} bytes, expected ${model.bytes}`;
  const digest = sha256(bytes);
  if (digest !== model.sha256) return `sha256 ${digest}, expected ${model.sha256}`;
  return undefined;
}

/** `facekit-models-<version>.tar.gz`: the one file a team hosts for everything `bundle` entries need. */
export function bundleFileName(manifest) {
  return `${manifest.bundle.name}-${manifest.bundle.version}.tar.gz`;
}

/**
 * Fingerprint of the model set (sorted `sha256  file` lines). The manifest records it next to the
 * bundle version, and a test fails when the files change but the version does not, so two bundles
 * with one name never hold different bytes.
 */
export function modelSetSha256(manifest) {
  const lines = manifest.models.map((model) => `${model.sha256}  ${model.file}\n`).sort();
  return sha256(lines.join(''));
}

/** The regular files of a .tar.gz, read in memory (nothing is written until each file is checked). */
export async function readTarGz(gzipped) {
  const files = new Map();
  await new Promise((resolveParse, rejectParse) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry) => {
        if (entry.type !== 'File') { entry.resume(); return; }
        const chunks = [];
        entry.on('data', (chunk) => chunks.push(chunk));
        entry.on('end', () => files.set(entry.path.replace(/^(\.\/)+/, ''), Buffer.concat(chunks)));
      },
    });
    parser.on('error', rejectParse);
    parser.on('end', resolveParse);
    parser.end(gunzipSync(gzipped));
  });
  return files;
}
