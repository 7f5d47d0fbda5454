import * as z from 'zod';

/** A tenant's identity provider, as the deployment configures it (COFFER_TRUSTED_ISSUERS). */
export const trustedIssuerSchema = z.object({
  tenantId: z.string().min(1),
  /** The `iss` claim tokens of this tenant carry. */
  issuer: z.string().url(),
  jwksUri: z.string().url(),
  /** Accepted `aud` values. */
  audiences: z.array(z.string().min(1)).min(1),
  /** Sent in the 401 challenge: `authorization="<authority>"`. SDKs read its last segment as the tenant. */
  authority: z.string().url(),
});

export type TrustedIssuer = z.infer<typeof trustedIssuerSchema>;
