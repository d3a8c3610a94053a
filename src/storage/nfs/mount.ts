/**
 * MOUNT v3 (RFC 1813 appendix I): turns an export path into the root file
 * handle NFSv3 works from, and lists what the server exports.
 */
import { RpcConnection, type RpcOptions } from './rpc.js';
import { XdrWriter } from './xdr.js';
import { lookUpPort } from './portmap.js';

export const MOUNT_PROGRAM = 100005;
/**
 * Used when the portmapper does not know MOUNT: 20048 is the port Linux's
 * rpc.mountd and NFS-Ganesha are commonly pinned to (several Ganesha
 * instances on one machine share one portmapper and unregister each other).
 */
export const CONVENTIONAL_MOUNT_PORT = 20048;

const MNT = 1;
const UMNT = 3;
const EXPORT = 5;

const MOUNT_ERRORS: Record<number, string> = {
  1: 'not permitted (the export does not list this server as a client)',
  2: 'no such export or folder',
  5: 'an I/O error on the server',
  13: 'access denied (the export does not list this server as a client)',
  20: 'not a folder',
  22: 'invalid argument',
  63: 'the path is too long',
  10004: 'not supported',
  10006: 'a server fault',
};

export class MountError extends Error {
  override name = 'MountError';
  constructor(
    readonly status: number,
    path: string,
    host: string,
  ) {
    super(`${host} refused to mount ${path}: ${MOUNT_ERRORS[status] ?? `MOUNT error ${status}`}`);
  }
}

export class MountClient {
  private constructor(private readonly rpc: RpcConnection) {}

  static async connect(host: string, options: RpcOptions & { port?: number }, signal?: AbortSignal): Promise<MountClient> {
    const port = options.port ?? (await lookUpPort(host, MOUNT_PROGRAM, 3, options.timeoutMs, signal)) ?? CONVENTIONAL_MOUNT_PORT;
    return new MountClient(new RpcConnection(host, port, options));
  }

  /** The export's root file handle. */
  async mount(path: string, signal?: AbortSignal): Promise<Buffer> {
    const r = await this.rpc.call(MOUNT_PROGRAM, 3, MNT, new XdrWriter().string(path), signal);
    const status = r.u32();
    if (status !== 0) throw new MountError(status, path, this.rpc.host);
    const handle = Buffer.from(r.opaque());
    return handle;
  }

  /** Tells the server the client is done (it only tidies the server's mount list; errors are not the caller's problem). */
  async unmount(path: string): Promise<void> {
    // Bounded short: closing a backend must not wait a whole call timeout on a server that went away.
    await this.rpc.call(MOUNT_PROGRAM, 3, UMNT, new XdrWriter().string(path), AbortSignal.timeout(3000)).catch(() => undefined);
  }

  /** The exported paths. */
  async exports(signal?: AbortSignal): Promise<string[]> {
    const r = await this.rpc.call(MOUNT_PROGRAM, 3, EXPORT, undefined, signal);
    const out: string[] = [];
    while (r.bool()) {
      out.push(r.string());
      while (r.bool()) r.string(); // groups allowed to mount it
    }
    return out;
  }

  close() {
    this.rpc.close();
  }
}
