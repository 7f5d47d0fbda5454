import { readFileIfExists, writeFileAtomic } from '../files.ts';

/**
 * The persisted directory of the development identity provider: tenants, service principals
 * and managed identities. Only verifiers are stored (scrypt hashes of client secrets, public
 * certificates and their thumbprints), so the registry file can be read without handing out
 * credentials.
 */
export interface RegistryState {
  version: 1;
  defaultTenantId?: string;
  tenants: Record<string, TenantRecord>;
  /** Keyed by client (application) id. */
  servicePrincipals: Record<string, ServicePrincipalRecord>;
  /** Keyed by client id. */
  managedIdentities: Record<string, ManagedIdentityRecord>;
}

export interface TenantRecord {
  tenantId: string;
  displayName: string;
  createdAt: string;
}

export interface ServicePrincipalRecord {
  tenantId: string;
  clientId: string;
  objectId: string;
  displayName: string;
  createdAt: string;
  secrets: SecretRecord[];
  certificates: CertificateRecord[];
  /** Relative to the data directory, so the directory can be moved. */
  certificateFile?: string;
}

export interface SecretRecord {
  keyId: string;
  /** `scrypt$N$r$p$salt$hash`, see client-auth.ts. */
  hash: string;
  createdAt: string;
}

export interface CertificateRecord {
  keyId: string;
  /** base64url SHA-1 of the DER certificate: the `x5t` header of client assertions. */
  x5t: string;
  /** base64url SHA-256 of the DER certificate: the `x5t#S256` header. */
  x5tS256: string;
  certificatePem: string;
  notAfter: string;
}

export interface ManagedIdentityRecord {
  tenantId: string;
  clientId: string;
  objectId: string;
  displayName: string;
  systemAssigned: boolean;
  createdAt: string;
}

export class Registry {
  // Writes are chained so that two registrations in flight cannot interleave their
  // read-modify-write and drop one of them.
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private state: RegistryState,
  ) {}

  static async open(file: string): Promise<Registry> {
    const text = await readFileIfExists(file);
    if (text === undefined) {
      return new Registry(file, { version: 1, tenants: {}, servicePrincipals: {}, managedIdentities: {} });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new Error(`Identity registry ${file} is not valid JSON: ${(error as Error).message}`);
    }
    const state = parsed as Partial<RegistryState>;
    if (
      state.version !== 1 ||
      typeof state.tenants !== 'object' ||
      typeof state.servicePrincipals !== 'object' ||
      typeof state.managedIdentities !== 'object'
    ) {
      throw new Error(`Identity registry ${file} has an unsupported format (expected version 1)`);
    }
    return new Registry(file, state as RegistryState);
  }

  get current(): Readonly<RegistryState> {
    return this.state;
  }

  tenant(tenantId: string): TenantRecord | undefined {
    return this.state.tenants[tenantId.toLowerCase()];
  }

  servicePrincipal(clientId: string): ServicePrincipalRecord | undefined {
    return this.state.servicePrincipals[clientId.toLowerCase()];
  }

  managedIdentity(clientId: string): ManagedIdentityRecord | undefined {
    return this.state.managedIdentities[clientId.toLowerCase()];
  }

  managedIdentityByObjectId(objectId: string): ManagedIdentityRecord | undefined {
    const wanted = objectId.toLowerCase();
    return Object.values(this.state.managedIdentities).find((mi) => mi.objectId === wanted);
  }

  systemAssignedIdentity(): ManagedIdentityRecord | undefined {
    return Object.values(this.state.managedIdentities).find((mi) => mi.systemAssigned);
  }

  /**
   * Applies `change` to a copy and persists it before publishing it, so a failed write
   * leaves memory and disk in agreement.
   */
  update<T>(change: (draft: RegistryState) => T): Promise<T> {
    const run = async () => {
      const draft = structuredClone(this.state);
      const result = change(draft);
      await writeFileAtomic(this.file, `${JSON.stringify(draft, null, 2)}\n`, 0o600);
      this.state = draft;
      return result;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
