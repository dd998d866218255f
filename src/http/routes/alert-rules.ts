/**
 * Per-department rules of the outside-hours alert: the department's own working hours
 * (or the fleet-wide WORKING_HOURS) and the vehicles exempt from the alert (ambulances,
 * fire and disaster response). Anyone may read the rules of the departments their key
 * sees; only an admin changes them, and an admin limited to a department only its own.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { WorkingHours } from '../../domain/report-time.js';
import { BadRequestError, NotFoundError } from '../../errors.js';
import { assertDepartmentVisible, requireRole } from '../auth.js';
import type { AppDeps } from '../app.js';
import { errorResponse } from '../schemas.js';

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'a time like 07:30 (24:00 for the end of the day)');
const hoursView = z.object({
  weekdays: z.array(z.number().int().min(1).max(7)).describe('ISO weekdays, 1 = Monday … 7 = Sunday'),
  start: clock.describe('Local time (REPORT_TZ) the working day starts'),
  end: clock.describe('Local time it ends (exclusive)'),
});
const departmentRules = z.object({
  departmentId: z.uuid(),
  workingHours: hoursView.nullable().describe('null: the fleet-wide WORKING_HOURS'),
  exemptVehicleIds: z.array(z.uuid()).describe('Vehicles that raise no outside-hours alert'),
});
const rulesList = z.object({
  defaultWorkingHours: hoursView,
  editable: z.boolean().describe('This key may change the rules (an admin key)'),
  departments: z.array(departmentRules),
});

const toMin = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));
const toClock = (min: number) => `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;
const view = (h: { weekdays: readonly number[]; startMin: number; endMin: number }) => ({
  weekdays: [...h.weekdays],
  start: toClock(h.startMin),
  end: toClock(h.endMin),
});

export function alertRuleRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { alertRules, departments, vehicles } = deps.repos;
  const defaults: WorkingHours = deps.services.analytics.settings.workingHours;
  return async (app) => {
    app.get(
      '/alert-rules',
      {
        schema: { tags: ['alerts'], summary: 'Working hours and outside-hours exemptions, per department', response: { 200: rulesList } },
      },
      async (request) => {
        const [deps_, rules, exempt] = await Promise.all([
          departments.list(request.auth),
          alertRules.list(request.auth),
          alertRules.exemptVehicleIds(request.auth),
        ]);
        const byDept = new Map(rules.map((r) => [r.departmentId, r]));
        return {
          defaultWorkingHours: view(defaults),
          editable: request.auth.role === 'admin',
          departments: deps_.map((d) => ({
            departmentId: d.id,
            workingHours: byDept.has(d.id) ? view(byDept.get(d.id)!) : null,
            exemptVehicleIds: exempt.filter((v) => v.departmentId === d.id).map((v) => v.id),
          })),
        };
      },
    );

    app.put(
      '/departments/:id/alert-rules',
      {
        preHandler: requireRole('admin'),
        schema: {
          tags: ['alerts'],
          summary: "Set a department's working hours and its vehicles exempt from outside-hours alerts",
          description: 'The alert engine in this process applies them to the next readings; engines in other processes within 30 seconds.',
          params: z.object({ id: z.uuid() }),
          body: z.object({ workingHours: hoursView.nullable(), exemptVehicleIds: z.array(z.uuid()).max(10_000) }).strict(),
          response: { 200: departmentRules, 400: errorResponse, 403: errorResponse, 404: errorResponse },
        },
      },
      async (request) => {
        const departmentId = request.params.id;
        assertDepartmentVisible(request.auth, departmentId);
        if (!(await departments.findById(departmentId))) throw new NotFoundError('Department');
        const h = request.body.workingHours;
        let hours: { weekdays: number[]; startMin: number; endMin: number } | null = null;
        if (h) {
          const weekdays = [...new Set(h.weekdays)].sort();
          if (weekdays.length === 0) throw new BadRequestError('Give at least one working day.');
          hours = { weekdays, startMin: toMin(h.start), endMin: toMin(h.end) };
          if (hours.startMin >= hours.endMin) throw new BadRequestError('The working day must start before it ends, within one day.');
        }
        const own = new Set((await vehicles.list(request.auth, { departmentId })).map((v) => v.id));
        const exempt = [...new Set(request.body.exemptVehicleIds)];
        const foreign = exempt.filter((id) => !own.has(id));
        if (foreign.length > 0) throw new BadRequestError(`Not vehicles of this department: ${foreign.join(', ')}.`);
        await alertRules.set(departmentId, hours, exempt, deps.now());
        deps.onAlertRulesChanged?.();
        return { departmentId, workingHours: hours ? view(hours) : null, exemptVehicleIds: exempt.sort() };
      },
    );
  };
}
