import type { SecureContextOptions, TlsOptions } from 'node:tls';

/**
 * The TLS the local HTTPS servers (the gateway, the development identity provider) accept: TLS 1.3,
 * and TLS 1.2 with forward-secret AEAD suites only (ECDHE with AES-GCM or ChaCha20-Poly1305). No
 * CBC suite (padding-oracle and Lucky13 families), no static RSA key exchange (no forward secrecy),
 * no TLS 1.0 or 1.1. The same policy as Azure's front ends apply since TLS 1.0/1.1 were retired.
 *
 * A module of its own, free of dependencies: the gateway's process must not load dev/tls.ts (it
 * installs the Reflect metadata API that the certificate library needs, which Lambda does not have).
 */
const TLS13_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'];

/** ECDSA first (the local CA issues P-256 server certificates), RSA for a certificate put in place by hand. */
const TLS12_SUITES = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
];

export const SERVER_TLS_POLICY = {
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  // Node takes the TLS 1.3 suites from the same list (names starting `TLS_`) and the rest for TLS 1.2.
  ciphers: [...TLS13_SUITES, ...TLS12_SUITES].join(':'),
  // The server's order, so a client that also offers weaker suites still gets the strongest shared one.
  honorCipherOrder: true,
} as const satisfies SecureContextOptions & Pick<TlsOptions, 'honorCipherOrder'>;
