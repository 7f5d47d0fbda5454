/**
 * Registering tenants, service principals (client secret and/or certificate) and managed
 * identities: what the local stack's bootstrap and the tests use to set up who can get tokens.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../files.ts';
import { createClientAuthCertificate } from '../tls.ts';
import { certificateThumbprints, hashSecret, newClientSecret } from './client-auth.ts';
import type { ManagedIdentityRecord, Registry, ServicePrincipalRecord } from './registry.ts';

export interface ServicePrincipal {
  tenantId: string;
  clientId: string;
  objectId: string;
  displayName: string;
  /** Only returned by registerServicePrincipal; only its hash is stored. */
  clientSecret?: string;
  /** PEM with the certificate followed by its PKCS#8 private key, as ClientCertificateCredential wants it. */
  certificateFile?: string;
}

export interface ManagedIdentity {
  tenantId: string;
  clientId: string;
  objectId: string;
  displayName: string;
  systemAssigned: boolean;
}

export interface Directory {
  /** A persisted tenant id (GUID), created on first call. */
  ensureDefaultTenant(): Promise<string>;
  createTenant(displayName?: string): Promise<string>;
  /** `secret` defaults to true unless a certificate is requested. */
  registerServicePrincipal(tenantId: string, init: { displayName: string; secret?: boolean; certificate?: boolean }): Promise<ServicePrincipal>;
  /**
   * There is one system-assigned identity (the one the endpoint uses without client_id);
   * registering it again with the same tenant and name returns the existing one.
   */
  registerManagedIdentity(tenantId: string, init: { displayName: string; systemAssigned?: boolean }): Promise<ManagedIdentity>;
  listServicePrincipals(tenantId: string): ServicePrincipal[];
  listManagedIdentities(tenantId: string): ManagedIdentity[];
}

/** The directory over a registry; certificate files go under `dataDir`. */
export function directory(registry: Registry, dataDir: string): Directory {
  function requireTenant(tenantId: string): string {
    const tenant = registry.tenant(tenantId);
    if (!tenant) throw new Error(`Unknown tenant ${tenantId}; create it with ensureDefaultTenant() or createTenant()`);
    return tenant.tenantId;
  }

  const toServicePrincipal = (record: ServicePrincipalRecord): ServicePrincipal => ({
    tenantId: record.tenantId,
    clientId: record.clientId,
    objectId: record.objectId,
    displayName: record.displayName,
    ...(record.certificateFile ? { certificateFile: join(dataDir, record.certificateFile) } : {}),
  });
  const toManagedIdentity = (record: ManagedIdentityRecord): ManagedIdentity => ({
    tenantId: record.tenantId,
    clientId: record.clientId,
    objectId: record.objectId,
    displayName: record.displayName,
    systemAssigned: record.systemAssigned,
  });

  return {
    async ensureDefaultTenant() {
      return registry.update((draft) => {
        if (draft.defaultTenantId) return draft.defaultTenantId;
        const tenantId = randomUUID();
        draft.tenants[tenantId] = { tenantId, displayName: 'Coffer development', createdAt: new Date().toISOString() };
        draft.defaultTenantId = tenantId;
        return tenantId;
      });
    },

    async createTenant(displayName = 'Coffer development') {
      const tenantId = randomUUID();
      await registry.update((draft) => {
        draft.tenants[tenantId] = { tenantId, displayName, createdAt: new Date().toISOString() };
      });
      return tenantId;
    },

    async registerServicePrincipal(tenantIdInput, init) {
      const tenantId = requireTenant(tenantIdInput);
      const displayName = requireName(init.displayName);
      const clientId = randomUUID();
      const objectId = randomUUID();
      const createdAt = new Date().toISOString();
      const record: ServicePrincipalRecord = { tenantId, clientId, objectId, displayName, createdAt, secrets: [], certificates: [] };

      let clientSecret: string | undefined;
      if (init.secret ?? !init.certificate) {
        clientSecret = newClientSecret();
        record.secrets.push({ keyId: randomUUID(), hash: await hashSecret(clientSecret), createdAt });
      }
      if (init.certificate) {
        const { certPem, keyPem } = await createClientAuthCertificate(displayName);
        record.certificates.push({ keyId: randomUUID(), certificatePem: certPem, ...certificateThumbprints(certPem) });
        record.certificateFile = join('certificates', `${clientId}.pem`);
        // The private key half goes to a file for the client (0600), never into the registry.
        await writeFileAtomic(join(dataDir, record.certificateFile), certPem + keyPem, 0o600);
      }
      await registry.update((draft) => {
        draft.servicePrincipals[clientId] = record;
      });
      return { ...toServicePrincipal(record), ...(clientSecret ? { clientSecret } : {}) };
    },

    async registerManagedIdentity(tenantIdInput, init) {
      const tenantId = requireTenant(tenantIdInput);
      const displayName = requireName(init.displayName);
      const systemAssigned = init.systemAssigned ?? false;
      const record = await registry.update((draft) => {
        if (systemAssigned) {
          const existing = Object.values(draft.managedIdentities).find((mi) => mi.systemAssigned);
          if (existing) {
            if (existing.tenantId === tenantId && existing.displayName === displayName) return existing;
            throw new Error(`A system-assigned managed identity already exists (${existing.displayName}, client id ${existing.clientId})`);
          }
        }
        const created: ManagedIdentityRecord = {
          tenantId,
          clientId: randomUUID(),
          objectId: randomUUID(),
          displayName,
          systemAssigned,
          createdAt: new Date().toISOString(),
        };
        draft.managedIdentities[created.clientId] = created;
        return created;
      });
      return toManagedIdentity(record);
    },

    listServicePrincipals(tenantId) {
      const wanted = tenantId.toLowerCase();
      return Object.values(registry.current.servicePrincipals)
        .filter((sp) => sp.tenantId === wanted)
        .map(toServicePrincipal);
    },

    listManagedIdentities(tenantId) {
      const wanted = tenantId.toLowerCase();
      return Object.values(registry.current.managedIdentities)
        .filter((mi) => mi.tenantId === wanted)
        .map(toManagedIdentity);
    },
  };
}

function requireName(displayName: string): string {
  const name = displayName?.trim();
  if (!name) throw new Error('displayName is required');
  return name;
}
