/**
 * The `architecture` prop produces an arm64 image (issue 8). There is no Docker engine here, so:
 *  - the synthesized asset says `platform: linux/arm64` (CDK passes it to `docker build --platform`),
 *    and the API and batch functions share that one image;
 *  - lambda/Dockerfile installs sharp and onnxruntime-node inside the image for the image's CPU
 *    (nothing of this x86 host's node_modules is copied), and loads them at build time;
 *  - the Dockerfile's own install step, run here with the CPU set to arm64, really installs
 *    AArch64 binaries of both (checked in their ELF headers), which the npm registry serves.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { FacekitStack } from '../../lib/facekit-stack.js';
import { makeStack, newApp, removeOutdirs } from './synth.js';

const exec = promisify(execFile);
afterAll(removeOutdirs);

const REPO_ROOT = new URL('../..', import.meta.url).pathname;
const DOCKERFILE = readFileSync(join(REPO_ROOT, 'lambda/Dockerfile'), 'utf8');

/** ELF e_machine values (System V ABI): the CPU a binary runs on. */
const ELF_MACHINE = { x86_64: 62, aarch64: 183 } as const;

interface DockerImageAsset { source: { directory: string; dockerFile?: string; platform?: string } }

function dockerImages(stack: Stack): DockerImageAsset[] {
  const app = stack.node.root as App;
  const assembly = app.synth();
  const manifest = JSON.parse(readFileSync(join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8')) as { dockerImages: Record<string, DockerImageAsset> };
  return Object.values(manifest.dockerImages);
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function instructions(dockerfile: string): string[] {
  return dockerfile
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

function elfMachine(file: string): number {
  const header = readFileSync(file).subarray(0, 20);
  expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  return header.readUInt16LE(18);
}

describe('the synthesized image asset follows the architecture', () => {
  test('ARM_64: function arm64, asset platform linux/arm64', () => {
    const { stack } = makeStack(() => ({ architecture: lambda.Architecture.ARM_64 }));
    const images = dockerImages(stack);
    expect(images.map((image) => image.source.platform)).toEqual(['linux/arm64']);
    expect(images[0].source.dockerFile).toBe('lambda/Dockerfile');
  });

  test('default: x86_64, asset platform linux/amd64', () => {
    const { stack } = makeStack();
    expect(dockerImages(stack).map((image) => image.source.platform)).toEqual(['linux/amd64']);
  });

  test('the stack with -c architecture=arm64: API and batch functions are arm64 and share one arm64 image', () => {
    const app = newApp({ architecture: 'arm64' });
    const stack = new FacekitStack(app, 'Facekit');
    const template = app.synth().getStackByName('Facekit').template as { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(2);
    for (const fn of functions) expect(fn.Properties.Architectures).toEqual(['arm64']);
    // One asset, one ECR image: the two functions differ only in the handler CMD.
    expect(new Set(functions.map((fn) => JSON.stringify(fn.Properties.Code.ImageUri))).size).toBe(1);
    expect(functions.map((fn) => fn.Properties.ImageConfig.Command).sort()).toEqual([['batch.handler'], ['index.handler']]);
    expect(dockerImages(stack).map((image) => image.source.platform)).toEqual(['linux/arm64']);
  });
});

describe('lambda/Dockerfile installs the native modules for the image platform', () => {
  const steps = instructions(DOCKERFILE);
  const run = steps.find((step) => step.startsWith('RUN ') && step.includes('npm install'))!;

  test('the base image is not pinned to one platform, and no node_modules is copied in', () => {
    const from = steps.filter((step) => step.startsWith('FROM '));
    expect(from).toEqual(['FROM public.ecr.aws/lambda/nodejs:22']);
    const copies = steps.filter((step) => step.startsWith('COPY ') || step.startsWith('ADD '));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) expect(copy).not.toMatch(/node_modules/);
    expect(steps.filter((step) => step.startsWith('ADD '))).toEqual([]);
  });

  test('npm installs for the CPU node reports inside the image, linux + glibc, and loads both modules', () => {
    expect(run).toBeDefined();
    expect(run).toMatch(/ARCH="\$\(node -p process\.arch\)"/);
    expect(run).toMatch(/npm install --omit=dev [^&]*--os=linux --cpu="\$ARCH" --libc=glibc/);
    expect(run).toMatch(/await import\('sharp'\); await import\('onnxruntime-node'\)/);
    // The install runs after the bundle's package.json is in place.
    expect(steps.findIndex((step) => step === 'COPY dist/lambda/ ./')).toBeLessThan(steps.indexOf(run));
  });

  test('its install step, run here for arm64, installs AArch64 binaries of sharp, libvips and onnxruntime', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'facekit-arm64-'));
    try {
      // The package.json scripts/build.mjs writes into dist/lambda: exactly the externals' versions.
      const version = (name: string) => (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'facekit-lambda', private: true, type: 'module', dependencies: { sharp: version('sharp'), 'onnxruntime-node': version('onnxruntime-node') } }));
      // The Dockerfile's RUN, with the CPU fixed to arm64 and without the final load check (an
      // AArch64 binary cannot run on this x86 host; the image build runs it under QEMU).
      const loadCheck = / && node --input-type=module -e .*$/;
      expect(run).toMatch(loadCheck);
      const script = run.slice('RUN '.length).replace('"$(node -p process.arch)"', 'arm64').replace(loadCheck, '');
      await runScript(script, dir);

      expect(readdirSync(join(dir, 'node_modules/@img')).sort()).toEqual(['colour', 'sharp-libvips-linux-arm64', 'sharp-linux-arm64']);
      const sharpBinary = join(dir, 'node_modules/@img/sharp-linux-arm64/lib', readdirSync(join(dir, 'node_modules/@img/sharp-linux-arm64/lib')).find((f) => f.endsWith('.node'))!);
      expect(elfMachine(sharpBinary)).toBe(ELF_MACHINE.aarch64);
      const libvipsDir = join(dir, 'node_modules/@img/sharp-libvips-linux-arm64/lib');
      const libvips = readdirSync(libvipsDir).find((f) => f.startsWith('libvips-cpp.so'))!;
      expect(elfMachine(join(libvipsDir, libvips))).toBe(ELF_MACHINE.aarch64);

      const napiDirs = readdirSync(join(dir, 'node_modules/onnxruntime-node/bin'));
      expect(napiDirs.length).toBeGreaterThan(0);
      for (const napi of napiDirs) {
        // Only linux/arm64 is left (the other platforms' binaries were removed).
        expect(readdirSync(join(dir, 'node_modules/onnxruntime-node/bin', napi))).toEqual(['linux']);
        expect(readdirSync(join(dir, 'node_modules/onnxruntime-node/bin', napi, 'linux'))).toEqual(['arm64']);
        const binding = join(dir, 'node_modules/onnxruntime-node/bin', napi, 'linux/arm64/onnxruntime_binding.node');
        expect(existsSync(binding)).toBe(true);
        expect(elfMachine(binding)).toBe(ELF_MACHINE.aarch64);
      }
      expect(existsSync(join(dir, '.npmrc'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

async function runScript(script: string, cwd: string): Promise<void> {
  await exec('bash', ['-euc', script], { cwd, env: { ...process.env, npm_config_prefer_offline: 'true' }, maxBuffer: 16 * 1024 * 1024 });
}
