import { describe, expect, it } from 'vitest';
import type { CertificateDocumentKind, CertificateDocuments } from '../../lib/certificates/documents.ts';
import { allPages } from './versions.ts';

/**
 * What every CertificateDocuments store must do: test/unit/certificates/memory-documents.test.ts runs
 * these tests against the in-memory store and test/integration/certificate-documents.test.ts against
 * DynamoDB Local, so certificate domain tests on the in-memory store stand for the real one.
 *
 * `documents()` is called once per test; every test works in a vault of its own.
 */
export function describeCertificateDocumentsContract(label: string, documents: () => CertificateDocuments): void {
  describe(`CertificateDocuments contract: ${label}`, () => {
    let vaults = 0;
    function subject() {
      vaults += 1;
      return { store: documents(), vault: `certdocs${vaults}-${Math.random().toString(36).slice(2, 10)}` };
    }
    const kinds: CertificateDocumentKind[] = ['contacts', 'issuers', 'operations'];

    it('writes a document and reads it back by its case-insensitive name, in the casing first written', async () => {
      const { store, vault } = subject();
      await store.put(vault, 'issuers', 'MyIssuer', { provider: 'Test', enabled: true, created: 1000, orgDetails: { adminDetails: [] } });
      expect(await store.get(vault, 'issuers', 'myissuer')).toEqual({
        name: 'MyIssuer',
        document: { provider: 'Test', enabled: true, created: 1000, orgDetails: { adminDetails: [] } },
      });
      expect(await store.get(vault, 'issuers', 'other')).toBeUndefined();

      // A later write replaces the document whole and keeps the first casing.
      await store.put(vault, 'issuers', 'MYISSUER', { provider: 'DigiCert' });
      expect(await store.get(vault, 'issuers', 'MyIssuer')).toEqual({ name: 'MyIssuer', document: { provider: 'DigiCert' } });
    });

    it('keeps vaults and kinds apart', async () => {
      const { store, vault } = subject();
      await store.put(vault, 'operations', 'shared', { status: 'inProgress' });
      for (const kind of ['contacts', 'issuers'] as const) expect(await store.get(vault, kind, 'shared')).toBeUndefined();
      expect(await store.get(`${vault}-other`, 'operations', 'shared')).toBeUndefined();
      expect((await store.list(`${vault}-other`, 'operations', 10)).items).toEqual([]);
      for (const kind of kinds) await store.put(vault, kind, 'each', { kind });
      for (const kind of kinds) expect((await store.get(vault, kind, 'each'))?.document).toEqual({ kind });
    });

    it('stores bytes as bytes, leaves undefined values out, and stores copies', async () => {
      const { store, vault } = subject();
      const sealed = new Uint8Array([1, 2, 3, 250]);
      const document = { password: sealed, note: undefined, nested: { kept: 'yes', dropped: undefined }, list: ['a', 2, false, null] };
      await store.put(vault, 'issuers', 'sealed', document);
      sealed.fill(0);
      document.nested.kept = 'changed';
      const read = (await store.get(vault, 'issuers', 'sealed'))!;
      expect(read.document).toEqual({ password: new Uint8Array([1, 2, 3, 250]), nested: { kept: 'yes' }, list: ['a', 2, false, null] });
      expect(read.document.password).toBeInstanceOf(Uint8Array);
      (read.document.nested as Record<string, unknown>).kept = 'changed again';
      expect((await store.get(vault, 'issuers', 'sealed'))!.document.nested).toEqual({ kept: 'yes' });
    });

    it('deletes a document, answering whether there was one', async () => {
      const { store, vault } = subject();
      await store.put(vault, 'contacts', 'contacts', { contacts: [{ email: 'a@example.com' }] });
      expect(await store.delete(vault, 'contacts', 'CONTACTS')).toBe(true);
      expect(await store.get(vault, 'contacts', 'contacts')).toBeUndefined();
      expect(await store.delete(vault, 'contacts', 'contacts')).toBe(false);
      expect(await store.delete(vault, 'issuers', 'never')).toBe(false);

      // A name written again after its delete starts over, casing included.
      await store.put(vault, 'contacts', 'Contacts', { contacts: [] });
      expect(await store.get(vault, 'contacts', 'contacts')).toEqual({ name: 'Contacts', document: { contacts: [] } });
    });

    it('pages in lowercased-name order, a cursor only while more follow, no duplicates or gaps', async () => {
      const { store, vault } = subject();
      const names = ['delta', 'Alpha', 'echo', 'charlie', 'Bravo', 'golf', 'foxtrot'];
      for (const [i, name] of names.entries()) await store.put(vault, 'issuers', name, { i });
      const pages = await allPages((cursor) => store.list(vault, 'issuers', 3, cursor));
      expect(pages.map((p) => p.items.length)).toEqual([3, 3, 1]);
      expect(pages.map((p) => p.cursor !== undefined)).toEqual([true, true, false]);
      expect(pages.flatMap((p) => p.items.map((d) => d.name))).toEqual(['Alpha', 'Bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf']);
      expect(pages[0]!.items[0]).toEqual({ name: 'Alpha', document: { i: 1 } });

      // A last page exactly full carries no cursor to an empty page.
      expect((await store.list(vault, 'issuers', 7)).cursor).toBeUndefined();
      expect((await store.list(vault, 'issuers', 6)).cursor).toBeDefined();
      expect(await store.list(vault, 'operations', 5)).toEqual({ items: [] });
    });
  });
}
