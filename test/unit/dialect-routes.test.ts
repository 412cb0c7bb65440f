/**
 * The one route table (lib/routes.ts) and the router's matching rule over it: which entry serves a
 * request, and whose error shape answers a request no entry serves.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { DIALECTS } from '../../lambda/api/index.js';
import { resolveRoute } from '../../lambda/router.js';
import { DIALECT_NAMES, FACEKIT_ROUTES, matchPath } from '../../lib/routes.js';
import { REPO_ROOT } from '../helpers/local-server.js';

const request = (method: string, requestPath: string, query: Record<string, string> = {}, headers: Record<string, string> = {}) =>
  resolveRoute({ method, path: requestPath, query, headers });

describe('the route table', () => {
  it('is pure data: no aws-cdk-lib, nothing from lambda/', () => {
    const source = readFileSync(path.join(REPO_ROOT, 'lib/routes.ts'), 'utf8');
    // No import at all (comments may name lambda/), so neither aws-cdk-lib nor lambda/ can come in.
    expect(source).not.toMatch(/^\s*(import|export)\b[^\n]*\bfrom\b/m);
    expect(source).not.toMatch(/\b(require|import)\s*\(/);
  });

  it('has one API Gateway method per (method, path) and unique operation ids', () => {
    const keys = FACEKIT_ROUTES.map((route) => `${route.method} ${route.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    const ids = FACEKIT_ROUTES.map((route) => route.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('names exactly the dialects the router has modules for', () => {
    expect(Object.keys(DIALECTS).sort()).toEqual([...DIALECT_NAMES].sort());
    for (const name of DIALECT_NAMES) expect(DIALECTS[name].name).toBe(name);
    const used = new Set(FACEKIT_ROUTES.map((route) => route.dialect));
    for (const name of DIALECT_NAMES) expect(used.has(name)).toBe(true);
  });

  it('matches literal, greedy and trailing-slash paths', () => {
    expect(matchPath('/face/detect', '/face/detect')).toEqual({ params: {} });
    expect(matchPath('/face/detect', '/face/detect/')).toEqual({ params: {} });
    expect(matchPath('/face/detect', '/face/detect/x')).toBeUndefined();
    expect(matchPath('/ci/{key+}', '/ci/a/b%20c.jpg')).toEqual({ params: { key: 'a/b%20c.jpg' } });
    expect(matchPath('/ci/{key+}', '/ci')).toBeUndefined();
    expect(matchPath('/{proxy+}', '/x.jpg')).toEqual({ params: { proxy: 'x.jpg' } });
  });
});

describe('resolveRoute', () => {
  it('serves each dialect at its path', () => {
    expect(request('POST', '/face_detection').served?.route.dialect).toBe('native');
    expect(request('POST', '/face-detection').served?.route.dialect).toBe('native');
    expect(request('POST', '/facepp/v3/detect').served?.route.dialect).toBe('facepp');
    expect(request('POST', '/face/detect').served?.route.dialect).toBe('youtu');
    expect(request('POST', '/green/face/detect').served?.route.dialect).toBe('alibaba');
    expect(request('POST', '/rekognition', {}, { 'x-amz-target': 'RekognitionService.DetectFaces' }).served?.route.dialect).toBe('rekognition');
    // The SDK appends `/` to an endpoint path.
    expect(request('POST', '/rekognition/', {}, { 'x-amz-target': 'RekognitionService.DetectFaces' }).served?.route.dialect).toBe('rekognition');
    expect(request('GET', '/health').served?.route.page).toBe('health');
    expect(request('GET', '/openapi.json').served?.route.page).toBe('openapi');
    expect(request('GET', '/docs').served?.route.page).toBe('docs');
  });

  it('Tencent CI at COS\'s own path only with ci-process; the /ci/ alias without', () => {
    const cos = request('GET', '/folder/a.jpg', { 'ci-process': 'DetectFace' });
    expect(cos.served).toMatchObject({ route: { dialect: 'tencent-ci', path: '/{proxy+}' }, params: { proxy: 'folder/a.jpg' } });
    // Any CI-shaped request is CI's, also with an unknown ci-process (the dialect names the error).
    expect(request('GET', '/a.jpg', { 'ci-process': 'Nope' }).served?.route.dialect).toBe('tencent-ci');
    expect(request('GET', '/ci/a.jpg').served).toMatchObject({ route: { path: '/ci/{key+}' }, params: { key: 'a.jpg' } });
    const plain = request('GET', '/a.jpg');
    expect(plain.served).toBeUndefined();
    expect(plain).toMatchObject({ owner: 'native', failure: { code: 'NOT_FOUND' } });
  });

  it('answers unknown routes and wrong methods in the dialect the path belongs to', () => {
    expect(request('GET', '/facepp/v3/detect')).toMatchObject({ owner: 'facepp', failure: { code: 'METHOD_NOT_ALLOWED' } });
    expect(request('POST', '/facepp/v3/compare')).toMatchObject({ owner: 'facepp', failure: { code: 'NOT_FOUND' } });
    expect(request('POST', '/green/image/scan')).toMatchObject({ owner: 'alibaba', failure: { code: 'NOT_FOUND' } });
    expect(request('GET', '/face/detect')).toMatchObject({ owner: 'youtu', failure: { code: 'METHOD_NOT_ALLOWED' } });
    expect(request('POST', '/face/compare')).toMatchObject({ owner: 'youtu', failure: { code: 'NOT_FOUND' } });
    expect(request('POST', '/a.jpg', { 'ci-process': 'DetectFace' })).toMatchObject({ owner: 'tencent-ci', failure: { code: 'METHOD_NOT_ALLOWED' } });
    expect(request('POST', '/ci/a.jpg')).toMatchObject({ owner: 'tencent-ci', failure: { code: 'METHOD_NOT_ALLOWED' } });
    expect(request('POST', '/rekognition', {}, { 'x-amz-target': 'RekognitionService.DetectLabels' })).toMatchObject({ owner: 'rekognition', failure: { code: 'NOT_FOUND' } });
    expect(request('POST', '/rekognition')).toMatchObject({ owner: 'rekognition', failure: { code: 'NOT_FOUND' } });
    expect(request('POST', '/face_detection/x')).toMatchObject({ owner: 'native', failure: { code: 'NOT_FOUND' } });
    expect(request('DELETE', '/nothing')).toMatchObject({ owner: 'native', failure: { code: 'NOT_FOUND' } });
  });

  it('routes needing the CI bucket are left out when the caller filters them (no bucket configured)', () => {
    const withoutCi = FACEKIT_ROUTES.filter((route) => !route.requiresCiBucket);
    expect(resolveRoute({ method: 'GET', path: '/a.jpg', query: { 'ci-process': 'DetectFace' }, headers: {} }, withoutCi).served).toBeUndefined();
  });
});
