/**
 * Services read the clock of the vault a call is about: a vault whose clock was moved forward (the
 * local stack's time shift) dates its objects, judges nbf/exp and schedules purges in its own time,
 * and every other vault keeps real time.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { type ClockOffsets, vaultClock } from '../../../lib/core/clock.ts';
import { CertificateService } from '../../../lib/certificates/certificates.ts';
import { MemoryCertificateDocuments } from '../../../lib/certificates/memory-documents.ts';
import type { HsmKeys } from '../../../lib/keys/hsm.ts';
import { KeyService } from '../../../lib/keys/keys.ts';
import { SecretService } from '../../../lib/secrets/secrets.ts';
import { addressOf, answerOf, domainParts, testVault, vaultErrorOf } from '../../support/domain.ts';

const NOW = 1_800_000_000;
const DAY = 86_400;

const refusingHsm = new Proxy({} as HsmKeys, {
  get: (_target, method) => async () => {
    throw new Error(`the HSM port was called (${String(method)}) for a software key`);
  },
});

/** Offsets a test sets, by lower-case vault name and `*`, as the local stack's file holds them. */
function offsets(values: Record<string, number>): ClockOffsets {
  return { offsetSeconds: (vault) => (values[vault] ?? 0) + (values['*'] ?? 0) };
}

const shifted = addressOf(testVault({ name: 'shifted', vaultUri: 'https://shifted.vault.localhost/' }));
const other = addressOf(testVault({ name: 'other', vaultUri: 'https://other.vault.localhost/' }));

describe('vaultClock', () => {
  it('is real time plus the vault’s offset, found by the lower-case name; without offsets it is the clock itself', () => {
    const clock = vaultClock(offsets({ shifted: 3_600 }), () => NOW);
    expect(clock('shifted')).toBe(NOW + 3_600);
    expect(clock('Shifted')).toBe(NOW + 3_600);
    expect(clock('other')).toBe(NOW);
    expect(vaultClock(undefined, () => NOW)('shifted')).toBe(NOW);
  });
});

describe('services on a shifted vault clock', () => {
  let values: Record<string, number>;
  let parts: ReturnType<typeof domainParts>;
  let secrets: SecretService;
  let keys: KeyService;
  let certificates: CertificateService;

  beforeEach(() => {
    values = {};
    parts = domainParts();
    const clock = vaultClock(offsets(values), () => NOW);
    secrets = new SecretService(parts.store, parts.sealer, parts.backups, clock);
    keys = new KeyService(parts.store, parts.sealer, parts.backups, refusingHsm, () => undefined, {}, clock);
    certificates = new CertificateService({
      objects: parts.store,
      sealer: parts.sealer,
      backups: parts.backups,
      documents: new MemoryCertificateDocuments(),
      hsm: refusingHsm,
      warn: () => undefined,
      clock,
    });
  });

  it('dates a secret’s versions, updates and deletion in the vault’s own time', async () => {
    values.shifted = 10 * DAY;
    const there = await secrets.set(shifted, 's', { value: 'v' });
    const here = await secrets.set(other, 's', { value: 'v' });
    expect(there.attributes).toMatchObject({ created: NOW + 10 * DAY, updated: NOW + 10 * DAY });
    expect(here.attributes).toMatchObject({ created: NOW, updated: NOW });

    values.shifted += DAY;
    const updated = await secrets.update(shifted, 's', undefined, { contentType: 'text/plain' });
    expect(updated.attributes).toMatchObject({ created: NOW + 10 * DAY, updated: NOW + 11 * DAY });

    const deleted = await secrets.delete(shifted, 's');
    expect(deleted).toMatchObject({ deletedDate: NOW + 11 * DAY, scheduledPurgeDate: NOW + 11 * DAY + 7 * DAY });
    expect(await secrets.delete(other, 's')).toMatchObject({ deletedDate: NOW, scheduledPurgeDate: NOW + 7 * DAY });
  });

  it('refuses a key’s operations once the vault’s time passes its exp, and only in that vault', async () => {
    const exp = NOW + 60;
    for (const at of [shifted, other]) await keys.create(at, 'k', { kty: 'RSA', attributes: { exp } });
    const encrypt = (at: typeof shifted) => keys.operate(at, 'k', undefined, 'encrypt', { alg: 'RSA-OAEP', value: 'AQID' });
    await expect(encrypt(shifted)).resolves.toMatchObject({ name: 'k' });

    values.shifted = 61;
    expect(answerOf(await vaultErrorOf(encrypt(shifted)))).toEqual({ status: 403, code: 'Forbidden', innerCode: 'KeyExpired' });
    await expect(encrypt(other)).resolves.toMatchObject({ name: 'k' });
  });

  it('uses a key not yet valid once the vault’s time reaches its nbf', async () => {
    await keys.create(shifted, 'later', { kty: 'RSA', attributes: { nbf: NOW + DAY } });
    const encrypt = () => keys.operate(shifted, 'later', undefined, 'encrypt', { alg: 'RSA-OAEP', value: 'AQID' });
    expect(answerOf(await vaultErrorOf(encrypt()))).toMatchObject({ status: 403, innerCode: 'KeyNotYetValid' });
    values.shifted = DAY;
    await expect(encrypt()).resolves.toMatchObject({ name: 'later' });
  });

  it('dates a rotation and the expiry its policy gives the new version in the vault’s time', async () => {
    await keys.create(shifted, 'rotating', { kty: 'EC', crv: 'P-256' });
    await keys.setRotationPolicy(shifted, 'rotating', { attributes: { expiryTime: 'P30D' } });
    values.shifted = 100 * DAY;
    const rotated = await keys.rotate(shifted, 'rotating');
    expect(rotated.attributes).toMatchObject({ created: NOW + 100 * DAY, exp: NOW + 130 * DAY });
  });

  it('dates certificate settings in the vault’s time: the wildcard offset moves every vault', async () => {
    values['*'] = 5 * DAY;
    const issuer = await certificates.setIssuer(shifted, 'self', { provider: 'Self' });
    expect(issuer.attributes).toMatchObject({ created: NOW + 5 * DAY, updated: NOW + 5 * DAY });
    values.shifted = DAY;
    const again = await certificates.setIssuer(shifted, 'self', { provider: 'Self' });
    expect(again.attributes).toMatchObject({ created: NOW + 5 * DAY, updated: NOW + 6 * DAY });
    expect((await certificates.setIssuer(other, 'self', { provider: 'Self' })).attributes).toMatchObject({ created: NOW + 5 * DAY });
  });
});
