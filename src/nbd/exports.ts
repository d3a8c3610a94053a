import { isWritable, type BlockSource } from './block-source.js';
import { TFLAG } from './protocol.js';

/** How a caller describes an export to `NbdServer.addExport`. */
export interface ExportOptions {
  /** The name clients ask for (for published exports, an unguessable token). */
  name: string;
  /** A BlockSource (served read-only) or a WritableBlockDevice such as the overlay. */
  device: BlockSource;
  /** Serve read-only even if the device can be written. */
  readOnly?: boolean;
  /** Shown by NBD_OPT_LIST; false for secret names. Default true. */
  listed?: boolean;
  /** Refuse the export unless the client upgraded with STARTTLS. */
  requireTls?: boolean;
  description?: string;
  /** What the logs call this export (never the name when the name is a secret). */
  logLabel?: string;
}

export interface ServedExport {
  readonly name: string;
  readonly device: BlockSource;
  readonly readOnly: boolean;
  readonly listed: boolean;
  readonly requireTls: boolean;
  readonly description?: string;
  readonly logLabel: string;
  readonly transmissionFlags: number;
}

export function serveExport(options: ExportOptions): ServedExport {
  if (!options.name || Buffer.byteLength(options.name) > 4096) throw new RangeError('an export name is 1 to 4096 bytes');
  if (!Number.isSafeInteger(options.device.size) || options.device.size < 0) throw new RangeError('device size must be a byte count');
  const readOnly = options.readOnly === true || !isWritable(options.device);
  const listed = options.listed ?? true;
  // CAN_MULTI_CONN holds for both kinds: one process serves every connection of an export, and
  // FLUSH on any connection flushes the whole redo file.
  const transmissionFlags = TFLAG.HAS_FLAGS | TFLAG.CAN_MULTI_CONN | (readOnly ? TFLAG.READ_ONLY : TFLAG.SEND_FLUSH | TFLAG.SEND_FUA | TFLAG.SEND_WRITE_ZEROES);
  return {
    name: options.name,
    device: options.device,
    readOnly,
    listed,
    requireTls: options.requireTls ?? false,
    ...(options.description !== undefined ? { description: options.description } : {}),
    logLabel: options.logLabel ?? (listed ? options.name : 'unlisted export'),
    transmissionFlags,
  };
}
