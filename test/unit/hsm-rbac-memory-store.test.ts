import { MemoryHsmRbacStore } from '../../lib/hsm/rbac-memory-store.ts';
import { describeHsmRbacStoreContract } from '../contract/hsm-rbac-store.contract.ts';

describeHsmRbacStoreContract('in memory', () => new MemoryHsmRbacStore());
