/**
 * A real S3-compatible server for tests: s3rver on 127.0.0.1, random port, temporary folder.
 * It checks request signatures against its own credentials (S3RVER/S3RVER), so other
 * credentials get a real 403 from it.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

interface S3rverInstance {
  run(): Promise<unknown>;
  close(): Promise<void>;
  httpServer: http.Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;
// s3rver is CommonJS without type declarations.
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

export interface TestS3 {
  readonly endpoint: string;
  readonly client: S3Client;
  put(bucket: string, key: string, body: Buffer): Promise<void>;
  stop(): Promise<void>;
}

export async function startS3rver(buckets: readonly string[]): Promise<TestS3> {
  const storageDir = mkdtempSync(path.join(os.tmpdir(), 'facekit-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: storageDir, resetOnClose: true });
  await server.run();
  const endpoint = `http://127.0.0.1:${(server.httpServer.address() as AddressInfo).port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  for (const bucket of buckets) await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint,
    client,
    put: async (bucket, key, body) => { await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })); },
    stop: async () => {
      client.destroy();
      await server.close();
      rmSync(storageDir, { recursive: true, force: true });
    },
  };
}
