/**
 * A pool's security domain against real SoftHSM2 tokens (docs/adr/0022): the domain key a download
 * imports is the security officer's trusted, only-wrapping, non-extractable key, and wraps the pool's
 * keys out as a generated one does; a quorum of officers restores it into another pool's token through
 * that pool's transfer key (an RSA key in its HSM, which decrypts the shares' content keys), under the
 * same handle, so the first pool's exported key imports into the second and still works.
 */
import { createHash, createPrivateKey, createPublicKey, verify } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadSecurityDomain, importUploadedDomain, restoreForUpload } from '../../lib/hsm/security-domain.ts';
import { Pkcs11PoolHsm } from '../../lib/pkcs11/pkcs11-hsm-keys.ts';
import { type KeyAndCertificate, selfSignedCertificate } from '../support/certificates.ts';
import { createSoftHsmToken, operatorSession, removeSoftHsmTokens, type SoftHsmToken } from '../support/softhsm.ts';

let source: SoftHsmToken;
let target: SoftHsmToken;
let officers: KeyAndCertificate[];

beforeAll(() => {
  source = createSoftHsmToken('pool-domain-source');
  target = createSoftHsmToken('pool-domain-target');
  officers = [1, 2, 3].map((i) => selfSignedCertificate({ key: { kind: 'rsa', bits: 2048 }, subject: `/CN=officer-${i}` }));
}, 60_000);

afterAll(() => {
  removeSoftHsmTokens();
});

function certificates() {
  return officers.map((officer, i) => {
    const { n, e } = officer.certificate.publicKey.export({ format: 'jwk' });
    return { kid: `officer-${i + 1}`, kty: 'RSA', n, e, x5c: [officer.certDer.toString('base64')] };
  });
}

function flags(token: SoftHsmToken, handle: string) {
  const { module, session, close } = operatorSession(token);
  try {
    module.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: handle }]);
    const [object] = module.C_FindObjects(session, 2);
    module.C_FindObjectsFinal(session);
    if (!object) throw new Error(`no object ${handle}`);
    const flag = (type: number) => (module.C_GetAttributeValue(session, object, [{ type }])[0]!.value as Buffer)[0] === 1;
    let value = 'readable';
    try {
      module.C_GetAttributeValue(session, object, [{ type: pkcs11js.CKA_VALUE }]);
    } catch (error) {
      value = /^(CKR_[A-Z_]+)/.exec((error as Error).message)?.[1] ?? 'error';
    }
    return {
      trusted: flag(pkcs11js.CKA_TRUSTED),
      extractable: flag(pkcs11js.CKA_EXTRACTABLE),
      sensitive: flag(pkcs11js.CKA_SENSITIVE),
      wrap: flag(pkcs11js.CKA_WRAP),
      encrypt: flag(pkcs11js.CKA_ENCRYPT),
      value,
    };
  } finally {
    close();
  }
}

describe("a pool's domain key from its security domain", () => {
  it('is imported trusted and non-extractable, restores into another pool through its transfer key, and carries its keys over', async () => {
    const first = new Pkcs11PoolHsm(source);
    const { blob, domainKey } = await downloadSecurityDomain('pool1', { certificates: certificates(), required: 2 }, first);
    expect(domainKey).toMatch(/^coffer-domain-[0-9a-f-]{36}$/);
    const expected = { trusted: true, extractable: false, sensitive: true, wrap: true, encrypt: false, value: 'CKR_ATTRIBUTE_SENSITIVE' };
    expect(flags(source, domainKey)).toEqual(expected);

    // A pool key leaves the first pool's HSM only wrapped under it.
    const key = await first.generateKey({ kty: 'RSA', size: 2048 });
    const exported = await first.exportKey(key.handle, domainKey);

    // The second pool: its transfer key is an RSA key in its own HSM.
    const second = new Pkcs11PoolHsm(target);
    const transfer = await second.generateKey({ kty: 'RSA', size: 2048 });
    if (transfer.publicKey.kty !== 'RSA') throw new Error('not RSA');
    const transferKey = {
      kty: 'RSA',
      n: transfer.publicKey.n.toString('base64url'),
      e: transfer.publicKey.e.toString('base64url'),
      kid: transfer.handle,
    };
    const upload = await restoreForUpload(
      blob,
      [officers[1]!, officers[2]!].map((o) => createPrivateKey(o.keyPem)),
      transferKey,
    );
    const restored = await importUploadedDomain(
      upload,
      transfer.handle,
      (encryptedKey) => second.unwrapKey(transfer.handle, 'RSA-OAEP', encryptedKey),
      second,
    );
    expect(restored).toBe(domainKey);
    expect(flags(target, domainKey)).toEqual(expected);
    // Once there, the same handle is refused a second import.
    await expect(
      importUploadedDomain(upload, transfer.handle, (k) => second.unwrapKey(transfer.handle, 'RSA-OAEP', k), second),
    ).rejects.toMatchObject({
      status: 409,
    });

    // The first pool's key, wrapped under the domain key, unwraps in the second pool's HSM and signs.
    const imported = await second.importKey(exported);
    expect(imported).toEqual(key);
    const digest = createHash('sha256').update('carried over').digest();
    const signature = await second.signDigest(key.handle, 'RS256', digest);
    if (key.publicKey.kty !== 'RSA') throw new Error('not RSA');
    const publicKey = createPublicKey({
      key: { kty: 'RSA', n: key.publicKey.n.toString('base64url'), e: key.publicKey.e.toString('base64url') },
      format: 'jwk',
    });
    expect(verify('sha256', Buffer.from('carried over'), publicKey, signature)).toBe(true);
  }, 60_000);

  it('refuses material of the wrong size and a handle that is no domain key', async () => {
    const hsm = new Pkcs11PoolHsm(source);
    await expect(hsm.importDomainKey(new Uint8Array(16))).rejects.toMatchObject({ status: 400 });
    await expect(hsm.importDomainKey(new Uint8Array(32), 'coffer-known-1')).rejects.toMatchObject({ status: 400 });
  });
});
