import { BadParameter, Conflict, NotFound } from '../core/errors.ts';
import type { PoolHsm } from './hsm-keys.ts';
import { ACTIVATED_MESSAGE, type ManagedHsmPool, type PoolSecurityDomainState, type PoolStore, type SecurityDomainOperationStatus } from './pools.ts';
import {
  downloadSecurityDomain,
  importUploadedDomain,
  type SecurityDomainDownloadRequest,
  type SecurityDomainUploadBlob,
} from './security-domain.ts';

/**
 * A pool's security domain routes (docs/adr/0022-pool-data-plane.md): the download that activates a
 * new pool, the transfer key and the upload that activate a pool restored from another's domain,
 * and their statuses. Each finishes within its request, so its status is final once it answered. The
 * activation is written to the pool's record, which the management plane answers as
 * `securityDomainProperties.activationStatus`.
 */
const DOWNLOADED = 'The security domain was downloaded and the HSM is activated.';
const UPLOADED = 'The security domain was uploaded and the HSM is activated.';

export interface TransferKeyAnswer {
  key_format: 'jwk';
  transfer_key: { kid: string; kty: 'RSA'; key_ops: string[]; alg: 'RSA-OAEP'; n: string; e: string };
}

export class PoolSecurityDomain {
  constructor(
    private readonly store: Pick<PoolStore, 'getPool' | 'updatePool'>,
    private readonly hsmOf: (pool: ManagedHsmPool) => PoolHsm,
    /** After the record changed: the container's cached copy goes. */
    private readonly changed: (name: string) => void,
  ) {}

  /** Makes the domain key, activates the pool, and answers the blob; a pool that has its domain is a 409. */
  async download(pool: ManagedHsmPool, request: SecurityDomainDownloadRequest): Promise<{ value: string }> {
    const current = await this.current(pool);
    assertNoDomain(current);
    const hsm = this.hsmOf(current);
    const { blob, domainKey } = await downloadSecurityDomain(current.name, request, hsm);
    const written = await this.write(current, {
      activation: { status: 'Active', message: ACTIVATED_MESSAGE },
      securityDomain: { ...current.securityDomain, domainKey, download: { status: 'Success', statusDetails: DOWNLOADED } },
    });
    if (!written) {
      // A concurrent download or upload won: this domain key is nobody's, and its blob is not answered.
      await hsm.deleteKey(domainKey).catch(() => false);
      throw alreadyActive(current.name);
    }
    return { value: JSON.stringify(blob) };
  }

  /** The pool's transfer key (an RSA-2048 key in its HSM, made at the first call), as a JWK; a pool that has its domain is a 409. */
  async transferKey(pool: ManagedHsmPool): Promise<TransferKeyAnswer> {
    let current = await this.current(pool);
    assertNoDomain(current);
    const hsm = this.hsmOf(current);
    let handle = current.securityDomain?.transferKey;
    if (!handle) {
      const made = await hsm.generateKey({ kty: 'RSA', size: 2048 });
      if (!(await this.write(current, { securityDomain: { ...current.securityDomain, transferKey: made.handle } }))) {
        await hsm.deleteKey(made.handle).catch(() => false);
        current = await this.current(pool);
        handle = current.securityDomain?.transferKey;
        if (!handle) throw alreadyActive(current.name);
      } else {
        handle = made.handle;
      }
    }
    const key = await hsm.describeKey(handle);
    if (key.publicKey.kty !== 'RSA') throw new Conflict("The pool's transfer key is not an RSA key.");
    return {
      key_format: 'jwk',
      transfer_key: {
        kid: handle,
        kty: 'RSA',
        key_ops: ['wrapKey', 'encrypt'],
        alg: 'RSA-OAEP',
        n: key.publicKey.n.toString('base64url'),
        e: key.publicKey.e.toString('base64url'),
      },
    };
  }

  /** Imports a quorum of shares re-encrypted to this pool's transfer key and activates the pool; a failure is recorded as the upload's status and answered as its 400. */
  async upload(pool: ManagedHsmPool, value: string): Promise<SecurityDomainOperationStatus> {
    const current = await this.current(pool);
    assertNoDomain(current);
    const upload = parseUpload(value);
    const transferKey = current.securityDomain?.transferKey;
    if (!transferKey)
      throw new BadParameter('This pool has no transfer key yet: get it with GET /securitydomain/upload, and encrypt the shares to it.');
    const hsm = this.hsmOf(current);
    let domainKey: string;
    try {
      domainKey = await importUploadedDomain(upload, transferKey, (encryptedKey) => hsm.unwrapKey(transferKey, 'RSA-OAEP', encryptedKey), hsm);
    } catch (error) {
      if (error instanceof BadParameter) {
        await this.write(current, { securityDomain: { ...current.securityDomain, upload: { status: 'Failed', statusDetails: error.message } } });
      }
      throw error;
    }
    const status: SecurityDomainOperationStatus = { status: 'Success', statusDetails: UPLOADED };
    const written = await this.write(current, {
      activation: { status: 'Active', message: ACTIVATED_MESSAGE },
      securityDomain: { ...current.securityDomain, domainKey, upload: status },
    });
    if (!written) {
      await hsm.deleteKey(domainKey).catch(() => false);
      throw alreadyActive(current.name);
    }
    return status;
  }

  /** The last download's or upload's outcome; a 404 when there was none. */
  async status(pool: ManagedHsmPool, which: 'download' | 'upload'): Promise<SecurityDomainOperationStatus> {
    const current = await this.current(pool);
    const status = current.securityDomain?.[which];
    if (!status) throw new NotFound('NotFound', `No security domain ${which} was made on the managed HSM '${current.name}'.`);
    return status;
  }

  /** The record as stored now: the host's copy may be up to its cache's age old. */
  private async current(pool: ManagedHsmPool): Promise<ManagedHsmPool> {
    const stored = await this.store.getPool(pool.name);
    if (!stored || stored.deleted) throw new NotFound('ManagedHsmNotFound', 'No managed HSM pool is served at this host name.');
    return stored;
  }

  private async write(
    pool: ManagedHsmPool,
    change: { activation?: ManagedHsmPool['activation']; securityDomain: PoolSecurityDomainState },
  ): Promise<boolean> {
    const next: ManagedHsmPool = { ...pool, ...change, revision: pool.revision + 1 };
    const written = await this.store.updatePool(next, pool.revision);
    this.changed(pool.name);
    return written;
  }
}

function assertNoDomain(pool: ManagedHsmPool): void {
  if (pool.activation.status === 'Active' || pool.securityDomain?.domainKey) throw alreadyActive(pool.name);
}

/**
 * Azure's answer to a download on an activated pool is not recorded anywhere Coffer could read:
 * a 409, since the pool's domain exists and a second one would strand its keys' backups.
 */
function alreadyActive(name: string): Conflict {
  return new Conflict(`The managed HSM '${name}' is already activated: its security domain exists.`);
}

function parseUpload(value: string): SecurityDomainUploadBlob {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new BadParameter("The security domain 'value' is not JSON.");
  }
  const upload = parsed as Partial<SecurityDomainUploadBlob> | null;
  if (
    typeof upload !== 'object' ||
    upload === null ||
    typeof upload.pool !== 'string' ||
    typeof upload.domainKey !== 'string' ||
    !Number.isInteger(upload.required) ||
    typeof upload.transferKey !== 'string' ||
    !Array.isArray(upload.shares) ||
    upload.shares.length > 10 ||
    !upload.shares.every((share) => typeof share === 'string')
  ) {
    throw new BadParameter("The security domain 'value' is not an upload: restore it for this pool with scripts/security-domain.ts.");
  }
  return upload as SecurityDomainUploadBlob;
}
