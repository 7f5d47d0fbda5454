import * as z from 'zod/mini';

/**
 * The security domain routes' bodies (securitydomain.json 7.4: CertificateInfoObject,
 * SecurityDomainObject), types only: the counts, the quorum and what each certificate must be are
 * lib/hsm/security-domain.ts's precise 400s. `required` defaults to 2, as the spec says.
 */
const jwkText = z.optional(z.nullable(z.string().check(z.maxLength(4096))));

const securityDomainCertificate = z.looseObject({
  kid: jwkText,
  kty: jwkText,
  n: jwkText,
  e: jwkText,
  alg: jwkText,
  use: jwkText,
  x5t: jwkText,
  'x5t#S256': jwkText,
  key_ops: z.optional(z.nullable(z.array(z.string().check(z.maxLength(32))).check(z.maxLength(16)))),
  x5c: z.optional(z.nullable(z.array(z.string().check(z.maxLength(16_384))).check(z.maxLength(10)))),
});

export const securityDomainDownloadRequest = z.object({
  certificates: z.array(securityDomainCertificate).check(z.maxLength(64)),
  required: z.optional(z.number()),
});

export const securityDomainUploadRequest = z.object({ value: z.string().check(z.minLength(1), z.maxLength(65_536)) });
