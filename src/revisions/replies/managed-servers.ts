import { modelOrList, withExtrasEverywhere, type ShapeByDocument } from '../shapes.js';

/**
 * 1.3 renamed the Windows components (EWindowsHostComponentType → EHostComponentType): its
 * first 22 values are the earlier 22, renamed in the same order. Adds and edits take either
 * name (stored in the earlier one).
 */
export const COMPONENT_NAMES_1_3: Readonly<Record<string, string>> = {
  Transport: 'TransportSvc',
  Nfs: 'vPowerNFS',
  DeployerSvc: 'InstallerSvc',
  Tape: 'TapeProxy',
  CloudGate: 'CloudGateway',
  CloudServiceInvoker: 'CloudSvcInvoker',
  CloudServiceRemoting: 'CloudSvcRemoting',
  EpAgent: 'Agent',
  EpAgentSqlLocalDB: 'AgentSqlLocalDB',
  EpAgentSharedManagementObjects: 'AgentSharedMgmtObjects',
  EpAgentSqlSysClrTypes: 'AgentSqlSysClrTypes',
  AgentConfigureService: 'DistributionSvc',
  FileSystemVssIntegration: 'VssIntegration',
  VssHwSnapshotProvider: 'VssHvSnapshotProvider',
  Cdp: 'CdpSvc',
};

/**
 * The SSH settings (LinuxHostSSHSettingsModel) and Windows ports (WindowsHostPortsModel,
 * 1.3's ManagedHostPortsModel), built with both spellings of the side flag: 1.1-rev0 has
 * `serverThisSide`, 1.2-rev1 spells it `serverSide`. 1.3 no longer documents the SSH
 * `managementPort`; Rampart keeps it (the console may still show it).
 */
const SETTINGS: ShapeByDocument = {
  '1.1-rev0': { omit: ['serverSide'] },
  '1.2-rev1': { omit: ['serverThisSide'] },
  '1.3-rev0': { omit: ['serverThisSide'], extras: ['managementPort'], fields: { components: { '1.3-rev0': { spell: { componentName: COMPONENT_NAMES_1_3 } } } } },
};

/** `port` is a ViHost field in every document; Linux (SSH) and Windows (TLS) ports are Rampart's own. */
const OWN_PORT = { extras: ['port'] };
/** 1.3 requires `credentialsStorageType` on Windows hosts too (always `Permanent` there); earlier documents have it on Linux hosts only. */
const WINDOWS_BEFORE_1_3 = { extras: ['port'], omit: ['credentialsStorageType'] };

/**
 * ManagedServerModel, built flat for every type and revision at once (see model.ts):
 * 1.1-rev0 has no `status` (an extra there); `isBackupServer` is a 1.3 field of Linux and Windows hosts
 * (Rampart's own before, and on ViHost); the pinned identity, why a server is
 * unavailable and what the last SSH check learned are Rampart's own in every document.
 */
export const MANAGED_SERVER: ShapeByDocument = withExtrasEverywhere(['statusReason', 'sshFingerprint', 'sshHostKeyAlgorithm', 'certificateThumbprint', 'hostInfo'], {
  '1.1-rev0': {
    // 1.1-rev0 has no status; clients asking for Rampart's own fields still get it.
    extras: ['status', 'isBackupServer'],
    variants: { discriminator: 'type', shapes: { LinuxHost: OWN_PORT, WindowsHost: WINDOWS_BEFORE_1_3 } },
    fields: { sshSettings: SETTINGS, networkSettings: SETTINGS },
  },
  '1.2-rev1': {
    extras: ['isBackupServer'],
    variants: { discriminator: 'type', shapes: { LinuxHost: OWN_PORT, WindowsHost: WINDOWS_BEFORE_1_3 } },
    fields: { sshSettings: SETTINGS, networkSettings: SETTINGS },
  },
  '1.3-rev0': {
    variants: { discriminator: 'type', shapes: { LinuxHost: OWN_PORT, WindowsHost: OWN_PORT, ViHost: { extras: ['isBackupServer'] } } },
    fields: { sshSettings: SETTINGS, networkSettings: SETTINGS },
  },
});

export const MANAGED_SERVER_REPLY = modelOrList(MANAGED_SERVER);
