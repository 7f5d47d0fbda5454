import pkcs11js from 'pkcs11js';
import { Conflict } from '../core/errors.ts';
import { type PoolTokenProvisioner, type PoolTokenSecrets, poolTokenLabel } from '../hsm/pool-host-tokens.ts';
import { ckrName, hsmUnavailable } from './errors.ts';
import { pkcs11Library } from './token-session.ts';

/**
 * A token per pool, initialised through PKCS#11 itself (C_InitToken on a slot whose token is not yet
 * initialised, then C_InitPIN as the security officer), for libraries that offer such slots:
 * SoftHSM2 always keeps one free. No PIN reaches a message or a log: a failure's cause is the CKR
 * name alone.
 */
export class Pkcs11PoolTokens implements PoolTokenProvisioner {
  constructor(private readonly libraryPath: string) {}

  async provision(pool: string, secrets: PoolTokenSecrets): Promise<string> {
    const label = poolTokenLabel(pool);
    const module = pkcs11Library(this.libraryPath);
    const slots = module.C_GetSlotList(true);
    const infos = slots.map((slot) => ({ slot, info: module.C_GetTokenInfo(slot) }));
    if (infos.some(({ info }) => info.label.trim() === label)) throw new Conflict(`The managed HSM pool '${pool}' has a token already.`);
    const free = infos.find(({ info }) => (info.flags & pkcs11js.CKF_TOKEN_INITIALIZED) === 0);
    if (!free) throw hsmUnavailable('the PKCS#11 library has no free slot for a new token', undefined);
    try {
      // PKCS#11 labels are 32 characters padded with blanks; pkcs11js pads with NULs, which readers' trim() keeps.
      module.C_InitToken(free.slot, secrets.soPin, label.padEnd(32, ' '));
      const session = module.C_OpenSession(free.slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      try {
        module.C_Login(session, pkcs11js.CKU_SO, secrets.soPin);
        module.C_InitPIN(session, secrets.pin);
        module.C_Logout(session);
      } finally {
        module.C_CloseSession(session);
      }
    } catch (error) {
      throw hsmUnavailable(`the token of pool '${pool}' could not be initialised`, new Error(ckrName(error) ?? 'initialisation failed'));
    }
    return label;
  }
}
