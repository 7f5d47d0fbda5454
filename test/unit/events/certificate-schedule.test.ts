/**
 * A certificate's lifetime action as scheduled work, on the memory stores with the real certificate
 * services: AutoRenew issues a new version from the stored policy once, EmailContacts publishes
 * CertificateNearExpiry at the action's time instead of 30 days before expiry.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../lib/audit/audit.ts';
import { CertificateService } from '../../../lib/certificates/certificates.ts';
import { CertificateIssuance } from '../../../lib/certificates/issuance.ts';
import { MemoryCertificateDocuments } from '../../../lib/certificates/memory-documents.ts';
import type { EventGridEvent } from '../../../lib/events/events.ts';
import { MemoryDueStore } from '../../../lib/events/memory-schedule.ts';
import { ServiceActions } from '../../../lib/events/scheduled-actions.ts';
import { ScheduleKeeper } from '../../../lib/events/schedule.ts';
import { Scheduler } from '../../../lib/events/scheduler.ts';
import type { HsmKeys } from '../../../lib/keys/hsm.ts';
import type { Vault } from '../../../lib/vaults/vault.ts';
import { addressOf, domainParts, testClock, testVault } from '../../support/domain.ts';

const DAY = 86_400;
const refusingHsm = new Proxy({} as HsmKeys, {
  get: () => async () => {
    throw new Error('the HSM port was called for a software certificate');
  },
});

let clock: ReturnType<typeof testClock>;
let certificates: CertificateService;
let issuance: CertificateIssuance;
let keeper: ScheduleKeeper;
let scheduler: Scheduler;
let vault: Vault;
let published: EventGridEvent[];
let audit: AuditRecord[];

beforeEach(() => {
  clock = testClock(Math.floor(Date.now() / 1000));
  const parts = domainParts();
  const certificateParts = {
    objects: parts.store,
    sealer: parts.sealer,
    backups: parts.backups,
    documents: new MemoryCertificateDocuments(),
    hsm: refusingHsm,
    warn: () => undefined,
    clock: clock.now,
  };
  certificates = new CertificateService(certificateParts);
  issuance = new CertificateIssuance(certificateParts);
  vault = testVault({ name: 'certvault' });
  const vaults = { getVault: async (name: string) => (name === vault.name ? vault : undefined) };
  const due = new MemoryDueStore();
  keeper = new ScheduleKeeper({ objects: parts.store, vaults }, due);
  published = [];
  audit = [];
  const unused = async () => {
    throw new Error('not part of this test');
  };
  scheduler = new Scheduler(
    due,
    { objects: parts.store, vaults },
    new ServiceActions({
      secrets: { purge: unused },
      keys: { rotate: unused, purge: unused },
      certificates,
      issuance,
      vaults: { purge: unused },
    }),
    {
      publish: async (events) => {
        published.push(...events);
        return { failed: [] };
      },
    },
    { write: async (record) => void audit.push(record) },
    { vault: () => clock.now(), real: () => clock.now(), lookahead: () => 0 },
  );
});

function policy(actionType: 'AutoRenew' | 'EmailContacts') {
  return {
    key_props: { kty: 'EC', crv: 'P-256' },
    x509_props: { subject: 'CN=renew.example', validity_months: 12 },
    issuer: { name: 'Self' },
    lifetime_actions: [{ trigger: { days_before_expiry: 30 }, action: { action_type: actionType } }],
  };
}

const keep = () => keeper.keep({ type: 'object', vault: vault.name, collection: 'certificates', name: 'web' });

describe('a certificate lifetime action', () => {
  it('AutoRenew makes one new version from the stored policy when it falls due', async () => {
    await issuance.create(addressOf(vault), 'web', { policy: policy('AutoRenew') });
    const first = await certificates.get(addressOf(vault), 'web', undefined);
    await keep();
    const renewAt = first.attributes.exp! - 30 * DAY;
    clock.advance(renewAt - clock.now() - 1);
    await scheduler.run();
    expect((await certificates.listVersions(addressOf(vault), 'web', 25)).items).toHaveLength(1);
    clock.advance(1);
    await Promise.all([scheduler.run(), scheduler.run()]);
    await scheduler.run();
    const versions = (await certificates.listVersions(addressOf(vault), 'web', 25)).items;
    expect(versions).toHaveLength(2);
    const renewed = await certificates.get(addressOf(vault), 'web', undefined);
    expect(renewed.version).not.toBe(first.version);
    expect(renewed.attributes.exp).toBeGreaterThan(first.attributes.exp!);
    // Its NearExpiry (30 days before exp, as no EmailContacts action says otherwise) fell due with it.
    expect(audit.map((r) => [r.operationName, r.resultType]).sort()).toEqual([
      ['ScheduledCertificateNearExpiryEvent', 'Success'],
      ['ScheduledCertificateRenew', 'Success'],
    ]);
    // The renewed version's own renewal is a year on, not now.
    await keep();
    await scheduler.run();
    expect((await certificates.listVersions(addressOf(vault), 'web', 25)).items).toHaveLength(2);
  });

  it('EmailContacts publishes CertificateNearExpiry at the action time, once', async () => {
    await issuance.create(addressOf(vault), 'web', { policy: policy('EmailContacts') });
    const first = await certificates.get(addressOf(vault), 'web', undefined);
    await keep();
    clock.advance(first.attributes.exp! - 30 * DAY - clock.now());
    await scheduler.run();
    await scheduler.run();
    expect(published.map((e) => [e.eventType, e.subject])).toEqual([['Microsoft.KeyVault.CertificateNearExpiry', 'web']]);
    expect((await certificates.listVersions(addressOf(vault), 'web', 25)).items).toHaveLength(1);
  });
});
