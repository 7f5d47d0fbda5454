import { HsmRbacManagement } from '../hsm/rbac-management.ts';
import { hsmOperations } from './hsm.ts';

/** The composition root of a pool's role assignments and definitions (docs/adr/0021): no keys domain, no HSM. */
export interface HsmRbacServices {
  rbacManagement: HsmRbacManagement;
}

/** `hsmRbacOperation('CreateHsmRoleAssignment', schemas, run)`: a pool's role assignment or definition handler. */
export const hsmRbacOperation = hsmOperations<HsmRbacServices>((_shared, plane) => ({
  rbacManagement: new HsmRbacManagement(plane.rbacStore, plane.rbac),
}));
