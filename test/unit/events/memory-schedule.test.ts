import { MemoryDueStore } from '../../../lib/events/memory-schedule.ts';
import { describeDueStoreContract } from '../../contract/due-store.contract.ts';

describeDueStoreContract('memory', () => new MemoryDueStore());
