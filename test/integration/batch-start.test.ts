/**
 * `npm run batch -- s3://in/prefix s3://out/prefix` in Step Functions mode: its arguments and the
 * StartExecution request it sends. AWS Step Functions cannot run here, so the SFN client is a
 * stand-in that records the command; the request is checked against the input contract of the
 * deployed state machine (lib/face-batch.ts), whose template test/infra/face-batch.test.ts checks.
 * The --local mode runs for real against s3rver in batch.test.ts.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { jest } from '@jest/globals';
import { BatchUsageError, main, parseBatchArgs, parseS3Prefix, startExecutionRequest } from '../../scripts/batch.js';

const ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:FaceBatchStateMachine03A93C90-AbC123';

describe('parseBatchArgs', () => {
  test('two s3:// prefixes, defaults, ARN from the environment', () => {
    expect(parseBatchArgs(['s3://in-bucket/photos/2024', 's3://out-bucket/results/run-1/'], { FACEKIT_BATCH_STATE_MACHINE_ARN: ARN })).toEqual({
      local: false,
      input: { bucket: 'in-bucket', prefix: 'photos/2024/' },
      output: { bucket: 'out-bucket', prefix: 'results/run-1/' },
      analysis: 'full',
      itemsPerBatch: 25,
      stateMachineArn: ARN,
      executionName: undefined,
    });
  });

  test('options: --state-machine over the environment, --analysis, --name; --local needs no ARN', () => {
    const other = ARN.replace('111122223333', '444455556666');
    const args = parseBatchArgs(['--analysis', 'detect', '--name', 'run_7', '--state-machine', other, 's3://in-bucket/', 's3://out-bucket/r/'], { FACEKIT_BATCH_STATE_MACHINE_ARN: ARN });
    expect([args.stateMachineArn, args.analysis, args.executionName, args.input.prefix]).toEqual([other, 'detect', 'run_7', '']);
    expect(parseBatchArgs(['--local', '--items-per-batch', '8', 's3://in-bucket/a/', 's3://out-bucket/b/'], {})).toEqual({
      local: true, input: { bucket: 'in-bucket', prefix: 'a/' }, output: { bucket: 'out-bucket', prefix: 'b/' }, analysis: 'full', itemsPerBatch: 8,
    });
  });

  test.each([
    [['s3://in-bucket/a/'], /expected two arguments/],
    [['in-bucket/a/', 's3://out-bucket/b/'], /the input must be s3:\/\/bucket\/prefix\//],
    [['s3://In_Bucket/a/', 's3://out-bucket/b/'], /the input must be/],
    [['s3://in-bucket/a/', 's3://out-bucket'], /the output needs a prefix/],
    [['s3://in-bucket/a//b/', 's3://out-bucket/b/'], /empty segments/],
    [['s3://same-bucket/photos/', 's3://same-bucket/photos/results/'], /may not lie inside the input prefix/],
    [['--analysis', 'all', 's3://in-bucket/a/', 's3://out-bucket/b/'], /--analysis must be one of detect, full/],
    [['--items-per-batch', '0', 's3://in-bucket/a/', 's3://out-bucket/b/'], /--items-per-batch/],
    [['--name', 'has space', 's3://in-bucket/a/', 's3://out-bucket/b/'], /--name/],
    [['--frobnicate', 's3://in-bucket/a/', 's3://out-bucket/b/'], /Unknown option/],
    [['s3://in-bucket/a/', 's3://out-bucket/b/'], /FACEKIT_BATCH_STATE_MACHINE_ARN/],
    [['--state-machine', 'arn:aws:lambda:eu-west-1:111122223333:function:x', 's3://in-bucket/a/', 's3://out-bucket/b/'], /not a state machine ARN/],
  ])('%j is refused', (argv, message) => {
    expect(() => parseBatchArgs(argv, {})).toThrow(BatchUsageError);
    expect(() => parseBatchArgs(argv, {})).toThrow(message);
  });

  test('parseS3Prefix keeps an empty prefix empty and adds the trailing slash otherwise', () => {
    expect(parseS3Prefix('s3://b-1/', 'x')).toEqual({ bucket: 'b-1', prefix: '' });
    expect(parseS3Prefix('s3://b-1', 'x')).toEqual({ bucket: 'b-1', prefix: '' });
    expect(parseS3Prefix(' s3://b-1/a/b ', 'x')).toEqual({ bucket: 'b-1', prefix: 'a/b/' });
  });
});

describe('the StartExecution request', () => {
  test('carries the buckets, prefixes and analysis the state machine checks', () => {
    const request = startExecutionRequest(parseBatchArgs(['--name', 'nightly', 's3://in-bucket/photos', 's3://out-bucket/results/'], { FACEKIT_BATCH_STATE_MACHINE_ARN: ARN }));
    expect(request).toEqual({ stateMachineArn: ARN, name: 'nightly', input: expect.any(String) });
    expect(JSON.parse(request.input!)).toEqual({
      inputBucket: 'in-bucket', inputPrefix: 'photos/', outputBucket: 'out-bucket', outputPrefix: 'results/', analysis: 'full',
    });
  });

  test('main sends exactly that request (Step Functions mocked: it cannot run here) and prints the execution ARN', async () => {
    const executionArn = `${ARN.replace(':stateMachine:', ':execution:')}:nightly`;
    const send = jest.fn(async (_command: unknown) => ({ executionArn, startDate: new Date('2026-12-01T00:00:00Z') }));
    const printed: string[] = [];
    const previous = process.env.FACEKIT_BATCH_STATE_MACHINE_ARN;
    process.env.FACEKIT_BATCH_STATE_MACHINE_ARN = ARN;
    try {
      const code = await main(['--analysis', 'detect', 's3://in-bucket/photos/', 's3://out-bucket/results/'], { sfn: { send } as never, log: (line) => printed.push(line) });
      expect(code).toBe(0);
    } finally {
      if (previous === undefined) delete process.env.FACEKIT_BATCH_STATE_MACHINE_ARN;
      else process.env.FACEKIT_BATCH_STATE_MACHINE_ARN = previous;
    }
    expect(send).toHaveBeenCalledTimes(1);
    const command = send.mock.calls[0][0];
    expect(command).toBeInstanceOf(StartExecutionCommand);
    expect((command as StartExecutionCommand).input).toEqual({
      stateMachineArn: ARN,
      input: JSON.stringify({ inputBucket: 'in-bucket', inputPrefix: 'photos/', outputBucket: 'out-bucket', outputPrefix: 'results/', analysis: 'detect' }),
    });
    expect(JSON.parse(printed[0]).executionArn).toBe(executionArn);
  });

  test('main answers a usage error with exit code 2 and sends nothing', async () => {
    const send = jest.fn(async (_command: unknown) => ({}));
    const stderr = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await main(['s3://in-bucket/a/'], { sfn: { send } as never })).toBe(2);
      expect(stderr.mock.calls.flat().join('\n')).toContain('usage: npm run batch');
    } finally {
      stderr.mockRestore();
    }
    expect(send).not.toHaveBeenCalled();
  });
});
