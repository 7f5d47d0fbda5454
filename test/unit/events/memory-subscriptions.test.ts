import { MemoryEventSubscriptionStore } from '../../../lib/events/memory-subscriptions.ts';
import { describeEventSubscriptionStoreContract } from '../../contract/event-subscription-store.contract.ts';

describeEventSubscriptionStoreContract('memory', () => new MemoryEventSubscriptionStore());
