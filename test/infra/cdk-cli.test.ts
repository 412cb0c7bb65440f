/**
 * `npx cdk synth` through the real CDK CLI and cdk.json, as a user runs it: no Docker engine and
 * no AWS credentials (image assets are only staged), cdk-nag applied by bin/facekit.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('npx cdk synth succeeds without Docker or credentials and stages the image asset', async () => {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'facekit-cdk-out-'));
  try {
    const environment = { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'facekit-no-such-profile', DOCKER_HOST: 'unix:///nonexistent.sock' };
    await run('npx', ['cdk', 'synth', '--quiet', '--output', outdir, '-c', 'sourceBuckets=photos-bucket'], { cwd: REPO_ROOT, env: environment, maxBuffer: 16 * 1024 * 1024 });
    const templateFile = readdirSync(outdir).find((name) => name.endsWith('.template.json'));
    expect(templateFile).toBeDefined();
    const template = JSON.parse(readFileSync(path.join(outdir, templateFile!), 'utf8')) as { Resources: Record<string, { Type: string; Properties?: any }> };
    const functions = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function');
    // The API function and the FaceBatch function: one image, two handlers.
    expect(functions.map((resource) => resource.Properties.PackageType)).toEqual(['Image', 'Image']);
    const apiFunction = functions.find((resource) => resource.Properties.ImageConfig.Command[0] === 'index.handler');
    expect(apiFunction?.Properties.Environment.Variables.FACEKIT_S3_BUCKETS).toBe('photos-bucket');
    expect(Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::StepFunctions::StateMachine')).toHaveLength(1);
    const assets = JSON.parse(readFileSync(path.join(outdir, `${templateFile!.replace('.template.json', '')}.assets.json`), 'utf8')) as { dockerImages: Record<string, { source: { directory: string; dockerFile?: string } }> };
    expect(Object.keys(assets.dockerImages)).toHaveLength(1);
    const image = Object.values(assets.dockerImages)[0];
    expect(image.source.dockerFile ?? 'Dockerfile').toMatch(/Dockerfile$/);
    expect(readdirSync(path.join(outdir, image.source.directory))).toContain('lambda');
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}, 180_000);
