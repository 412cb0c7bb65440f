/**
 * Calls a deployed facekit API (auth=iam) with a SigV4-signed request, the way any AWS principal
 * with `execute-api:Invoke` does (docs/deploy.md, "Calling the API"):
 *
 *   npx tsx scripts/signed-request.ts https://abc123.execute-api.eu-west-1.amazonaws.com/prod/face_detection photo.jpg
 *
 * Credentials: the AWS SDK's default chain (environment, AWS_PROFILE / ~/.aws, SSO, instance or
 * task role). Region: AWS_REGION, else the one in the execute-api host name.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';

type SourceData = string | ArrayBuffer | ArrayBufferView;

const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string' ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** SHA-256 (and HMAC-SHA-256 when given a secret) in the shape SignatureV4 expects, on node:crypto. */
export class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

/** `https://<id>.execute-api.<region>.amazonaws.com/...` → region. */
export function regionOf(endpoint: URL, env: NodeJS.ProcessEnv = process.env): string {
  const fromHost = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(endpoint.hostname)?.[1];
  const region = env.AWS_REGION ?? fromHost;
  if (!region) throw new Error('set AWS_REGION (the endpoint is not an execute-api host name)');
  return region;
}

/** POSTs `{"img": <base64>}` to a native route, signed for service execute-api. */
export async function postSigned(url: string, image: Buffer): Promise<Response> {
  const endpoint = new URL(url);
  const body = JSON.stringify({ img: image.toString('base64') });
  const signer = new SignatureV4({ service: 'execute-api', region: regionOf(endpoint), credentials: defaultProvider(), sha256: NodeSha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port ? Number(endpoint.port) : undefined,
    path: endpoint.pathname,
    query: Object.fromEntries(endpoint.searchParams),
    // `host` is part of the signature; fetch sends the same value.
    headers: { 'content-type': 'application/json', host: endpoint.host },
    body,
  });
  return fetch(endpoint, { method: 'POST', headers: signed.headers as Record<string, string>, body });
}

async function main(argv: readonly string[]): Promise<number> {
  const [url, file] = argv;
  if (!url || !file) {
    console.error('usage: npx tsx scripts/signed-request.ts <endpoint>/face_detection <image file>');
    return 2;
  }
  const response = await postSigned(url, await readFile(file));
  console.log(response.status, await response.text());
  return response.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`signed-request: ${(error as Error).message}`);
    return 1;
  });
}
