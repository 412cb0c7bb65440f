/** @alicloud/pop-core ships no types for its ROA client (lib/roa.js); the part the tests use. */
declare module '@alicloud/pop-core/lib/roa.js' {
  export default class ROAClient {
    constructor(config: { accessKeyId: string; accessKeySecret: string; endpoint: string; apiVersion: string });
    request(method: string, uriPattern: string, query?: Record<string, string>, body?: string, headers?: Record<string, string>, opts?: Record<string, unknown>): Promise<any>;
  }
}
