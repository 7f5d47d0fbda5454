/**
 * X.509 certificates and PKCS#10 requests: built and read with pkijs's ASN.1 structures, signed through a
 * callback because the private key usually lives in KMS. Pure: no I/O, no store.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import {
  AlgorithmIdentifier,
  Attribute,
  BasicConstraints,
  Certificate,
  CertificationRequest,
  Extension,
  Extensions,
  ExtKeyUsage,
  PublicKeyInfo,
  RelativeDistinguishedNames,
  Time,
} from 'pkijs';
import { BadParameter } from '../core/errors.ts';
import { KEY_USAGES } from './key-usages.ts';

export type SignerCurve = 'P-256' | 'P-384' | 'P-521';

/** Signs for a certificate or CSR. The private key may live in KMS, so signing is a callback. */
export interface CertificateSigner {
  kind: 'RSA' | 'EC';
  /** EC only. */
  curve?: SignerCurve;
  /**
   * Signs `data` (the DER of a TBSCertificate or CertificationRequestInfo): the callee hashes it with
   * signatureHash(signer), and answers the signature as X.509 carries it: RSASSA-PKCS1-v1_5 bytes, or
   * ECDSA as a DER Ecdsa-Sig-Value.
   */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export interface SubjectAlternativeNames {
  dns_names?: string[];
  emails?: string[];
  /** otherName UPN (1.3.6.1.4.1.311.20.2.3, UTF8String). */
  upns?: string[];
}

export interface X509Request {
  /** Azure's form, "CN=www.contoso.com, O=Contoso, OU=IT, C=US"; ';' separates as well as ','. */
  subject: string;
  sans?: SubjectAlternativeNames;
  /** OIDs. */
  ekus?: string[];
  /** Azure's names: digitalSignature, nonRepudiation, keyEncipherment, ... */
  key_usage?: string[];
  /** 1..1200. */
  validity_months: number;
}

export interface CertificateFacts {
  der: Uint8Array;
  /** Azure's form "CN=..., O=..." in the certificate's RDN order. */
  subject: string;
  issuer: string;
  sans?: SubjectAlternativeNames;
  ekus?: string[];
  key_usage?: string[];
  /** Unix seconds. */
  notBefore: number;
  notAfter: number;
  /** base64url SHA-1 of der. */
  x5t: string;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
  kind: 'RSA' | 'EC';
  /** RSA modulus bits. */
  keySize?: number;
  curve?: 'P-256' | 'P-384' | 'P-521' | 'P-256K';
  /** Rounded months between notBefore and notAfter, at least 1. */
  validityMonths: number;
}

const OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  extensionRequest: '1.2.840.113549.1.9.14',
  upn: '1.3.6.1.4.1.311.20.2.3',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
} as const;

type StringKind = 'utf8' | 'printable' | 'ia5';

/** Subject attributes by short name; DirectoryString ones are UTF8String as RFC 5280 recommends. */
const NAME_ATTRIBUTES: { short: string; oid: string; encoding: StringKind }[] = [
  { short: 'CN', oid: '2.5.4.3', encoding: 'utf8' },
  { short: 'O', oid: '2.5.4.10', encoding: 'utf8' },
  { short: 'OU', oid: '2.5.4.11', encoding: 'utf8' },
  { short: 'C', oid: '2.5.4.6', encoding: 'printable' },
  { short: 'L', oid: '2.5.4.7', encoding: 'utf8' },
  { short: 'ST', oid: '2.5.4.8', encoding: 'utf8' },
  { short: 'STREET', oid: '2.5.4.9', encoding: 'utf8' },
  { short: 'SERIALNUMBER', oid: '2.5.4.5', encoding: 'printable' },
  { short: 'E', oid: '1.2.840.113549.1.9.1', encoding: 'ia5' },
  { short: 'DC', oid: '0.9.2342.19200300.100.1.25', encoding: 'ia5' },
  { short: 'T', oid: '2.5.4.12', encoding: 'utf8' },
  { short: 'G', oid: '2.5.4.42', encoding: 'utf8' },
  { short: 'SN', oid: '2.5.4.4', encoding: 'utf8' },
  { short: 'UID', oid: '0.9.2342.19200300.100.1.1', encoding: 'utf8' },
];
// Azure writes the state as S; OpenSSL and RFC 4514 as ST; EMAILADDRESS is OpenSSL's long form.
const NAME_ALIASES: Record<string, string> = { S: 'ST', EMAILADDRESS: 'E', SERIALNUMBER: 'SERIALNUMBER' };
const ATTRIBUTE_BY_SHORT = new Map(NAME_ATTRIBUTES.map((attribute) => [attribute.short, attribute]));
const SHORT_BY_OID = new Map(NAME_ATTRIBUTES.map((attribute) => [attribute.oid, attribute.short]));

const OID_PATTERN = /^[0-2](\.(0|[1-9][0-9]*))+$/;
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

export function signatureHash(signer: Pick<CertificateSigner, 'kind' | 'curve'>): 'sha256' | 'sha384' | 'sha512' {
  if (signer.kind === 'EC' && signer.curve === 'P-384') return 'sha384';
  if (signer.kind === 'EC' && signer.curve === 'P-521') return 'sha512';
  return 'sha256';
}

interface NameAttribute {
  oid: string;
  encoding: StringKind;
  value: string;
}

/** Splits "CN=a, O=\"b, c\"; OU=d" into attributes: quoted values and backslash escapes may hold separators. */
function parseSubject(subject: string): NameAttribute[] {
  const attributes: NameAttribute[] = [];
  let at = 0;
  const text = subject.trim();
  if (text === '') throw new BadParameter('The certificate subject is empty.');
  while (at < text.length) {
    const equals = text.indexOf('=', at);
    if (equals < 0) throw new BadParameter(`The certificate subject '${subject}' has a part with no '='.`);
    const name = text.slice(at, equals).trim();
    const short = NAME_ALIASES[name.toUpperCase()] ?? name.toUpperCase();
    const known = ATTRIBUTE_BY_SHORT.get(short);
    if (!known) throw new BadParameter(`The certificate subject '${subject}' has an unknown attribute '${name}'.`);
    at = equals + 1;
    while (text[at] === ' ') at++;
    let value = '';
    if (text[at] === '"') {
      at++;
      while (at < text.length && text[at] !== '"') {
        if (text[at] === '\\' && at + 1 < text.length) at++;
        value += text[at];
        at++;
      }
      if (text[at] !== '"') throw new BadParameter(`The certificate subject '${subject}' has an unterminated quote.`);
      at++;
      while (text[at] === ' ') at++;
      if (at < text.length && text[at] !== ',' && text[at] !== ';') {
        throw new BadParameter(`The certificate subject '${subject}' has text after a quoted value.`);
      }
    } else {
      while (at < text.length && text[at] !== ',' && text[at] !== ';') {
        if (text[at] === '\\' && at + 1 < text.length) at++;
        value += text[at];
        at++;
      }
      value = value.trim();
    }
    if (value === '') throw new BadParameter(`The certificate subject '${subject}' has an empty value for '${name}'.`);
    if (known.encoding === 'printable' && !PRINTABLE.test(value)) {
      throw new BadParameter(`The certificate subject's ${name} '${value}' is not a printable string.`);
    }
    if (known.short === 'C' && value.length !== 2) {
      throw new BadParameter(`The certificate subject's country '${value}' is not a two-letter code.`);
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: IA5String is exactly the 7-bit range.
    if (known.encoding === 'ia5' && !/^[\x00-\x7f]*$/.test(value)) {
      throw new BadParameter(`The certificate subject's ${name} '${value}' is not ASCII.`);
    }
    attributes.push({ oid: known.oid, encoding: known.encoding, value });
    if (at < text.length) {
      at++; // the separator
      if (text.slice(at).trim() === '') throw new BadParameter(`The certificate subject '${subject}' ends with a separator.`);
    }
  }
  return attributes;
}

export function assertX509Request(request: X509Request): void {
  parseSubject(request.subject);
  for (const usage of request.key_usage ?? []) {
    if (!(KEY_USAGES as readonly string[]).includes(usage)) {
      throw new BadParameter(`Unknown key usage '${usage}'. Known: ${KEY_USAGES.join(', ')}.`);
    }
  }
  for (const eku of request.ekus ?? []) {
    if (!OID_PATTERN.test(eku)) throw new BadParameter(`The enhanced key usage '${eku}' is not an OID.`);
  }
  const months = request.validity_months;
  if (!Number.isInteger(months) || months < 1 || months > 1200) {
    throw new BadParameter(`validity_months must be an integer from 1 to 1200, not ${months}.`);
  }
  for (const name of request.sans?.dns_names ?? []) {
    if (name === '' || !/^[\x21-\x7e]+$/.test(name)) throw new BadParameter(`The DNS name '${name}' is not valid.`);
  }
  for (const email of request.sans?.emails ?? []) {
    if (!/^[\x21-\x7e]+@[\x21-\x7e]+$/.test(email)) throw new BadParameter(`The email '${email}' is not valid.`);
  }
  for (const upn of request.sans?.upns ?? []) {
    if (upn === '') throw new BadParameter('A user principal name is empty.');
  }
}

function stringValue(encoding: StringKind, value: string): asn1js.BaseBlock {
  if (encoding === 'printable') return new asn1js.PrintableString({ value });
  if (encoding === 'ia5') return new asn1js.IA5String({ value });
  return new asn1js.Utf8String({ value });
}

/** One attribute per RDN, in the order written: pkijs alone would put them all in one multi-valued RDN. */
function buildName(subject: string): RelativeDistinguishedNames {
  const sequence = new asn1js.Sequence({
    value: parseSubject(subject).map(
      (attribute) =>
        new asn1js.Set({
          value: [
            new asn1js.Sequence({
              value: [new asn1js.ObjectIdentifier({ value: attribute.oid }), stringValue(attribute.encoding, attribute.value)],
            }),
          ],
        }),
    ),
  });
  return RelativeDistinguishedNames.fromBER(sequence.toBER(false));
}

function derOf(block: { toBER(sizeOnly?: boolean): ArrayBuffer }): Uint8Array {
  return new Uint8Array(block.toBER(false));
}

/** DER BIT STRING of the usage bits: trailing zero bits dropped, as DER's NamedBitList rule requires. */
function keyUsageBits(usages: string[]): asn1js.BitString {
  const bits = usages.map((usage) => KEY_USAGES.indexOf(usage as (typeof KEY_USAGES)[number]));
  const highest = Math.max(...bits);
  const bytes = new Uint8Array((highest >> 3) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return new asn1js.BitString({ valueHex: bytes, unusedBits: bytes.length * 8 - (highest + 1) });
}

function contextString(tag: number, value: string): asn1js.Primitive {
  return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: tag }, valueHex: new TextEncoder().encode(value) });
}

/** GeneralNames by hand: pkijs's GeneralName cannot write an otherName with its [0] EXPLICIT value. */
function subjectAltNames(sans: SubjectAlternativeNames): asn1js.Sequence {
  const names: asn1js.BaseBlock[] = [
    ...(sans.dns_names ?? []).map((name) => contextString(2, name)),
    ...(sans.emails ?? []).map((email) => contextString(1, email)),
    ...(sans.upns ?? []).map(
      (upn) =>
        new asn1js.Constructed({
          idBlock: { tagClass: 3, tagNumber: 0 },
          value: [
            new asn1js.ObjectIdentifier({ value: OID.upn }),
            new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Utf8String({ value: upn })] }),
          ],
        }),
    ),
  ];
  return new asn1js.Sequence({ value: names });
}

function hasSans(sans: SubjectAlternativeNames | undefined): sans is SubjectAlternativeNames {
  return !!sans && [sans.dns_names, sans.emails, sans.upns].some((names) => (names?.length ?? 0) > 0);
}

/** The extensions a request asks for, in the order Azure's certificates carry them. */
function requestedExtensions(request: X509Request): Extension[] {
  const extensions: Extension[] = [];
  if (request.key_usage && request.key_usage.length > 0) {
    const usages = [...new Set(request.key_usage)];
    extensions.push(new Extension({ extnID: OID.keyUsage, critical: true, extnValue: keyUsageBits(usages).toBER(false) }));
  }
  if (request.ekus && request.ekus.length > 0) {
    const ekus = new ExtKeyUsage({ keyPurposes: [...new Set(request.ekus)] });
    extensions.push(new Extension({ extnID: OID.extKeyUsage, critical: false, extnValue: ekus.toSchema().toBER(false) }));
  }
  if (hasSans(request.sans)) {
    extensions.push(new Extension({ extnID: OID.subjectAltName, critical: false, extnValue: subjectAltNames(request.sans).toBER(false) }));
  }
  return extensions;
}

function publicKeyInfo(spki: Uint8Array): PublicKeyInfo {
  try {
    createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    return PublicKeyInfo.fromBER(spki);
  } catch {
    throw new BadParameter('The subject public key is not a DER SubjectPublicKeyInfo.');
  }
}

function signatureAlgorithm(signer: CertificateSigner): AlgorithmIdentifier {
  if (signer.kind === 'RSA') {
    return new AlgorithmIdentifier({ algorithmId: OID.sha256WithRsa, algorithmParams: new asn1js.Null() });
  }
  const hash = signatureHash(signer);
  const algorithmId = hash === 'sha384' ? OID.ecdsaWithSha384 : hash === 'sha512' ? OID.ecdsaWithSha512 : OID.ecdsaWithSha256;
  return new AlgorithmIdentifier({ algorithmId });
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5); whole seconds. */
function x509Time(date: Date): Time {
  const seconds = new Date(Math.floor(date.getTime() / 1000) * 1000);
  return new Time({ type: seconds.getUTCFullYear() < 2050 ? 0 : 1, value: seconds });
}

/** `months` calendar months after `date`, the day clamped to the target month's last day (Jan 31 + 1 = Feb 28/29). */
function addMonths(date: Date, months: number): Date {
  const total = date.getUTCMonth() + months;
  const year = date.getUTCFullYear() + Math.floor(total / 12);
  const month = ((total % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(
      year,
      month,
      Math.min(date.getUTCDate(), lastDay),
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
      date.getUTCMilliseconds(),
    ),
  );
}

/** A positive serial of 16 random bytes: the top bit cleared so the INTEGER needs no sign byte, never zero. */
function randomSerial(): asn1js.Integer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return new asn1js.Integer({ valueHex: bytes });
}

/** SHA-1 of the subjectPublicKey bits, RFC 5280 §4.2.1.2 method (1). */
function keyIdentifier(info: PublicKeyInfo): Uint8Array {
  return createHash('sha1').update(info.subjectPublicKey.valueBlock.valueHexView).digest();
}

export async function issueSelfSigned(request: X509Request, spki: Uint8Array, signer: CertificateSigner, now: Date): Promise<Uint8Array> {
  assertX509Request(request);
  const info = publicKeyInfo(spki);
  const name = buildName(request.subject);
  const keyId = keyIdentifier(info);
  const certificate = new Certificate({
    version: 2,
    serialNumber: randomSerial(),
    signature: signatureAlgorithm(signer),
    issuer: name,
    subject: buildName(request.subject),
    notBefore: x509Time(now),
    notAfter: x509Time(addMonths(now, request.validity_months)),
    subjectPublicKeyInfo: info,
    extensions: [
      new Extension({
        extnID: OID.subjectKeyIdentifier,
        critical: false,
        extnValue: new asn1js.OctetString({ valueHex: keyId }).toBER(false),
      }),
      new Extension({
        extnID: OID.authorityKeyIdentifier,
        critical: false,
        extnValue: new asn1js.Sequence({
          value: [new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: keyId })],
        }).toBER(false),
      }),
      ...requestedExtensions(request),
      new Extension({
        extnID: OID.basicConstraints,
        critical: false,
        extnValue: new BasicConstraints({ cA: false }).toSchema().toBER(false),
      }),
    ],
    signatureAlgorithm: signatureAlgorithm(signer),
  });
  const tbs = derOf(certificate.encodeTBS());
  certificate.tbsView = tbs;
  certificate.signatureValue = new asn1js.BitString({ valueHex: await signer.sign(tbs) });
  return derOf(certificate.toSchema(false));
}

export async function buildCsr(request: X509Request, spki: Uint8Array, signer: CertificateSigner): Promise<Uint8Array> {
  assertX509Request(request);
  const extensions = requestedExtensions(request);
  const csr = new CertificationRequest({
    version: 0,
    subject: buildName(request.subject),
    subjectPublicKeyInfo: publicKeyInfo(spki),
    attributes: extensions.length > 0 ? [new Attribute({ type: OID.extensionRequest, values: [new Extensions({ extensions }).toSchema()] })] : [],
    signatureAlgorithm: signatureAlgorithm(signer),
  });
  // toSchema(true) encodes the CertificationRequestInfo afresh; its first element is what gets signed.
  const info = derOf(csr.toSchema(true).valueBlock.value[0]!);
  csr.tbsView = info;
  csr.signatureValue = new asn1js.BitString({ valueHex: await signer.sign(info) });
  return derOf(csr.toSchema(false));
}

/** Whether `value` needs quotes to read back as one value. */
function quoteIfNeeded(value: string): string {
  if (!/[,;"\\+=]|^\s|\s$/.test(value)) return value;
  return `"${value.replace(/["\\]/g, (character) => `\\${character}`)}"`;
}

function attributeText(value: asn1js.AsnType): string {
  if (value instanceof asn1js.BaseStringBlock) return value.getValue();
  // Not a string: RFC 4514's #hex of the DER.
  return `#${Buffer.from(value.toBER(false)).toString('hex')}`;
}

/** Azure's "CN=..., O=..." in the name's encoded order. */
function printName(name: RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((typeAndValue) => {
      const short = SHORT_BY_OID.get(typeAndValue.type) ?? typeAndValue.type;
      return `${short}=${quoteIfNeeded(attributeText(typeAndValue.value as asn1js.AsnType))}`;
    })
    .join(', ');
}

function parseCertificate(der: Uint8Array): { node: X509Certificate; pki: Certificate } {
  const parsed = asn1js.fromBER(der);
  if (der.length === 0 || der[0] !== 0x30 || parsed.offset !== der.length || parsed.result.error) {
    throw new BadParameter('The certificate is not one DER-encoded X.509 certificate.');
  }
  try {
    return { node: new X509Certificate(Buffer.from(der)), pki: new Certificate({ schema: parsed.result }) };
  } catch {
    throw new BadParameter('The certificate is not one DER-encoded X.509 certificate.');
  }
}

function readSans(extnValue: Uint8Array): SubjectAlternativeNames {
  const parsed = asn1js.fromBER(extnValue);
  const sans: Required<SubjectAlternativeNames> = { dns_names: [], emails: [], upns: [] };
  if (!(parsed.result instanceof asn1js.Sequence)) return {};
  const decoder = new TextDecoder();
  for (const name of parsed.result.valueBlock.value) {
    if (name.idBlock.tagClass !== 3) continue;
    const tag = name.idBlock.tagNumber;
    if ((tag === 1 || tag === 2) && name instanceof asn1js.Primitive) {
      const text = decoder.decode(name.valueBlock.valueHexView);
      (tag === 2 ? sans.dns_names : sans.emails).push(text);
    } else if (tag === 0 && name instanceof asn1js.Constructed) {
      const [typeId, wrapped] = name.valueBlock.value;
      if (!(typeId instanceof asn1js.ObjectIdentifier) || typeId.valueBlock.toString() !== OID.upn) continue;
      const inner = wrapped instanceof asn1js.Constructed ? wrapped.valueBlock.value[0] : undefined;
      if (inner) sans.upns.push(attributeText(inner));
    }
  }
  const answer: SubjectAlternativeNames = {};
  if (sans.dns_names.length > 0) answer.dns_names = sans.dns_names;
  if (sans.emails.length > 0) answer.emails = sans.emails;
  if (sans.upns.length > 0) answer.upns = sans.upns;
  return answer;
}

function readKeyUsage(extnValue: Uint8Array): string[] {
  const parsed = asn1js.fromBER(extnValue);
  if (!(parsed.result instanceof asn1js.BitString)) return [];
  const bytes = parsed.result.valueBlock.valueHexView;
  return KEY_USAGES.filter((_, bit) => ((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0);
}

const CURVES: Record<string, CertificateFacts['curve']> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
  secp256k1: 'P-256K',
};

const AVERAGE_MONTH_SECONDS = (365.2425 / 12) * 86_400;

export function describeCertificate(der: Uint8Array): CertificateFacts {
  const { node, pki } = parseCertificate(der);
  const publicKey = node.publicKey;
  const details = publicKey.asymmetricKeyDetails ?? {};
  let kind: CertificateFacts['kind'];
  if (publicKey.asymmetricKeyType === 'rsa') kind = 'RSA';
  else if (publicKey.asymmetricKeyType === 'ec') kind = 'EC';
  else throw new BadParameter(`The certificate's key type '${publicKey.asymmetricKeyType}' is not supported.`);
  const notBefore = Math.floor(pki.notBefore.value.getTime() / 1000);
  const notAfter = Math.floor(pki.notAfter.value.getTime() / 1000);
  const facts: CertificateFacts = {
    der: new Uint8Array(der),
    subject: printName(pki.subject),
    issuer: printName(pki.issuer),
    notBefore,
    notAfter,
    x5t: createHash('sha1').update(der).digest('base64url'),
    spki: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })),
    kind,
    validityMonths: Math.max(1, Math.round((notAfter - notBefore) / AVERAGE_MONTH_SECONDS)),
  };
  if (kind === 'RSA' && details.modulusLength) facts.keySize = details.modulusLength;
  if (kind === 'EC' && details.namedCurve) {
    const curve = CURVES[details.namedCurve];
    if (curve) facts.curve = curve;
  }
  for (const extension of pki.extensions ?? []) {
    const value = extension.extnValue.valueBlock.valueHexView;
    if (extension.extnID === OID.subjectAltName) {
      const sans = readSans(value);
      if (Object.keys(sans).length > 0) facts.sans = sans;
    } else if (extension.extnID === OID.keyUsage) {
      facts.key_usage = readKeyUsage(value);
    } else if (extension.extnID === OID.extKeyUsage) {
      const parsed = asn1js.fromBER(value);
      if (parsed.result instanceof asn1js.Sequence) facts.ekus = new ExtKeyUsage({ schema: parsed.result }).keyPurposes;
    }
  }
  return facts;
}

export function keyMatchesCertificate(certDer: Uint8Array, privateKeyPkcs8: Uint8Array): boolean {
  const { node } = parseCertificate(certDer);
  try {
    return node.checkPrivateKey(createPrivateKey({ key: Buffer.from(privateKeyPkcs8), format: 'der', type: 'pkcs8' }));
  } catch {
    // A key that is not PKCS#8, or of another type than the certificate's, is not its key.
    return false;
  }
}

export function spkiMatchesCertificate(certDer: Uint8Array, spki: Uint8Array): boolean {
  const { node } = parseCertificate(certDer);
  const own = node.publicKey.export({ format: 'der', type: 'spki' });
  try {
    const other = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ format: 'der', type: 'spki' });
    return Buffer.compare(own, other) === 0;
  } catch {
    return false;
  }
}

export function orderChain(chain: Uint8Array[]): Uint8Array[] {
  const certificates = chain.map((der) => {
    const { pki } = parseCertificate(der);
    return { der, subject: derOf(pki.subject.toSchema()), issuer: derOf(pki.issuer.toSchema()) };
  });
  const sameName = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
  const selfIssued = (index: number) => sameName(certificates[index]!.subject, certificates[index]!.issuer);
  const chainFrom = (start: number): number[] => {
    const walked: number[] = [];
    let current = start;
    while (current >= 0 && !walked.includes(current)) {
      walked.push(current);
      if (selfIssued(current)) break;
      const issuer = certificates[current]!.issuer;
      current = certificates.findIndex((certificate, index) => !walked.includes(index) && sameName(certificate.subject, issuer));
    }
    return walked;
  };
  // A leaf issued none of the others. Of several, the longest chain wins, then one not self-issued (a
  // stray root given first is no leaf), then the order given.
  let ordered: number[] = [];
  certificates.forEach((certificate, index) => {
    const issuesAnother = certificates.some(
      (other, otherIndex) => otherIndex !== index && !selfIssued(otherIndex) && sameName(other.issuer, certificate.subject),
    );
    if (issuesAnother) return;
    const walked = chainFrom(index);
    const longer = walked.length > ordered.length;
    const sameButNotSelfIssued = walked.length === ordered.length && selfIssued(ordered[0]!) && !selfIssued(index);
    if (longer || sameButNotSelfIssued) ordered = walked;
  });
  return [...ordered, ...Array.from(certificates.keys()).filter((index) => !ordered.includes(index))].map((index) => certificates[index]!.der);
}
