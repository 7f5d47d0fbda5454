import type { VaultClock } from '../core/clock.ts';
import { BadParameter, NotFound } from '../core/errors.ts';
import { assertObjectName, printable } from '../core/names.ts';
import type { ObjectSealer } from '../objects/sealing.ts';
import type { Page } from '../objects/store.ts';
import type { VaultAddress } from '../vaults/vault.ts';
import type { CertificateDocuments } from './documents.ts';
import type { Contact, ContactsRecord, IssuerRecord } from './records.ts';
import type { ContactsInput, SetIssuerInput, UpdateIssuerInput } from './schemas.ts';

/**
 * A vault's certificate contacts and issuers (reference §1.3). An issuer's password is sealed at rest
 * (bound to the vault and the issuer's name) and never answered: Azure answers the account id only.
 */
const CONTACTS = 'contacts';
/** Azure's limit on a vault's certificate contacts. */
const MAX_CONTACTS = 64;

interface IssuerDocument {
  provider: string;
  accountId?: string;
  /** The sealed password, base64. */
  password?: string;
  org_details?: IssuerRecord['org_details'];
  attributes: IssuerRecord['attributes'];
}

export class CertificateSettings {
  constructor(
    private readonly documents: CertificateDocuments,
    private readonly sealer: ObjectSealer,
    private readonly clock: VaultClock,
  ) {}

  async getContacts(at: VaultAddress): Promise<ContactsRecord> {
    const stored = await this.documents.get(at.vault.name, 'contacts', CONTACTS);
    if (!stored) throw new NotFound('ContactsNotFound', 'Contacts not found');
    return { contacts: stored.document.contacts as Contact[] };
  }

  async setContacts(at: VaultAddress, input: ContactsInput): Promise<ContactsRecord> {
    if (input.contacts.length > MAX_CONTACTS) throw new BadParameter(`A vault has at most ${MAX_CONTACTS} certificate contacts.`);
    const contacts = input.contacts.map((contact, index): Contact => {
      if (!contact.email) throw new BadParameter(`Contact ${index} has no email address: every certificate contact needs one.`);
      if (!/^[^@\s]+@[^@\s]+$/.test(contact.email)) throw new BadParameter(`Contact ${index} has an invalid email address.`);
      return {
        email: contact.email,
        ...(contact.name != null ? { name: contact.name } : {}),
        ...(contact.phone != null ? { phone: contact.phone } : {}),
      };
    });
    await this.documents.put(at.vault.name, 'contacts', CONTACTS, { contacts });
    return { contacts };
  }

  async deleteContacts(at: VaultAddress): Promise<ContactsRecord> {
    const contacts = await this.getContacts(at);
    await this.documents.delete(at.vault.name, 'contacts', CONTACTS);
    return contacts;
  }

  async getIssuer(at: VaultAddress, name: string): Promise<IssuerRecord> {
    assertObjectName('issuer', name);
    const stored = await this.documents.get(at.vault.name, 'issuers', name);
    if (!stored) throw issuerNotFound(name);
    return issuerRecord(stored.name, stored.document as unknown as IssuerDocument);
  }

  /** The issuer's provider, or undefined when the vault has no such issuer (for a policy naming it). */
  async providerOf(at: VaultAddress, name: string): Promise<string | undefined> {
    const stored = await this.documents.get(at.vault.name, 'issuers', name);
    return stored ? String(stored.document.provider) : undefined;
  }

  async setIssuer(at: VaultAddress, name: string, input: SetIssuerInput): Promise<IssuerRecord> {
    assertObjectName('issuer', name);
    const now = this.clock(at.vault.name);
    const previous = await this.documents.get(at.vault.name, 'issuers', name);
    const document: IssuerDocument = {
      provider: input.provider,
      ...(input.credentials?.account_id != null ? { accountId: input.credentials.account_id } : {}),
      ...(input.credentials?.pwd != null ? { password: await this.sealPassword(at, name, input.credentials.pwd) } : {}),
      ...(input.org_details ? { org_details: cleanOrganization(input.org_details) } : {}),
      attributes: {
        enabled: input.attributes?.enabled ?? true,
        created: (previous?.document as IssuerDocument | undefined)?.attributes.created ?? now,
        updated: now,
      },
    };
    await this.documents.put(at.vault.name, 'issuers', name, document as unknown as Record<string, unknown>);
    return issuerRecord(previous?.name ?? name, document);
  }

  async updateIssuer(at: VaultAddress, name: string, input: UpdateIssuerInput): Promise<IssuerRecord> {
    assertObjectName('issuer', name);
    const stored = await this.documents.get(at.vault.name, 'issuers', name);
    if (!stored) throw issuerNotFound(name);
    const previous = stored.document as unknown as IssuerDocument;
    const credentials = input.credentials;
    const document: IssuerDocument = {
      provider: input.provider ?? previous.provider,
      ...(credentials?.account_id != null
        ? { accountId: credentials.account_id }
        : previous.accountId !== undefined
          ? { accountId: previous.accountId }
          : {}),
      ...(credentials?.pwd != null
        ? { password: await this.sealPassword(at, name, credentials.pwd) }
        : previous.password !== undefined
          ? { password: previous.password }
          : {}),
      ...(input.org_details
        ? { org_details: cleanOrganization(input.org_details) }
        : previous.org_details
          ? { org_details: previous.org_details }
          : {}),
      attributes: {
        enabled: input.attributes?.enabled ?? previous.attributes.enabled,
        created: previous.attributes.created,
        updated: this.clock(at.vault.name),
      },
    };
    await this.documents.put(at.vault.name, 'issuers', name, document as unknown as Record<string, unknown>);
    return issuerRecord(stored.name, document);
  }

  async deleteIssuer(at: VaultAddress, name: string): Promise<IssuerRecord> {
    const issuer = await this.getIssuer(at, name);
    await this.documents.delete(at.vault.name, 'issuers', name);
    return issuer;
  }

  async listIssuers(at: VaultAddress, limit: number, cursor?: string): Promise<Page<IssuerRecord>> {
    const page = await this.documents.list(at.vault.name, 'issuers', limit, cursor);
    return {
      items: page.items.map((item) => issuerRecord(item.name, item.document as unknown as IssuerDocument)),
      ...(page.cursor ? { cursor: page.cursor } : {}),
    };
  }

  private async sealPassword(at: VaultAddress, name: string, password: string): Promise<string> {
    const sealed = await this.sealer.seal(
      at.vault,
      { collection: 'certificates', name: `issuer:${name.toLowerCase()}`, version: 'credentials' },
      'secret',
      Buffer.from(password, 'utf8'),
    );
    return Buffer.from(sealed).toString('base64');
  }
}

function issuerNotFound(name: string): NotFound {
  return new NotFound('CertificateIssuerNotFound', `Issuer not found: ${printable(name)}`);
}

function cleanOrganization(details: NonNullable<SetIssuerInput['org_details']>): NonNullable<IssuerRecord['org_details']> {
  const admins = details.admin_details?.map((admin) => Object.fromEntries(Object.entries(admin).filter(([, value]) => value != null))) as NonNullable<
    IssuerRecord['org_details']
  >['admin_details'];
  return { ...(details.id != null ? { id: details.id } : {}), ...(admins ? { admin_details: admins } : {}) };
}

function issuerRecord(name: string, document: IssuerDocument): IssuerRecord {
  return {
    name,
    provider: document.provider,
    ...(document.accountId !== undefined ? { credentials: { account_id: document.accountId } } : {}),
    ...(document.org_details ? { org_details: document.org_details } : {}),
    attributes: document.attributes,
  };
}
