import { modelOrList, withExtrasEverywhere, type ShapeByDocument } from '../shapes.js';

/**
 * The SSH settings (LinuxHostSSHSettingsModel) and Windows ports (WindowsHostPortsModel,
 * 1.3's ManagedHostPortsModel), built with both spellings of the side flag: 1.1-rev0 has
 * `serverThisSide`, 1.2-rev1 spells it `serverSide`. 1.3 no longer documents the SSH
 * `managementPort`; Rampart keeps it (the console may still show it).
 */
const SETTINGS: ShapeByDocument = {
  '1.1-rev0': { omit: ['serverSide'] },
  '1.2-rev1': { omit: ['serverThisSide'] },
  '1.3-rev0': { omit: ['serverThisSide'], extras: ['managementPort'] },
};

/** `port` is a ViHost field in every document; Linux (SSH) and Windows (TLS) ports are Rampart's own. */
const OWN_PORT = { extras: ['port'] };

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
    variants: { discriminator: 'type', shapes: { LinuxHost: OWN_PORT, WindowsHost: OWN_PORT } },
    fields: { sshSettings: SETTINGS, networkSettings: SETTINGS },
  },
  '1.2-rev1': {
    extras: ['isBackupServer'],
    variants: { discriminator: 'type', shapes: { LinuxHost: OWN_PORT, WindowsHost: OWN_PORT } },
    fields: { sshSettings: SETTINGS, networkSettings: SETTINGS },
  },
  '1.3-rev0': {
    variants: { discriminator: 'type', shapes: { LinuxHost: OWN_PORT, WindowsHost: OWN_PORT, ViHost: { extras: ['isBackupServer'] } } },
    fields: { sshSettings: SETTINGS, networkSettings: SETTINGS },
  },
});

export const MANAGED_SERVER_REPLY = modelOrList(MANAGED_SERVER);
