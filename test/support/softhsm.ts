import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createPrivateKey, type JsonWebKey, randomUUID } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import type { HsmAesKeySize } from '../../lib/hsm/hsm-keys.ts';
import { privateKeyParts, publicObjectTemplate, unwrapTemplate } from '../../lib/pkcs11/key-objects.ts';
import { type Pkcs11TokenConfig, pkcs11Library } from '../../lib/pkcs11/token-session.ts';

/**
 * SoftHSM2 tokens for a test file: Debian's softhsm2 (scripts/ensure-softhsm.sh installs it where it is
 * missing), a configuration of this process's own whose token directory is a temporary directory
 * (SOFTHSM2_CONF, which the library reads once, at C_Initialize: create every token of a file before
 * the first adapter call), and tokens initialised with softhsm2-util as an operator would.
 */
const ENSURE_SCRIPT = resolve(import.meta.dirname, '../../scripts/ensure-softhsm.sh');

export interface SoftHsmToken extends Pkcs11TokenConfig {
  soPin: string;
}

let installed: { library: string; util: string } | undefined;
let tokenDir: string | undefined;

/** Debian's SoftHSM2, installed where it is missing (scripts/ensure-softhsm.sh): its library and softhsm2-util. */
export function ensureSoftHsm(): { library: string; util: string } {
  if (installed) return installed;
  let output: string;
  try {
    output = execFileSync('bash', [ENSURE_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stdout = String((error as { stdout?: string }).stdout ?? '');
    throw new Error(`SoftHSM2 is not available: ${stdout.trim().split('\n').pop()}`);
  }
  const [status, library, util] = output.trim().split('\n').pop()!.split(' ');
  if (status !== 'READY' || !library || !util) throw new Error(`scripts/ensure-softhsm.sh said: ${output}`);
  installed = { library, util };
  return installed;
}

/** This process's token directory and SOFTHSM2_CONF, made once; removed by removeSoftHsmTokens(). */
function softHsmConfiguration(): string {
  if (tokenDir) return tokenDir;
  tokenDir = mkdtempSync(join(tmpdir(), 'coffer-softhsm-'));
  const conf = join(tokenDir, 'softhsm2.conf');
  const tokens = join(tokenDir, 'tokens');
  mkdirSync(tokens, { mode: 0o700 });
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, { mode: 0o600 });
  process.env.SOFTHSM2_CONF = conf;
  return tokenDir;
}

/** A new initialised token with its own label and PINs. */
export function createSoftHsmToken(label: string): SoftHsmToken {
  const { library, util } = ensureSoftHsm();
  softHsmConfiguration();
  const suffix = Math.random().toString(36).slice(2, 10);
  const token: SoftHsmToken = { libraryPath: library, tokenLabel: `${label}-${suffix}`, pin: `user-${suffix}`, soPin: `so-${suffix}` };
  execFileSync(util, ['--init-token', '--free', '--label', token.tokenLabel, '--so-pin', token.soPin, '--pin', token.pin], {
    env: process.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return token;
}

export function removeSoftHsmTokens(): void {
  if (tokenDir) rmSync(tokenDir, { recursive: true, force: true });
  tokenDir = undefined;
}

/**
 * The token as an operator sees it, through pkcs11js directly: for what Coffer's port never offers on
 * purpose (a key whose material the test knows, for interop with node:crypto; reading a key's
 * attributes to prove what the HSM refuses). Login is per application and token, so this shares the
 * adapter's login when the adapter has a session open.
 */
export function operatorSession(token: SoftHsmToken): { module: pkcs11js.PKCS11; session: Buffer; close(): void } {
  const module = pkcs11Library(token.libraryPath);
  const slot = module.C_GetSlotList(true).find((s) => module.C_GetTokenInfo(s).label.trim() === token.tokenLabel);
  if (!slot) throw new Error(`no token ${token.tokenLabel}`);
  const session = module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    module.C_Login(session, pkcs11js.CKU_USER, token.pin);
  } catch (error) {
    if (!String((error as Error).message).startsWith('CKR_USER_ALREADY_LOGGED_IN')) throw error;
  }
  return { module, session, close: () => module.C_CloseSession(session) };
}

/**
 * Puts a key the test holds (a node:crypto JWK with its private part, or AES bytes) into the token
 * with the objects, labels and attributes of a pool key, as a bring-your-own-key import would, and
 * returns its handle: the HSM then uses a key node:crypto can check it against, both ways.
 */
export function putKnownKey(token: SoftHsmToken, key: JsonWebKey | Buffer): string {
  const handle = `coffer-known-${randomUUID()}`;
  const { module, session, close } = operatorSession(token);
  const _bytes = (value: string | undefined) => Buffer.from(value!, 'base64url');
  try {
    if (Buffer.isBuffer(key)) {
      const spec = { kty: 'oct', size: (key.length * 8) as HsmAesKeySize } as const;
      // CKA_VALUE_LEN follows from CKA_VALUE when an object is created (the library refuses both).
      const template = unwrapTemplate(handle, spec).filter(({ type }) => type !== pkcs11js.CKA_VALUE_LEN);
      module.C_CreateObject(session, [...template, { type: pkcs11js.CKA_VALUE, value: key }]);
      return handle;
    }
    // The attributes the adapter's own import gives a private key (lib/pkcs11/key-objects.ts).
    const { spec, publicKey, material } = privateKeyParts(createPrivateKey({ key, format: 'jwk' }).export({ type: 'pkcs8', format: 'der' }));
    module.C_CreateObject(session, [...unwrapTemplate(handle, spec), ...material]);
    module.C_CreateObject(session, publicObjectTemplate(handle, publicKey)!);
    return handle;
  } finally {
    close();
  }
}
