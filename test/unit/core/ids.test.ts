import { describe, expect, it } from 'vitest';
import { deletedObjectId, objectId, parseObjectId } from '../../../lib/core/ids.ts';
import type { Collection } from '../../../lib/core/kinds.ts';

const VAULT = 'https://myvault.vault.localhost';
const VERSION = '0123456789abcdef0123456789abcdef';
const COLLECTIONS: Collection[] = ['secrets', 'keys', 'certificates'];

describe('objectId and deletedObjectId', () => {
  it('print Key Vault ids from the vault URL', () => {
    expect(objectId(VAULT, 'secrets', 'db-password')).toBe(`${VAULT}/secrets/db-password`);
    expect(objectId(VAULT, 'keys', 'signer', VERSION)).toBe(`${VAULT}/keys/signer/${VERSION}`);
    expect(objectId('https://localhost:8443', 'certificates', 'tls')).toBe('https://localhost:8443/certificates/tls');
    expect(deletedObjectId(VAULT, 'secrets', 'db-password')).toBe(`${VAULT}/deletedsecrets/db-password`);
    expect(deletedObjectId(VAULT, 'keys', 'signer')).toBe(`${VAULT}/deletedkeys/signer`);
  });

  it('leave the version out when it is empty', () => {
    expect(objectId(VAULT, 'keys', 'signer', '')).toBe(`${VAULT}/keys/signer`);
  });
});

describe('parseObjectId', () => {
  it.each(COLLECTIONS)('reads back what objectId and deletedObjectId print (%s)', (collection) => {
    expect(parseObjectId(objectId(VAULT, collection, 'Name-1'))).toEqual({ vaultUrl: VAULT, collection, deleted: false, name: 'Name-1' });
    expect(parseObjectId(objectId(VAULT, collection, 'Name-1', VERSION))).toEqual({
      vaultUrl: VAULT,
      collection,
      deleted: false,
      name: 'Name-1',
      version: VERSION,
    });
    expect(parseObjectId(deletedObjectId(VAULT, collection, 'Name-1'))).toEqual({ vaultUrl: VAULT, collection, deleted: true, name: 'Name-1' });
  });

  it('keeps a port in the vault URL and reads the collection segment case-insensitively', () => {
    const local = objectId('https://localhost:8443', 'keys', 'k', VERSION);
    expect(parseObjectId(local)).toMatchObject({ vaultUrl: 'https://localhost:8443', collection: 'keys', version: VERSION });
    expect(parseObjectId(`${VAULT}/Secrets/s`)).toMatchObject({ collection: 'secrets', deleted: false, name: 's' });
    expect(parseObjectId(`${VAULT}/DeletedKeys/k`)).toMatchObject({ collection: 'keys', deleted: true, name: 'k' });
  });

  it.each([
    ['not a URL', 'db-password'],
    ['an empty string', ''],
    ['plain http', `http://myvault.vault.localhost/secrets/db-password`],
    ['another scheme', `ftp://myvault.vault.localhost/secrets/db-password`],
    ['a query', `${VAULT}/secrets/db-password?api-version=7.5`],
    ['a fragment', `${VAULT}/secrets/db-password#latest`],
    ['a segment past the version', `${VAULT}/secrets/db-password/${VERSION}/extra`],
    ['an unknown collection', `${VAULT}/widgets/db-password`],
    ['a singular collection', `${VAULT}/secret/db-password`],
    ['no name', `${VAULT}/secrets`],
    ['an empty name', `${VAULT}/secrets//${VERSION}`],
    ['the vault alone', `${VAULT}/`],
    ['a version on a deleted id', `${VAULT}/deletedsecrets/db-password/${VERSION}`],
  ])('refuses %s', (_what, id) => {
    expect(parseObjectId(id)).toBeUndefined();
  });
});
