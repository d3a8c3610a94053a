import type { Selectable } from 'kysely';
import type { ScaleOutExtentsTable } from '../../store/schema.js';

export type ExtentRow = Selectable<ScaleOutExtentsTable>;
export type ExtentStatus = 'Normal' | 'Sealed' | 'Maintenance' | 'Pending' | 'Evacuate';
export type ModeAction = 'enableSealedMode' | 'disableSealedMode' | 'enableMaintenanceMode' | 'disableMaintenanceMode' | 'evacuateBackups';

/**
 * An extent's status from its modes: evacuation shows while it runs;
 * maintenance overrides sealed, and is Pending while sessions still use the
 * extent; sealed means no new writes.
 */
export function extentStatus(e: Pick<ExtentRow, 'sealed' | 'maintenance' | 'evacuating'>, activeSessions: number): ExtentStatus {
  if (Number(e.evacuating) === 1) return 'Evacuate';
  if (Number(e.maintenance) === 1) return activeSessions > 0 ? 'Pending' : 'Maintenance';
  if (Number(e.sealed) === 1) return 'Sealed';
  return 'Normal';
}

/** Why a transition is refused, or undefined when it is allowed. */
export function refuseTransition(action: ModeAction, status: ExtentStatus, sealed: boolean, name: string): string | undefined {
  switch (action) {
    case 'enableSealedMode':
      if (sealed) return `Extent "${name}" is already sealed.`;
      if (status === 'Evacuate') return `Extent "${name}" is being evacuated; wait for the evacuation to end.`;
      return undefined;
    case 'disableSealedMode':
      return sealed ? undefined : `Extent "${name}" is not sealed.`;
    case 'enableMaintenanceMode':
      return status === 'Maintenance' || status === 'Pending' || status === 'Evacuate'
        ? `Extent "${name}" is already in maintenance mode${status === 'Pending' ? ' (pending until its running sessions end)' : ''}.`
        : undefined;
    case 'disableMaintenanceMode':
      if (status === 'Evacuate') return `Extent "${name}" is being evacuated; maintenance mode stays on until the evacuation ends.`;
      return status === 'Maintenance' || status === 'Pending' ? undefined : `Extent "${name}" is not in maintenance mode.`;
    case 'evacuateBackups':
      if (status === 'Pending') return `Extent "${name}" is entering maintenance mode but sessions still use it; evacuate once its status is Maintenance.`;
      if (status === 'Evacuate') return `Extent "${name}" is already being evacuated.`;
      return status === 'Maintenance' ? undefined : `Extent "${name}" must be put in maintenance mode before its backups can be evacuated (enableMaintenanceMode first).`;
  }
}
