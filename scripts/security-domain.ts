/**
 * The security officers' side of a managed HSM pool's security domain (docs/adr/0022-pool-data-plane.md),
 * which no client on this machine speaks:
 *
 *   npx tsx scripts/security-domain.ts restore --domain <download.json> --key <officer1.pem> --key <officer2.pem> ...
 *       --transfer-key <transfer-key.json> [--out <upload.json>]
 *
 * `--domain` is what `POST /securitydomain/download` answered (`{"value": "..."}`, or the value
 * itself); each `--key` is one officer's private key (PEM, PKCS#8 or PKCS#1), as many as the domain's
 * quorum; `--transfer-key` is what the target pool's `GET /securitydomain/upload` answered
 * (`{"transfer_key": {...}}`, or the JWK itself). The output (`{"value": "..."}`, to standard output
 * without `--out`) is the body of the target pool's `POST /securitydomain/upload`. The shares are in
 * the clear only in this process, and only the target pool's HSM can open what it writes.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { restoreForUpload, type SecurityDomainBlob } from '../lib/hsm/security-domain.ts';

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

/** `{value: "<blob JSON>"}` as the service answers it, or the blob itself. */
function domainOf(document: unknown): SecurityDomainBlob {
  const value = (document as { value?: unknown }).value;
  return (typeof value === 'string' ? JSON.parse(value) : document) as SecurityDomainBlob;
}

function transferKeyOf(document: unknown): { kty: string; n: string; e: string; kid: string } {
  const key = ((document as { transfer_key?: unknown }).transfer_key ?? document) as { kty?: string; n?: string; e?: string; kid?: string };
  if (key.kty !== 'RSA' || !key.n || !key.e || !key.kid) throw new Error('--transfer-key: not an RSA JWK with kid, n and e');
  return { kty: key.kty, n: key.n, e: key.e, kid: key.kid };
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      domain: { type: 'string' },
      key: { type: 'string', multiple: true },
      'transfer-key': { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (positionals[0] !== 'restore' || !values.domain || !values.key?.length || !values['transfer-key']) {
    throw new Error('usage: security-domain.ts restore --domain <file> --key <pem> [--key <pem> ...] --transfer-key <file> [--out <file>]');
  }
  const keys = values.key.map((path) => createPrivateKey(readFileSync(path)));
  const upload = await restoreForUpload(domainOf(readJson(values.domain)), keys, transferKeyOf(readJson(values['transfer-key'])));
  const body = `${JSON.stringify({ value: JSON.stringify(upload) })}\n`;
  if (values.out) writeFileSync(values.out, body, { mode: 0o600 });
  else process.stdout.write(body);
}

main().catch((error: unknown) => {
  process.stderr.write(`security-domain: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
