/** Who is calling: taken from a verified token, used for authorization and audit. */
export interface Principal {
  tenantId: string;
  /** `oid`: the principal's object id, what role assignments name. */
  objectId: string;
  /** `appid` (v1) or `azp` (v2): the client application. */
  appId?: string;
  /** `upn` for users, when the token has one. */
  upn?: string;
  issuer: string;
}
