import * as z from 'zod/mini';

const nonEmpty = () => z.string().check(z.minLength(1));

/** A tenant's identity provider, as the deployment configures it (COFFER_TRUSTED_ISSUERS). */
export const trustedIssuerSchema = z.object({
  tenantId: nonEmpty(),
  /** The `iss` claim tokens of this tenant carry. */
  issuer: z.url(),
  jwksUri: z.url(),
  /** Accepted `aud` values. */
  audiences: z.array(nonEmpty()).check(z.minLength(1)),
  /** Sent in the 401 challenge: `authorization="<authority>"`. SDKs read its last segment as the tenant. */
  authority: z.url(),
});

export type TrustedIssuer = z.infer<typeof trustedIssuerSchema>;
