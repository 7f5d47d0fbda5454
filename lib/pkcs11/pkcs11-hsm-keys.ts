/**
 * The PoolHsm port (lib/hsm/hsm-keys.ts) over a PKCS#11 token, through pkcs11js
 * (docs/adr/0019-pkcs11-adapter.md). The same code serves CloudHSM's PKCS#11 library in AWS and
 * SoftHSM2 locally: which library, which token and which PIN is configuration (Pkcs11TokenConfig),
 * nothing else differs. Input is checked before it reaches the HSM (lib/hsm/hsm-key-rules.ts); what the
 * HSM refuses is mapped to the domain's errors (./errors.ts). Every operation is one queued call on the
 * token's logged-in session (./token-session.ts); the long ones (key generation, private-key
 * operations, wrapping) run on libuv's threads through pkcs11js's *Async calls.
 */
import { randomUUID } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { BadParameter, Conflict } from '../core/errors.ts';
import { ecdsaHalfSize } from '../crypto/ecdsa-signature.ts';
import type { SignatureAlgorithm } from '../keys/algorithms.ts';
import {
  type HsmCiphertext,
  type HsmDecryption,
  type HsmEncryption,
  type HsmKey,
  HsmKeyNotFound,
  type PoolHsm,
  type HsmKeySpec,
  HsmOperationNotSupported,
  type HsmWrapAlgorithm,
  type WrappedHsmKey,
} from '../hsm/hsm-keys.ts';
import { checkEncryption, checkKeySpec, checkRandomCount, checkSignature, checkWrap, isAesGcm } from '../hsm/hsm-key-rules.ts';
import { ckrName, domainError, type Pkcs11Step } from './errors.ts';
import {
  aesTemplate,
  callerKeyTemplate,
  domainKeyTemplate,
  importedDomainKeyTemplate,
  ecTemplates,
  type KeyObjects,
  objectsLabelled,
  privateKeyParts,
  publicObjectTemplate,
  readKeyObjects,
  rsaTemplates,
  unwrappedCallerKeyTemplate,
  unwrapTemplate,
} from './key-objects.ts';
import { aesMechanism, GCM_TAG_BYTES, rsaEncryptionMechanism, signatureMechanism } from './mechanisms.ts';
import { type Pkcs11Session, type Pkcs11TokenConfig, tokenSession, type TokenSession } from './token-session.ts';

/** A PKCS#8 RSA-4096 private key wrapped with padding is under 2.5 KiB. */
const WRAPPED_KEY_BUFFER = 8192;

/** A key's object handle that is no longer valid. */
const STALE_OBJECT = new Set(['CKR_OBJECT_HANDLE_INVALID', 'CKR_KEY_HANDLE_INVALID']);

/** The token's CKR value for a signature that does not verify, and for one of the wrong length. */
const NOT_VERIFIED = new Set(['CKR_SIGNATURE_INVALID', 'CKR_SIGNATURE_LEN_RANGE']);

/** What `createDomainKey` and `importDomainKey` name a domain key. */
const DOMAIN_KEY_HANDLE = /^coffer-domain-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class Pkcs11PoolHsm implements PoolHsm {
  private readonly token: TokenSession;

  constructor(config: Pkcs11TokenConfig) {
    this.token = tokenSession(config);
  }

  async generateKey(spec: HsmKeySpec): Promise<HsmKey> {
    checkKeySpec(spec);
    const handle = `coffer-${randomUUID()}`;
    const what = spec.kty === 'EC' ? `EC keys on ${spec.curve}` : `${spec.kty === 'RSA' ? 'RSA' : 'AES'} keys of ${spec.size} bits`;
    return this.call('init', `generating ${what}`, undefined, async ({ module, session }) => {
      if (spec.kty === 'oct') {
        await module.C_GenerateKeyAsync(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, aesTemplate(handle, spec.size));
      } else {
        const { publicTemplate, privateTemplate } = spec.kty === 'RSA' ? rsaTemplates(handle, spec.size) : ecTemplates(handle, spec.curve);
        const mechanism = spec.kty === 'RSA' ? pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN : pkcs11js.CKM_EC_KEY_PAIR_GEN;
        await module.C_GenerateKeyPairAsync(session, { mechanism }, publicTemplate, privateTemplate);
      }
      return this.described(handle, this.objects({ module, session }, handle));
    });
  }

  async importAesKey(material: Uint8Array): Promise<HsmKey> {
    const spec = checkKeySpec({ kty: 'oct', size: material.length * 8 } as HsmKeySpec);
    const handle = `coffer-${randomUUID()}`;
    const value = Buffer.from(material);
    return this.call('init', `importing AES keys of ${material.length * 8} bits`, undefined, async ({ module, session }) => {
      // CKA_VALUE_LEN follows from CKA_VALUE (the unwrap template has none); pkcs11js has no asynchronous C_CreateObject.
      module.C_CreateObject(session, [...unwrapTemplate(handle, spec), { type: pkcs11js.CKA_VALUE, value }]);
      return this.described(handle, this.objects({ module, session }, handle));
    }).finally(() => value.fill(0));
  }

  async importPrivateKey(pkcs8: Uint8Array): Promise<HsmKey> {
    const { spec, publicKey, material } = privateKeyParts(pkcs8);
    const handle = `coffer-${randomUUID()}`;
    return this.call('init', `importing ${spec.kty} keys`, undefined, async ({ module, session }) => {
      module.C_CreateObject(session, [...unwrapTemplate(handle, spec), ...material]);
      module.C_CreateObject(session, publicObjectTemplate(handle, publicKey)!);
      return this.described(handle, this.objects({ module, session }, handle));
    }).finally(() => {
      for (const { value } of material) if (Buffer.isBuffer(value)) value.fill(0);
    });
  }

  describeKey(handle: string): Promise<HsmKey> {
    return this.call('other', 'reading a key', handle, (session) => this.described(handle, this.objects(session, handle)));
  }

  signDigest(handle: string, algorithm: SignatureAlgorithm, digest: Uint8Array): Promise<Buffer> {
    return this.call('other', `${algorithm} signing`, handle, async (s) => {
      const key = this.objects(s, handle);
      const checked = checkSignature(key.spec, algorithm, digest);
      const { mechanism, data } = signatureMechanism(checked, digest);
      this.init(() => s.module.C_SignInit(s.session, mechanism, this.part(key, 'privateKey', handle)), `${algorithm} signing`);
      return s.module.C_SignAsync(s.session, data, Buffer.alloc(signatureLength(key.spec)));
    });
  }

  verifyDigest(handle: string, algorithm: SignatureAlgorithm, digest: Uint8Array, signature: Uint8Array): Promise<boolean> {
    return this.call('other', `${algorithm} verification`, handle, async (s) => {
      const key = this.objects(s, handle);
      const checked = checkSignature(key.spec, algorithm, digest);
      const { mechanism, data } = signatureMechanism(checked, digest);
      this.init(() => s.module.C_VerifyInit(s.session, mechanism, this.part(key, 'publicObject', handle)), `${algorithm} verification`);
      try {
        return await s.module.C_VerifyAsync(s.session, data, Buffer.from(signature));
      } catch (error) {
        if (NOT_VERIFIED.has(ckrName(error) ?? '')) return false;
        throw error;
      }
    });
  }

  encrypt(handle: string, encryption: HsmEncryption, plaintext: Uint8Array): Promise<HsmCiphertext> {
    const what = `${encryption.algorithm} encryption`;
    return this.call('other', what, handle, async (s) => {
      const key = this.objects(s, handle);
      checkEncryption(key.spec, encryption, plaintext, 'encrypt');
      if (!('iv' in encryption)) {
        const mechanism = rsaEncryptionMechanism(encryption.algorithm);
        this.init(() => s.module.C_EncryptInit(s.session, mechanism, this.part(key, 'publicObject', handle)), what);
        return { ciphertext: await s.module.C_EncryptAsync(s.session, Buffer.from(plaintext), Buffer.alloc(rsaBytes(key.spec))) };
      }
      this.init(() => s.module.C_EncryptInit(s.session, aesMechanism(encryption), this.part(key, 'secretKey', handle)), what);
      const output = await s.module.C_EncryptAsync(s.session, Buffer.from(plaintext), Buffer.alloc(plaintext.length + 32));
      if (!isAesGcm(encryption.algorithm)) return { ciphertext: Buffer.from(output) };
      // PKCS#11 appends GCM's tag to the ciphertext; Key Vault returns them apart.
      const split = output.length - GCM_TAG_BYTES;
      return { ciphertext: Buffer.from(output.subarray(0, split)), tag: Buffer.from(output.subarray(split)) };
    });
  }

  decrypt(handle: string, decryption: HsmDecryption, ciphertext: Uint8Array): Promise<Buffer> {
    const what = `${decryption.algorithm} decryption`;
    return this.call('decrypt', what, handle, async (s) => {
      const key = this.objects(s, handle);
      checkEncryption(key.spec, decryption, ciphertext, 'decrypt');
      if (!('iv' in decryption)) {
        const mechanism = rsaEncryptionMechanism(decryption.algorithm);
        this.init(() => s.module.C_DecryptInit(s.session, mechanism, this.part(key, 'privateKey', handle)), what);
        return Buffer.from(await s.module.C_DecryptAsync(s.session, Buffer.from(ciphertext), Buffer.alloc(rsaBytes(key.spec))));
      }
      const input = 'tag' in decryption ? Buffer.concat([ciphertext, decryption.tag]) : Buffer.from(ciphertext);
      this.init(() => s.module.C_DecryptInit(s.session, aesMechanism(decryption), this.part(key, 'secretKey', handle)), what);
      return Buffer.from(await s.module.C_DecryptAsync(s.session, input, Buffer.alloc(input.length)));
    });
  }

  async wrapKey(handle: string, algorithm: HsmWrapAlgorithm, key: Uint8Array): Promise<Buffer> {
    const spec = (await this.describeKey(handle)).spec;
    const checked = checkWrap(spec, algorithm, key, 'wrap');
    if (spec.kty !== 'oct') return (await this.encrypt(handle, { algorithm: checked as Exclude<HsmWrapAlgorithm, `A${string}`> }, key)).ciphertext;
    return this.call('other', `${checked} key wrap`, handle, async (s) => {
      const wrapping = this.part(this.objects(s, handle), 'secretKey', handle);
      const callerKey = s.module.C_CreateObject(s.session, callerKeyTemplate(key));
      try {
        const mechanism = { mechanism: pkcs11js.CKM_AES_KEY_WRAP };
        return Buffer.from(
          await this.initAsync(
            s.module.C_WrapKeyAsync(s.session, mechanism, wrapping, callerKey, Buffer.alloc(key.length + 8)),
            `${checked} key wrap`,
          ),
        );
      } finally {
        s.module.C_DestroyObject(s.session, callerKey);
      }
    });
  }

  async unwrapKey(handle: string, algorithm: HsmWrapAlgorithm, wrappedKey: Uint8Array): Promise<Buffer> {
    const spec = (await this.describeKey(handle)).spec;
    const checked = checkWrap(spec, algorithm, wrappedKey, 'unwrap');
    if (spec.kty !== 'oct') return this.decrypt(handle, { algorithm: checked as Exclude<HsmWrapAlgorithm, `A${string}`> }, wrappedKey);
    return this.call('unwrap', `${checked} key unwrap`, handle, async (s) => {
      const unwrapping = this.part(this.objects(s, handle), 'secretKey', handle);
      const mechanism = { mechanism: pkcs11js.CKM_AES_KEY_WRAP };
      const unwrapped = await s.module.C_UnwrapKeyAsync(s.session, mechanism, unwrapping, Buffer.from(wrappedKey), unwrappedCallerKeyTemplate());
      try {
        const [value] = s.module.C_GetAttributeValue(s.session, unwrapped, [{ type: pkcs11js.CKA_VALUE }]);
        return Buffer.from(value!.value as Buffer);
      } finally {
        s.module.C_DestroyObject(s.session, unwrapped);
      }
    });
  }

  async randomBytes(count: number): Promise<Buffer> {
    checkRandomCount(count);
    return this.call('other', 'generating random bytes', undefined, ({ module, session }) =>
      Buffer.from(module.C_GenerateRandom(session, Buffer.alloc(count))),
    );
  }

  deleteKey(handle: string): Promise<boolean> {
    return this.call('other', 'deleting a key', handle, ({ module, session }) => {
      const found = objectsLabelled(module, session, handle);
      for (const object of found) module.C_DestroyObject(session, object);
      this.token.objects.delete(handle);
      return found.length > 0;
    });
  }

  createDomainKey(): Promise<string> {
    const handle = `coffer-domain-${randomUUID()}`;
    return this.token
      .runAsSecurityOfficer(async ({ module, session }) => {
        await module.C_GenerateKeyAsync(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, domainKeyTemplate(handle));
        return handle;
      })
      .catch((error: unknown) => {
        throw domainError(error, 'init', 'creating a trusted domain key');
      });
  }

  async importDomainKey(material: Uint8Array, handle = `coffer-domain-${randomUUID()}`): Promise<string> {
    if (material.length !== 32) throw new BadParameter("The pool's domain key is an AES-256 key: 32 bytes.");
    if (!DOMAIN_KEY_HANDLE.test(handle)) throw new BadParameter(`'${handle.slice(0, 64)}' is not a domain key's handle.`);
    const value = Buffer.from(material);
    return this.token
      .runAsSecurityOfficer(async ({ module, session }) => {
        if (readKeyObjects(module, session, handle)) throw new Conflict(`The pool's HSM already holds a key ${handle}.`);
        // pkcs11js has no asynchronous C_CreateObject; creating one small object does not block for long.
        module.C_CreateObject(session, importedDomainKeyTemplate(handle, value));
        return handle;
      })
      .catch((error: unknown) => {
        throw domainError(error, 'init', 'importing a trusted domain key');
      })
      .finally(() => value.fill(0));
  }

  exportKey(handle: string, domainKey: string): Promise<WrappedHsmKey> {
    return this.call('other', 'exporting a key', handle, async (s) => {
      const key = this.objects(s, handle);
      const wrapping = this.part(this.domainKeyObjects(s, domainKey), 'secretKey', domainKey);
      const material = key.secretKey ?? this.part(key, 'privateKey', handle);
      let wrappedMaterial: Buffer;
      try {
        const mechanism = { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD };
        wrappedMaterial = Buffer.from(await s.module.C_WrapKeyAsync(s.session, mechanism, wrapping, material, Buffer.alloc(WRAPPED_KEY_BUFFER)));
      } catch (error) {
        const name = ckrName(error);
        if (name === 'CKR_KEY_NOT_WRAPPABLE' || name === 'CKR_KEY_UNEXTRACTABLE' || name === 'CKR_WRAPPING_KEY_HANDLE_INVALID') {
          throw new HsmOperationNotSupported(
            `The key cannot leave the HSM wrapped under ${domainKey}: it is not the pool's trusted domain key (${name}).`,
          );
        }
        throw error;
      }
      return { handle, spec: key.spec, publicKey: key.publicKey, domainKey, wrappedMaterial };
    });
  }

  async importKey(wrapped: WrappedHsmKey): Promise<HsmKey> {
    const { handle, publicKey, domainKey } = wrapped;
    const spec = checkKeySpec(wrapped.spec);
    return this.call('unwrap', 'importing a key', handle, async (s) => {
      // Asked of the token itself: a handle cached here may name objects another container deleted.
      this.token.objects.delete(handle);
      if (readKeyObjects(s.module, s.session, handle)) throw new Conflict(`The pool's HSM already holds a key ${handle}.`);
      const unwrapping = this.part(this.domainKeyObjects(s, domainKey), 'secretKey', domainKey);
      const mechanism = { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD };
      const material = await s.module.C_UnwrapKeyAsync(
        s.session,
        mechanism,
        unwrapping,
        Buffer.from(wrapped.wrappedMaterial),
        unwrapTemplate(handle, spec),
      );
      const publicTemplate = publicObjectTemplate(handle, publicKey);
      try {
        if (publicTemplate) s.module.C_CreateObject(s.session, publicTemplate);
      } catch (error) {
        s.module.C_DestroyObject(s.session, material);
        throw error;
      }
      return this.described(handle, this.objects(s, handle));
    });
  }

  // ---------------------------------------------------------------------------------------------

  /** One queued call, its failures in the domain's errors. */
  private async call<T>(
    step: Pkcs11Step,
    operation: string,
    handle: string | undefined,
    work: (session: Pkcs11Session) => Promise<T> | T,
  ): Promise<T> {
    try {
      try {
        return await this.token.run(work);
      } catch (error) {
        // Another container may have deleted and restored the key: its cached object handles are stale,
        // so look it up again, once.
        if (handle === undefined || !STALE_OBJECT.has(ckrName(error) ?? '') || !this.token.objects.delete(handle)) throw error;
        return await this.token.run(work);
      }
    } catch (error) {
      throw domainError(error, step, operation, handle);
    }
  }

  /** A mechanism's Init: what the HSM refuses here it does not implement. */
  private init(start: () => void, operation: string): void {
    try {
      start();
    } catch (error) {
      if (STALE_OBJECT.has(ckrName(error) ?? '')) throw error;
      throw domainError(error, 'init', operation);
    }
  }

  /** C_WrapKey takes the mechanism and does the work in one call: a refused mechanism is reported as at Init. */
  private async initAsync<T>(work: Promise<T>, operation: string): Promise<T> {
    try {
      return await work;
    } catch (error) {
      throw domainError(error, 'init', operation);
    }
  }

  private find(s: Pkcs11Session, handle: string): KeyObjects | undefined {
    const cached = this.token.objects.get(handle) as KeyObjects | undefined;
    if (cached) return cached;
    const found = readKeyObjects(s.module, s.session, handle);
    if (found) this.token.objects.set(handle, found);
    return found;
  }

  private objects(s: Pkcs11Session, handle: string): KeyObjects {
    const found = this.find(s, handle);
    if (!found) throw new HsmKeyNotFound(handle);
    return found;
  }

  private domainKeyObjects(s: Pkcs11Session, domainKey: string): KeyObjects {
    const found = this.find(s, domainKey);
    if (!found?.secretKey) throw new HsmKeyNotFound(domainKey);
    return found;
  }

  private part(key: KeyObjects, part: 'privateKey' | 'publicObject' | 'secretKey', handle: string): Buffer {
    const object = key[part];
    if (!object) {
      const wanted = part === 'secretKey' ? 'an AES key' : 'an RSA or EC key';
      throw new HsmOperationNotSupported(`The key ${handle} is not ${wanted}, which this operation needs.`);
    }
    return object;
  }

  private described(handle: string, key: KeyObjects): HsmKey {
    return { handle, spec: key.spec, publicKey: key.publicKey };
  }
}

function rsaBytes(spec: HsmKeySpec): number {
  return spec.kty === 'RSA' ? spec.size / 8 : 0;
}

function signatureLength(spec: HsmKeySpec): number {
  return spec.kty === 'EC' ? 2 * ecdsaHalfSize(spec.curve) : rsaBytes(spec);
}
