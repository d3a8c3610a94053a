// The block-device layer's public surface (see docs/nbd.md).
export { bufferBlockSource, fileBlockSource, type BlockSource, type WritableBlockDevice } from './block-source.js';
export { NbdServer, type ListenOptions, type NbdServerOptions } from './server.js';
export type { ExportOptions } from './exports.js';
export { CopyOnWriteOverlay, DEFAULT_OVERLAY_BLOCK, type OverlayOptions } from './overlay.js';
export { ExportPublisher, type PublishOptions, type PublishedExport } from './publish.js';
export { mountExportAsFile, rampartMountsUnder, unmountStaleMounts, RAMPART_FUSE_FSNAME, type FuseMount, type MountOptions } from './fuse-mount.js';
