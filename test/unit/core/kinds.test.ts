import { describe, expect, it } from 'vitest';
import { type Collection, collectionOfSegment, KINDS } from '../../../lib/core/kinds.ts';

describe('KINDS', () => {
  it('names each kind, its collection and its deleted collection as Key Vault does', () => {
    expect(KINDS).toEqual({
      secrets: { kind: 'Secret', collection: 'secrets', deletedCollection: 'deletedsecrets' },
      keys: { kind: 'Key', collection: 'keys', deletedCollection: 'deletedkeys' },
      certificates: { kind: 'Certificate', collection: 'certificates', deletedCollection: 'deletedcertificates' },
    });
  });

  it('keys each row by its own collection name', () => {
    for (const [key, row] of Object.entries(KINDS)) {
      expect(row.collection).toBe(key);
      expect(row.deletedCollection).toBe(`deleted${key}`);
    }
  });
});

describe('collectionOfSegment', () => {
  it.each<[string, Collection]>([
    ['secrets', 'secrets'],
    ['deletedsecrets', 'secrets'],
    ['keys', 'keys'],
    ['deletedkeys', 'keys'],
    ['certificates', 'certificates'],
    ['deletedcertificates', 'certificates'],
    ['Secrets', 'secrets'],
    ['DELETEDKEYS', 'keys'],
  ])('%s is the %s collection', (segment, collection) => {
    expect(collectionOfSegment(segment)).toBe(collection);
  });

  it.each(['', 'secret', 'deleted', 'widgets', 'deletedwidgets', 'keys ', 'storage'])('%j is none', (segment) => {
    expect(collectionOfSegment(segment)).toBeUndefined();
  });
});
