/**
 * The portmapper (RFC 1833, version 2 GETPORT): where a file server listens
 * for MOUNT, which has no standard port.
 */
import { RpcConnection } from './rpc.js';
import { XdrWriter } from './xdr.js';

export const PORTMAP_PORT = 111;
const PORTMAP = 100000;
const GETPORT = 3;
const TCP = 6;

/** The TCP port of `prog`/`vers` on `host`, or undefined when the portmapper does not know it (or does not answer). */
export async function lookUpPort(host: string, prog: number, vers: number, timeoutMs: number, signal?: AbortSignal): Promise<number | undefined> {
  const rpc = new RpcConnection(host, PORTMAP_PORT, { timeoutMs });
  try {
    const r = await rpc.call(PORTMAP, 2, GETPORT, new XdrWriter().u32(prog).u32(vers).u32(TCP).u32(0), signal);
    const port = r.u32();
    return port === 0 ? undefined : port;
  } catch (err) {
    signal?.throwIfAborted();
    void err; // no portmapper: the caller falls back to the conventional port
    return undefined;
  } finally {
    rpc.close();
  }
}
