import { MemoryAccessStore } from '../../lib/access/memory-store.ts';
import { describeAccessStoreContract } from '../contract/access-store.contract.ts';

describeAccessStoreContract('in memory', () => new MemoryAccessStore());
