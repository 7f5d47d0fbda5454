import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matchRoute, routes } from '../../lib/http/routes.ts';

describe('route table matching', () => {
  it('prefers a literal segment over a parameter, as API Gateway does', () => {
    expect(matchRoute('GET', '/secrets/db-password/versions').match?.route.operation).toBe('GetSecretVersions');
    expect(matchRoute('GET', '/secrets/db-password/0123456789abcdef0123456789abcdef').match?.route.operation).toBe('GetSecret');
    expect(matchRoute('POST', '/secrets/restore').match?.route.operation).toBe('RestoreSecret');
  });

  it('treats an empty or missing version as the latest, with or without a trailing slash', () => {
    for (const path of ['/secrets/a', '/secrets/a/']) {
      const { match } = matchRoute('GET', path);
      expect(match?.route.operation).toBe('GetSecret');
      expect(match?.pathParameters).toEqual({ name: 'a', version: '' });
    }
  });

  it('matches literal segments case-insensitively and decodes parameters', () => {
    const { match } = matchRoute('POST', '/DeletedSecrets/My-Secret/Recover');
    expect(match?.route.operation).toBe('RecoverDeletedSecret');
    expect(match?.pathParameters.name).toBe('My-Secret');
  });

  it('tells an unknown path from a known path with the wrong method', () => {
    expect(matchRoute('GET', '/nothing/here')).toEqual({ match: undefined, pathExists: false });
    const wrongMethod = matchRoute('PUT', '/deletedsecrets');
    expect(wrongMethod.match).toBeUndefined();
    expect(wrongMethod.pathExists).toBe(true);
  });

  it('has one entry per operation and per method+path', () => {
    const operations = routes.map((r) => r.operation);
    expect(new Set(operations).size).toBe(operations.length);
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('names every handler file after the kebab-case of its operation id', () => {
    for (const route of routes) {
      const kebab = route.operation.replace(/(?<!^)([A-Z])/g, '-$1').toLowerCase();
      expect(route.handler.split('/').at(-1), route.operation).toBe(kebab);
      expect(existsSync(new URL(`../../functions/${route.handler}.ts`, import.meta.url)), route.handler).toBe(true);
    }
  });
});
