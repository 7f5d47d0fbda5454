/**
 * The local EventBridge's signature check (dev/sigv4.ts): requests scoped to `events`, refused with
 * EventBridge's exception names. The endpoint holds the webhooks' connection credentials and decides
 * where events go, so only the stack's own credential may use it.
 */
import { type Credentials, type SignedRequest, verifySigV4 } from '../sigv4.ts';
import { eventBridgeError } from './errors.ts';

export { isSigned } from '../sigv4.ts';

export function verifySignature(request: SignedRequest, credentials: Credentials, now = Date.now()): Promise<void> {
  return verifySigV4(request, credentials, { service: 'events', refuse: eventBridgeError }, now);
}
