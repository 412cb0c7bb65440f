/** An HTTP server on 127.0.0.1 (random port) serving fixed images by path; 404 for anything else. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ImageServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  stop(): Promise<void>;
}

export async function startImageServer(imagesByPath: Readonly<Record<string, Buffer>>): Promise<ImageServer> {
  const server = http.createServer((request, reply) => {
    const body = imagesByPath[request.url ?? ''];
    if (!body) { reply.writeHead(404); reply.end(); return; }
    reply.writeHead(200, { 'content-type': 'image/jpeg' });
    reply.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
