import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { SignJWT, calculateJwkThumbprint } from 'jose';
import type { JWK } from 'jose';
import { readOrCreateFile } from '../files.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

const ACCESS_TOKEN_LIFETIME_SECONDS = 3600;

/** Tenant, client and object ids, and resources named by an application id. */
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a token may be issued for: an application id (GUID), or an https: or api: URI. */
export function isValidResource(resource: string): boolean {
  if (GUID.test(resource)) return true;
  try {
    const url = new URL(resource);
    return (url.protocol === 'https:' || url.protocol === 'api:') && resource.length <= 2048;
  } catch {
    return false;
  }
}

/**
 * The RS256 key that signs access tokens. It is persisted (PKCS#8, mode 0600) so that
 * tokens issued before a restart of the local stack keep verifying afterwards, and a
 * verifier that cached the JWKS does not have to refetch it.
 */
export class SigningKey {
  private constructor(
    private readonly privateKey: KeyObject,
    readonly kid: string,
    private readonly publicJwk: JWK,
  ) {}

  static async load(file: string): Promise<SigningKey> {
    const pem = await readOrCreateFile(file, async () => {
      const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
      return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    });
    const privateKey = createPrivateKey(pem);
    if (privateKey.asymmetricKeyType !== 'rsa') throw new Error(`${file} must hold an RSA private key`);
    const { kty, n, e } = createPublicKey(privateKey).export({ format: 'jwk' });
    const publicJwk: JWK = { kty, n, e };
    // RFC 7638 thumbprint: stable for the key, so the kid survives restarts with it.
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    return new SigningKey(privateKey, kid, { ...publicJwk, kid, use: 'sig', alg: 'RS256' });
  }

  jwk(extra: Record<string, string> = {}): JWK {
    return { ...this.publicJwk, ...extra };
  }

  /** Signs an app-only access token shaped like an Entra v2.0 token. */
  async mintAccessToken(input: AccessTokenInput): Promise<{ token: string; expiresAt: number }> {
    const now = Math.floor(Date.now() / 1000);
    const expiresAt = now + ACCESS_TOKEN_LIFETIME_SECONDS;
    // Entra's unique token identifier: 16 random bytes, base64url.
    const uti = randomBytes(16).toString('base64url');
    const token = await new SignJWT({
      aud: input.audience,
      iss: input.issuer,
      iat: now,
      nbf: now,
      exp: expiresAt,
      // idp is the issuer for tokens of the tenant's own principals.
      idp: input.issuer,
      tid: input.tenantId,
      oid: input.objectId,
      sub: input.objectId,
      azp: input.clientId,
      appid: input.clientId,
      // 0 = public client, 1 = client secret, 2 = certificate / managed identity.
      azpacr: input.clientAuthMethod,
      appidacr: input.clientAuthMethod,
      idtyp: 'app',
      ver: '2.0',
      uti,
      jti: uti,
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.kid })
      .sign(this.privateKey);
    return { token, expiresAt };
  }
}

export interface AccessTokenInput {
  issuer: string;
  tenantId: string;
  audience: string;
  clientId: string;
  objectId: string;
  clientAuthMethod: '0' | '1' | '2';
}
