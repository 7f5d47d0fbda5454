import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/runtime/config.ts';

describe('configuration errors', () => {
  it('name each wrong variable and say what is wrong with it, in words', () => {
    const env = {
      COFFER_TRUSTED_ISSUERS:
        '[{"tenantId":"t","issuer":"not a url","jwksUri":"https://idp.example/keys","audiences":["a"],"authority":"https://idp.example/t"}]',
    };
    expect(() => loadConfig(env)).toThrow(/objectsTable/);
    expect(() => loadConfig(env)).toThrow(/expected string, received undefined/);
    expect(() => loadConfig(env)).toThrow(/Invalid URL\n\s+→ at trustedIssuers\[0\]\.issuer/);
  });
});
