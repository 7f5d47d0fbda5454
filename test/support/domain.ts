import { VaultError } from '../../lib/core/errors.ts';
import { EnvelopeCipher } from '../../lib/crypto/envelope.ts';
import { BackupProtector } from '../../lib/objects/backup.ts';
import { MemoryObjectStore } from '../../lib/objects/memory-store.ts';
import { ObjectSealer } from '../../lib/objects/sealing.ts';
import type { Vault, VaultAddress } from '../../lib/vaults/vault.ts';
import { CountingDataKeys } from './data-keys.ts';

/**
 * What a domain service is built on, without AWS: the in-memory object store, real envelope
 * encryption over an in-process stand-in for KMS, and backups sealed the way production seals them.
 * One cipher serves every vault and the backups, as one container's does.
 */
export function domainParts() {
  const dataKeys = new CountingDataKeys();
  const cipher = new EnvelopeCipher(dataKeys);
  return {
    dataKeys,
    store: new MemoryObjectStore(),
    sealer: new ObjectSealer(cipher),
    backups: new BackupProtector(cipher, 'backup-key'),
  };
}

/** A clock the test moves: Unix seconds, starting at `start`. */
export function testClock(start = 1_700_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(seconds: number) {
      now += seconds;
    },
  };
}

export function testVault(overrides: Partial<Vault> = {}): Vault {
  return {
    name: 'unitvault',
    tenantId: '11111111-1111-1111-1111-111111111111',
    kmsKeyArn: 'arn:aws:kms:eu-west-1:000000000000:key/unitvault',
    sku: 'standard',
    softDeleteRetentionDays: 7,
    purgeProtection: false,
    subscriptionId: '00000000-0000-0000-0000-0000000000aa',
    resourceGroup: 'unit-rg',
    location: 'eu-west-1',
    vaultUri: 'https://unitvault.vault.localhost/',
    enableRbacAuthorization: true,
    accessPolicies: [],
    publicNetworkAccess: 'Enabled',
    tags: {},
    revision: 1,
    pagingKeyCiphertext: new Uint8Array(),
    created: 1_700_000_000,
    ...overrides,
  };
}

export function addressOf(vault: Vault): VaultAddress {
  return { vault, baseUrl: `https://${vault.name}.vault.localhost` };
}

/** The VaultError a call fails with; fails the test if it succeeds or throws anything else. */
export async function vaultErrorOf(call: Promise<unknown>): Promise<VaultError> {
  const outcome = await call.then(
    () => ({ failed: false as const }),
    (error: unknown) => ({ failed: true as const, error }),
  );
  if (!outcome.failed) throw new Error('expected the call to fail with a VaultError, and it succeeded');
  if (!(outcome.error instanceof VaultError)) throw outcome.error;
  return outcome.error;
}

/** A VaultError's answer to the caller: status, code and inner code. */
export function answerOf(error: VaultError) {
  return { status: error.status, code: error.code, innerCode: error.innerCode };
}
