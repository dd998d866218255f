/** The audit log's reading side, and who an API caller is in it. */
import type { Repositories } from '../repositories/index.js';
import type { Actor, AuditFilter } from '../repositories/finance/audit-log.js';
import type { DepartmentScope } from '../repositories/scope.js';

/** The audit log's "who" for an authenticated caller. */
export const actorOf = (auth: { keyId: string; keyName: string }): Actor => ({ keyId: auth.keyId, keyName: auth.keyName });

export function createAuditLog(repos: Pick<Repositories, 'auditLog'>) {
  return {
    list: (scope: DepartmentScope, filter: AuditFilter) => repos.auditLog.list(scope, filter),
  };
}
export type AuditLogService = ReturnType<typeof createAuditLog>;
