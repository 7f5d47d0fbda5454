/**
 * Key Vault's PEM secrets (application/x-pem-file): a PKCS#8 "PRIVATE KEY" block, then the chain's
 * "CERTIFICATE" blocks, leaf first.
 */
import type { CertificateContents } from './pkcs12.ts';
import { orderChain } from './x509.ts';

/** No certificate, a block that does not close, or base64 that is not. */
export class PemMalformed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PemMalformed';
  }
}

/** A key block other than PKCS#8: Key Vault takes PEM keys as "PRIVATE KEY" only. */
export class PemUnsupportedKey extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PemUnsupportedKey';
  }
}

function block(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export function buildPem(contents: CertificateContents): string {
  const blocks = contents.privateKeyPkcs8 ? [block('PRIVATE KEY', contents.privateKeyPkcs8)] : [];
  for (const certificate of orderChain(contents.chain)) blocks.push(block('CERTIFICATE', certificate));
  return blocks.join('');
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(label: string, body: string): Uint8Array {
  // RFC 7468 allows headers only in legacy encrypted blocks, which are refused before this.
  const compact = body.replace(/\s+/g, '');
  if (compact === '' || compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new PemMalformed(`A PEM "${label}" block's base64 is not valid.`);
  }
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

export function readPem(text: string): CertificateContents {
  const certificates: Uint8Array[] = [];
  let privateKeyPkcs8: Uint8Array | undefined;
  for (const match of text.matchAll(BLOCK)) {
    const [, label = '', body = '', endLabel] = match;
    if (label !== endLabel) throw new PemMalformed(`A PEM "${label}" block ends as "${endLabel}".`);
    if (label === 'CERTIFICATE') {
      certificates.push(decodeBase64(label, body));
    } else if (label === 'PRIVATE KEY') {
      if (privateKeyPkcs8) throw new PemMalformed('The PEM holds more than one private key.');
      privateKeyPkcs8 = decodeBase64(label, body);
    } else if (label.endsWith('PRIVATE KEY')) {
      throw new PemUnsupportedKey(`A PEM "${label}" block is not supported: the private key must be PKCS#8 ("PRIVATE KEY").`);
    }
    // Other blocks (parameters, CRLs) carry nothing a certificate is made of.
  }
  if (certificates.length === 0) throw new PemMalformed('The PEM holds no certificate.');
  let chain: Uint8Array[];
  try {
    chain = orderChain(certificates);
  } catch {
    throw new PemMalformed('A PEM "CERTIFICATE" block is not an X.509 certificate.');
  }
  return privateKeyPkcs8 ? { privateKeyPkcs8, chain } : { chain };
}
