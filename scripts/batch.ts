/**
 * `npm run batch -- [options] s3://in/prefix/ s3://out/prefix/`
 *
 * Default: starts the deployed FaceBatch state machine (Step Functions StartExecution); its ARN is
 * the stack output `…FaceBatchStateMachineArn…`, passed with --state-machine or
 * FACEKIT_BATCH_STATE_MACHINE_ARN. Credentials and region: the AWS SDK's default chain.
 *
 * --local: runs the same batch code here instead, against AWS S3 or any S3-compatible endpoint
 * (FACEKIT_S3_ENDPOINT, path-style), and prints a summary.
 *
 * Options: --analysis detect|full (default full), --items-per-batch N (local; default 25),
 * --name NAME (execution name), --state-machine ARN.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SFNClient, StartExecutionCommand, type StartExecutionCommandInput } from '@aws-sdk/client-sfn';
import { BATCH_ANALYSES, DEFAULT_BATCH_ANALYSIS, type BatchAnalysis } from '../lambda/batch.js';
import type { S3PrefixLocation } from '../lambda/batch-local.js';

export const USAGE = 'usage: npm run batch -- [--local] [--analysis detect|full] [--items-per-batch N] [--state-machine ARN] [--name NAME] s3://in-bucket/prefix/ s3://out-bucket/prefix/';

export class BatchUsageError extends Error {}

export interface BatchArguments {
  readonly local: boolean;
  readonly input: S3PrefixLocation;
  readonly output: S3PrefixLocation;
  readonly analysis: BatchAnalysis;
  readonly itemsPerBatch: number;
  /** Step Functions mode only. */
  readonly stateMachineArn?: string;
  readonly executionName?: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;
/** Step Functions execution names: 1..80 characters, letters, digits, `-` and `_`. */
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** `s3://bucket/prefix` → bucket and prefix; a non-empty prefix gets a trailing `/`. */
export function parseS3Prefix(url: string, what: string): S3PrefixLocation {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url.trim());
  if (!match || !BUCKET.test(match[1])) throw new BatchUsageError(`${what} must be s3://bucket/prefix/, got '${url}'`);
  const prefix = match[2] === '' || match[2].endsWith('/') ? match[2] : `${match[2]}/`;
  if (prefix.startsWith('/') || prefix.includes('//')) throw new BatchUsageError(`${what}: the prefix may not contain empty segments ('${url}')`);
  return { bucket: match[1], prefix };
}

export function parseBatchArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BatchArguments {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        local: { type: 'boolean', default: false },
        analysis: { type: 'string', default: DEFAULT_BATCH_ANALYSIS },
        'items-per-batch': { type: 'string', default: '25' },
        'state-machine': { type: 'string' },
        name: { type: 'string' },
      },
    });
  } catch (error) {
    throw new BatchUsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 2) throw new BatchUsageError('expected two arguments: the input and the output prefix');
  const input = parseS3Prefix(positionals[0], 'the input');
  const output = parseS3Prefix(positionals[1], 'the output');
  if (output.prefix === '') throw new BatchUsageError('the output needs a prefix (results are written under it)');
  if (input.bucket === output.bucket && output.prefix.startsWith(input.prefix)) {
    throw new BatchUsageError('the output prefix may not lie inside the input prefix (results would be listed as inputs)');
  }
  const analysis = values.analysis as BatchAnalysis;
  if (!BATCH_ANALYSES.includes(analysis)) throw new BatchUsageError(`--analysis must be one of ${BATCH_ANALYSES.join(', ')}`);
  const itemsPerBatch = Number(values['items-per-batch']);
  if (!Number.isInteger(itemsPerBatch) || itemsPerBatch < 1 || itemsPerBatch > 1000) throw new BatchUsageError('--items-per-batch must be an integer in 1..1000');
  if (values.name !== undefined && !EXECUTION_NAME.test(values.name)) throw new BatchUsageError('--name: 1..80 letters, digits, - or _');
  if (values.local) {
    return { local: true, input, output, analysis, itemsPerBatch };
  }
  const stateMachineArn = values['state-machine'] ?? env.FACEKIT_BATCH_STATE_MACHINE_ARN;
  if (!stateMachineArn) throw new BatchUsageError('set --state-machine or FACEKIT_BATCH_STATE_MACHINE_ARN (stack output FaceBatchStateMachineArn), or use --local');
  if (!STATE_MACHINE_ARN.test(stateMachineArn)) throw new BatchUsageError(`not a state machine ARN: '${stateMachineArn}'`);
  return { local: false, input, output, analysis, itemsPerBatch, stateMachineArn, executionName: values.name };
}

/** The StartExecution request for the FaceBatch state machine (its input contract: lib/face-batch.ts). */
export function startExecutionRequest(args: BatchArguments): StartExecutionCommandInput {
  if (!args.stateMachineArn) throw new BatchUsageError('no state machine ARN');
  return {
    stateMachineArn: args.stateMachineArn,
    ...(args.executionName ? { name: args.executionName } : {}),
    input: JSON.stringify({
      inputBucket: args.input.bucket,
      inputPrefix: args.input.prefix,
      outputBucket: args.output.bucket,
      outputPrefix: args.output.prefix,
      analysis: args.analysis,
    }),
  };
}

export interface BatchMainDependencies {
  /** Step Functions client (tests pass a stand-in: Step Functions cannot run here). */
  readonly sfn?: Pick<SFNClient, 'send'>;
  readonly log?: (line: string) => void;
}

export async function main(argv: readonly string[], dependencies: BatchMainDependencies = {}): Promise<number> {
  const log = dependencies.log ?? ((line: string) => console.log(line));
  let args: BatchArguments;
  try {
    args = parseBatchArgs(argv);
  } catch (error) {
    if (!(error instanceof BatchUsageError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    return 2;
  }
  if (args.local) {
    // Loaded only here: the models are not needed to start a remote execution.
    const [{ loadConfig }, { createRuntime }, { createS3Client }, { runBatchLocally }] = await Promise.all([
      import('../lambda/config.js'), import('../lambda/runtime.js'), import('../lambda/image/s3.js'), import('../lambda/batch-local.js'),
    ]);
    const config = loadConfig({ ...process.env, FACEKIT_S3_BUCKETS: args.input.bucket });
    const runtime = await createRuntime(config);
    const client = createS3Client({ endpoint: config.fetch.s3Endpoint, connectTimeoutMs: config.fetch.connectTimeoutMs });
    try {
      const summary = await runBatchLocally({
        input: args.input, output: args.output, analysis: args.analysis, itemsPerBatch: args.itemsPerBatch, runtime, client,
        onBatch: (result) => log(JSON.stringify(result)),
      });
      log(JSON.stringify({ batches: summary.batches, images: summary.images, failed: summary.failed, skipped: summary.skipped }));
      return 0;
    } finally {
      client.destroy();
    }
  }
  const sfn = dependencies.sfn ?? new SFNClient({});
  const started = await sfn.send(new StartExecutionCommand(startExecutionRequest(args)));
  log(JSON.stringify({ executionArn: started.executionArn, startDate: started.startDate }));
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`facekit batch: ${(error as Error).message}`);
    return 1;
  });
}
