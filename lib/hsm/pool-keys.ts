/**
 * A managed HSM pool's keys (docs/adr/0024-keys-in-pools.md): the keys domain (lib/keys/) over the
 * pool's HSM. `PoolHsmKeys` adapts the pool's PoolHsm to the keys domain's handle port, so versions,
 * attributes, key_ops, nbf/exp, soft delete, recovery, purge and the wire shapes are the vaults'
 * own; `poolKeysAddress` is where the domain keeps the pool's versions: the pool's own partition of
 * the objects table, its retention and purge protection, its canonical URL.
 */
import { BadParameter } from '../core/errors.ts';
import type { EncryptionAlgorithm, SignatureAlgorithm } from '../keys/algorithms.ts';
import type { CryptoOperation, HandleKeyRequest, HandleKeyResult, HandleKeys } from '../keys/handle-keys.ts';
import type { HsmKeys } from '../keys/hsm.ts';
import type { KeyPlain } from '../keys/layout.ts';
import { decodeBase64Url } from '../keys/rules.ts';
import type { KeyOperationInput, VerifyInput } from '../keys/schemas.ts';
import type { Vault, VaultAddress } from '../vaults/vault.ts';
import { isAesGcm } from './hsm-key-rules.ts';
import type { AesCbcAlgorithm, AesGcmAlgorithm, HsmDecryption, HsmEncryption, HsmKey, HsmKeySpec, HsmWrapAlgorithm, PoolHsm } from './hsm-keys.ts';
import { type ManagedHsmPool, poolObjectsPrefix } from './pools.ts';
import { hsmKeyScope } from './rbac.ts';

const GCM_IV_BYTES = 12;

export class PoolHsmKeys implements HandleKeys {
  constructor(private readonly hsm: PoolHsm) {}

  async generate(request: HandleKeyRequest): Promise<Omit<KeyPlain, 'keyOps'>> {
    const spec: HsmKeySpec =
      request.kind === 'EC'
        ? { kty: 'EC', curve: request.curve }
        : ({ kty: request.kind, size: request.keySize } as Extract<HsmKeySpec, { size: number }>);
    return versionPlain(await this.hsm.generateKey(spec));
  }

  async importSymmetric(material: Uint8Array): Promise<Omit<KeyPlain, 'keyOps'>> {
    return versionPlain(await this.hsm.importAesKey(material));
  }

  async importPrivate(pkcs8: Uint8Array): Promise<Omit<KeyPlain, 'keyOps'>> {
    return versionPlain(await this.hsm.importPrivateKey(pkcs8));
  }

  async operate(plain: KeyPlain, operation: CryptoOperation, input: KeyOperationInput | VerifyInput): Promise<HandleKeyResult | { valid: boolean }> {
    const handle = plain.hsmHandle!;
    const value = decodeBase64Url(input.value, 'value');
    // The algorithm is caller input: the port checks it against the key before the HSM sees it (lib/hsm/hsm-key-rules.ts).
    const alg = input.alg;
    switch (operation) {
      case 'sign':
        return { result: await this.hsm.signDigest(handle, alg as SignatureAlgorithm, value) };
      case 'verify': {
        const digest = decodeBase64Url('digest' in input ? input.digest : '', 'digest');
        return { valid: await this.hsm.verifyDigest(handle, alg as SignatureAlgorithm, digest, value) };
      }
      case 'wrapKey':
        return { result: await this.hsm.wrapKey(handle, alg as HsmWrapAlgorithm, value) };
      case 'unwrapKey':
        return { result: await this.hsm.unwrapKey(handle, alg as HsmWrapAlgorithm, value) };
      case 'encrypt':
        return this.encrypt(handle, alg, value, input as KeyOperationInput);
      case 'decrypt':
        return { result: await this.hsm.decrypt(handle, decryptionOf(alg, input as KeyOperationInput), value) };
    }
  }

  randomBytes(count: number): Promise<Uint8Array> {
    return this.hsm.randomBytes(count);
  }

  destroy(handle: string): Promise<boolean> {
    return this.hsm.deleteKey(handle);
  }

  /** AES-GCM's iv is the HSM's (from its generator) unless the caller gives one, as Managed HSM does; the answer carries iv, tag and aad. */
  private async encrypt(handle: string, alg: string, plaintext: Buffer, input: KeyOperationInput): Promise<HandleKeyResult> {
    if (isAesGcm(alg)) {
      const iv = input.iv != null ? decodeBase64Url(input.iv, 'iv') : await this.hsm.randomBytes(GCM_IV_BYTES);
      const aad = input.aad != null ? decodeBase64Url(input.aad, 'aad') : undefined;
      const encryption: HsmEncryption = { algorithm: alg, iv, ...(aad ? { additionalData: aad } : {}) };
      const { ciphertext, tag } = await this.hsm.encrypt(handle, encryption, plaintext);
      return { result: ciphertext, iv, ...(tag ? { tag } : {}), ...(aad ? { aad } : {}) };
    }
    const { ciphertext } = await this.hsm.encrypt(handle, encryptionOf(alg, input), plaintext);
    return { result: ciphertext, ...(isAesCbc(alg) && input.iv != null ? { iv: decodeBase64Url(input.iv, 'iv') } : {}) };
  }
}

function isAesCbc(alg: string): alg is AesCbcAlgorithm {
  return /^A(128|192|256)CBC(PAD)?$/.test(alg);
}

/** CBC takes the caller's iv; RSA nothing. An AES algorithm without its iv is refused by the port's rules. */
function encryptionOf(alg: string, input: KeyOperationInput): { algorithm: AesCbcAlgorithm; iv: Uint8Array } | { algorithm: EncryptionAlgorithm } {
  if (isAesCbc(alg) && input.iv != null) return { algorithm: alg, iv: decodeBase64Url(input.iv, 'iv') };
  return { algorithm: alg as EncryptionAlgorithm };
}

function decryptionOf(alg: string, input: KeyOperationInput): HsmDecryption {
  if (isAesGcm(alg)) {
    if (input.iv == null) throw new BadParameter(`Decrypting with ${alg} needs the iv the encryption answered.`);
    if (input.tag == null) throw new BadParameter(`Decrypting with ${alg} needs the authentication tag.`);
    const aad = input.aad != null ? decodeBase64Url(input.aad, 'aad') : undefined;
    return {
      algorithm: alg as AesGcmAlgorithm,
      iv: decodeBase64Url(input.iv, 'iv'),
      tag: decodeBase64Url(input.tag, 'tag'),
      ...(aad ? { additionalData: aad } : {}),
    };
  }
  return encryptionOf(alg, input);
}

/** What a version stores of its HSM key: the handle and the public part (base64url JWK members), never material. */
function versionPlain(key: HsmKey): Omit<KeyPlain, 'keyOps'> {
  const b64 = (bytes: Buffer) => bytes.toString('base64url');
  const { publicKey, spec } = key;
  if (publicKey.kty === 'RSA' && spec.kty === 'RSA') {
    return { kty: 'RSA-HSM', n: b64(publicKey.n), e: b64(publicKey.e), keySize: spec.size, hsmHandle: key.handle };
  }
  if (publicKey.kty === 'EC') return { kty: 'EC-HSM', crv: publicKey.crv, x: b64(publicKey.x), y: b64(publicKey.y), hsmHandle: key.handle };
  if (spec.kty === 'oct') return { kty: 'oct-HSM', keySize: spec.size, hsmHandle: key.handle };
  throw new Error(`The pool's HSM answered a key whose public part does not match its spec (${spec.kty}).`);
}

/**
 * The keys domain's address of a pool's keys. The domain keeps objects per vault; a pool is not a
 * vault, so this is the pool in the domain's terms: `MHSM#<pool>` as the partition prefix (no vault
 * name has a `#`, and the pool's record is `MHSM#<pool>` / `MHSM`, another item), Managed HSM's
 * retention and purge protection, and for sealing the tags, the deployment's own KMS key under an
 * encryption context that names the pool, since a pool has no KMS key of its own.
 */
export function poolKeysAddress(pool: ManagedHsmPool, baseUrl: string, sealingKeyId: string): VaultAddress {
  const vault: Vault = {
    name: poolObjectsPrefix(pool.name),
    tenantId: pool.tenantId,
    subscriptionId: pool.subscriptionId,
    resourceGroup: pool.resourceGroup,
    location: pool.location,
    vaultUri: pool.hsmUri,
    enableRbacAuthorization: true,
    accessPolicies: [],
    publicNetworkAccess: pool.publicNetworkAccess,
    tags: {},
    revision: pool.revision,
    kmsKeyArn: sealingKeyId,
    sku: 'premium',
    softDeleteRetentionDays: pool.softDeleteRetentionDays,
    purgeProtection: pool.purgeProtection,
    // Pool lists answer in one page (ADR 0024): no paging token is ever signed for a pool.
    pagingKeyCiphertext: new Uint8Array(),
    created: pool.created,
  };
  return { vault, baseUrl };
}

/**
 * A pool's keys are never KMS keys: the keys domain's KMS port, for a pool's KeyService, refuses
 * everything (no pool route reaches it: import, backup and rotation are not offered on pools yet).
 */
const notInPools = () => Promise.reject(new BadParameter("This operation is not offered for a managed HSM pool's keys."));
export const noKmsInPools: HsmKeys = {
  createHsmKey: notInPools,
  importHsmKey: notInPools,
  publicKey: notInPools,
  signDigest: notInPools,
  decryptAsymmetric: notInPools,
  enableKey: notInPools,
  disableKey: notInPools,
  scheduleKeyDeletion: notInPools,
  cancelKeyDeletion: notInPools,
  randomBytes: notInPools,
};

/**
 * A pool's key route's RBAC scope (docs/adr/0021): one key's operations at `/keys/{name}`, creating and
 * listing at `/keys`, everything else (rng, settings) at `/`.
 */
export function poolKeyScope(route: { path: string; scope: unknown }, keyName: string | undefined): string {
  if (typeof route.scope === 'object' && keyName !== undefined) return hsmKeyScope(keyName);
  return /^\/(keys|deletedkeys)(\/|$)/.test(route.path) ? '/keys' : '/';
}
