/**
 * Rampart's chunk store, "rampart-store v1" (docs/repository-format.md): a
 * library over a BlobBackend; no HTTP, no database (the jobs section indexes
 * what it returns).
 *
 * Public API (kept stable; other sections build on it):
 *
 *   Backends (one interface, BlobBackend):
 *     localFolderBackend(root)                          a folder of this machine
 *     openSftpBackend({host, port, login, fingerprint, folder})  a folder on a Linux host over SSH/SFTP (pinned host key)
 *     sftpBackend(sftpChannel, folder, {host})          the same over an SFTP channel already open
 *     openSmbBackend({sharePath, login})                a folder on an SMB share (user-space SMB2 client, NTLMv2)
 *     openS3Backend(objectStorageTarget, {immutableDays?}) an S3-compatible bucket + folder (s3Backend(client, bucket, folder));
 *                                                       with immutableDays: COMPLIANCE object lock (docs/immutability.md)
 *     hardenedBackend(serviceAccess, {immutableDays})   a hardened Linux repository through Rampart's transport service
 *                                                       (installed by src/hardened/install.ts with single-use credentials)
 *
 *   Repository:
 *     openChunkStore(backend, {create?}) → ChunkStore   reads or creates rampart/config.json
 *
 *   Writing (one restore point = one object's disks at one time):
 *     const w = await beginRestorePoint(store, {backupId, objectId, restorePointId, compressionLevel,
 *                                               password?, job?, object?, base?, signal?, inFlight?, threads?})
 *     await w.writeDisk({key, uid?, name, chunkSize}, {size, read?(offset, len) | stream, changed?, handsOverBuffers?}, {onProgress?})
 *         read() may reuse its buffer (the writer copies) unless handsOverBuffers says each call returns a new one;
 *         memory ≈ (2 × inFlight + 2) × chunkSize + two worker threads; all-zero chunks are never stored;
 *         → {bytesRead, chunks, zeroChunks, newChunks, reusedChunks, bytesStored, indexCsum}
 *     await w.commit() → ManifestBody   (the manifest is written last: before this, nothing is visible)
 *     await w.abort()                   (on any failure; releases the lock, leaves garbage to GC)
 *     chunkSizeFor(storageOptimization), zstdLevelFor(compressionLevel) map Veeam settings.
 *
 *   Reading:
 *     const rp = await readRestorePoint(store, ref, {password?})  → {manifest, keyFingerprint}
 *     const disk = await openDisk(store, rp, diskKey) → {size, read(offset, len), stream()}
 *         every chunk is checked (CRC, GCM tag, digest); errors are ChunkStoreError naming disk and offset.
 *     listRestorePoints(store, {passwords?, within?}) → every restore point from its manifest (rescan / recovery);
 *         without the password of an encrypted one: ids, time and keyFingerprint only
 *
 *   Maintenance:
 *     deleteRestorePoint(store, ref), applyRetention(store, {backupId, objectId}, {keepRestorePoints? | keepDays?, gfs?, now?})
 *     flagRestorePoint(store, ref, gfsPolicy) → the GFS periods a new point opens (gfs.json); retention keeps flagged points
 *     collectGarbage(store, {graceMs?, dryRun?}) → {markedChunks, deletedChunks, deletedBytes, ...}
 *     verifyRestorePoints(store, {passwords?, refs?}) → {checkedChunks, badChunks, damagedRestorePoints}; bad chunks → .bad + quarantine/
 *     chooseExtent(extents, {holdingChain, expectedBytes?}), findChainExtents(extentStores, chain): scale-out (data locality)
 *
 *   Errors: ChunkStoreError {kind, message}; messages never contain a password or key.
 */
export type { BlobBackend, BlobInfo } from './backend.js';
export { BlobNotFoundError } from './backend.js';
export { localFolderBackend } from './local-backend.js';
export { ChunkStoreError, type ChunkStoreErrorKind } from './errors.js';
export { openChunkStore, type ChunkStore, type StoreConfig } from './repository.js';
export { chunkSizeFor, zstdLevelFor, CHUNK_SIZE_BY_OPTIMIZATION, ZSTD_LEVEL_BY_COMPRESSION, type CompressionLevel, type StorageOptimization } from './settings.js';
export type { RestorePointRef } from './layout.js';
export { manifestKey } from './layout.js';
export type { ManifestBody, ManifestDisk } from './manifest.js';
export type { DiskSource, DiskWriteStats, Extent } from './disk-writer.js';
export { beginRestorePoint, type RestorePointWriter, type RestorePointWriteOptions, type DiskDescription, type DiskWriteResult } from './restore-point-writer.js';
export { readRestorePoint, openDisk, type OpenedRestorePoint, type DiskReader } from './restore-point-reader.js';
export { sftpBackend, openSftpBackend } from './sftp-backend.js';
export { smbBackend, openSmbBackend, type SmbTarget } from './smb-backend.js';
export { s3Backend, openS3Backend } from './s3-backend.js';
export { hardenedBackend, type HardenedBackend, type HardenedServiceAccess } from './hardened-backend.js';
export type { BlobRetention } from './backend.js';
export { listRestorePoints, type ListedRestorePoint } from './restore-points.js';
export { deleteRestorePoint, applyRetention, restorePointImmutableUntil, type RetentionRule } from './retention.js';
export { flagRestorePoint, readGfsPeriods, gfsPeriodsFor, gfsKeptUntil, gfsPeriodStart, type GfsPeriod, type GfsPolicy } from './gfs.js';
export { collectGarbage, type GcOptions, type GcReport } from './gc.js';
export { verifyRestorePoints, type VerifyOptions, type VerifyReport, type BadChunk } from './verify.js';
export { chooseExtent, findChainExtents, type ExtentState, type PlacementRequest } from './scale-out.js';
