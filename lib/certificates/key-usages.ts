/**
 * Key usage names in bit order (RFC 5280 §4.2.1.3): the index is the bit. Apart from x509.ts so the
 * policy rules can name them without the X.509 library, which only the issuing functions bundle.
 */
export const KEY_USAGES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
