import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcConnection, RpcError } from '../../src/storage/nfs/rpc.js';
import { XdrReader, XdrWriter } from '../../src/storage/nfs/xdr.js';

/**
 * ONC RPC edge cases a healthy NFS server rarely produces, from a small
 * RPC peer on loopback: replies out of order, a reply split into several
 * record-marking fragments and TCP segments, denied and unaccepted calls,
 * a call never answered, an aborted call, a dropped connection.
 */

type Call = { xid: number; proc: number; args: XdrReader; cred: { flavor: number; uid?: number; gid?: number }; socket: net.Socket };

/** A successful reply (MSG_ACCEPTED, null verifier, SUCCESS) carrying `body`. */
function reply(xid: number, body: (w: XdrWriter) => void): Buffer {
  const w = new XdrWriter().u32(xid).u32(1).u32(0).u32(0).u32(0).u32(0);
  body(w);
  return Buffer.concat(w.toBuffers());
}

const unaccepted = (xid: number, acceptStat: number) => Buffer.concat(new XdrWriter().u32(xid).u32(1).u32(0).u32(0).u32(0).u32(acceptStat).toBuffers());
const denied = (xid: number, authStat: number) => Buffer.concat(new XdrWriter().u32(xid).u32(1).u32(1).u32(1).u32(authStat).toBuffers());

/** One record in `fragments` pieces, each sent in its own write a few ms apart. */
async function send(socket: net.Socket, record: Buffer, fragments = 1) {
  const size = Math.ceil(record.length / fragments);
  for (let at = 0; at < record.length; at += size) {
    const piece = record.subarray(at, at + size);
    const mark = Buffer.alloc(4);
    mark.writeUInt32BE(((at + size >= record.length ? 0x80000000 : 0) | piece.length) >>> 0);
    const framed = Buffer.concat([mark, piece]);
    // Split the bytes across TCP writes too, mid-header.
    socket.write(framed.subarray(0, 2));
    await new Promise((r) => setTimeout(r, 5));
    socket.write(framed.subarray(2));
  }
}

describe('ONC RPC over TCP', () => {
  let server: net.Server;
  let port: number;
  const calls: Call[] = [];
  let onCall: (c: Call) => void = () => undefined;
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      let buffered = Buffer.alloc(0);
      socket.on('data', (data) => {
        buffered = Buffer.concat([buffered, data]);
        while (buffered.length >= 4) {
          const length = buffered.readUInt32BE(0) & 0x7fffffff;
          if (buffered.length < 4 + length) return;
          const r = new XdrReader(buffered.subarray(4, 4 + length));
          buffered = buffered.subarray(4 + length);
          const xid = r.u32();
          r.u32(); // CALL
          r.u32(); // rpcvers
          r.u32(); // prog
          r.u32(); // vers
          const proc = r.u32();
          const flavor = r.u32();
          const body = new XdrReader(r.opaque());
          const cred: Call['cred'] = { flavor };
          if (flavor === 1) {
            body.u32();
            body.string();
            cred.uid = body.u32();
            cred.gid = body.u32();
          }
          r.u32();
          r.opaque();
          const call = { xid, proc, args: r, cred, socket };
          calls.push(call);
          onCall(call);
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('matches replies to calls by xid when they come back out of order, in fragments, with AUTH_SYS sent', async () => {
    const rpc = new RpcConnection('127.0.0.1', port, { timeoutMs: 5000, credentials: { uid: 1234, gid: 5678 } });
    const held: Call[] = [];
    onCall = (c) => {
      held.push(c);
      if (held.length === 3)
        // Answer the last call first, the first one in three fragments.
        void (async () => {
          for (const h of [held[2]!, held[1]!, held[0]!]) {
            const value = h.args.u32();
            await send(
              h.socket,
              reply(h.xid, (w) => w.u32(value * 10).opaque(Buffer.alloc(100_000, value))),
              h === held[0] ? 3 : 1,
            );
          }
        })();
    };
    const results = await Promise.all(
      [1, 2, 3].map(async (n) => {
        const r = await rpc.call(100003, 3, 42, new XdrWriter().u32(n));
        return { n: r.u32(), data: r.opaque() };
      }),
    );
    expect(results.map((r) => r.n)).toEqual([10, 20, 30]);
    expect(results.map((r) => r.data.length)).toEqual([100_000, 100_000, 100_000]);
    expect(results.every((r, i) => r.data.every((b) => b === i + 1))).toBe(true);
    expect(held.map((c) => c.cred)).toEqual(Array(3).fill({ flavor: 1, uid: 1234, gid: 5678 }));
    rpc.close();
  });

  it('says what the server refused: an unknown program, refused credentials', async () => {
    const rpc = new RpcConnection('127.0.0.1', port, { timeoutMs: 5000 });
    onCall = (c) => {
      if (c.proc === 1)
        void send(c.socket, unaccepted(c.xid, 1)); // PROG_UNAVAIL
      else void send(c.socket, denied(c.xid, 5)); // AUTH_ERROR, AUTH_TOOWEAK
    };
    await expect(rpc.call(100005, 3, 1)).rejects.toThrow(/the program is not offered by the server/);
    await expect(rpc.call(100005, 3, 2)).rejects.toThrow(/refused the call: the server requires stronger authentication \(Kerberos is not supported/);
    expect(calls.at(-1)!.cred).toEqual({ flavor: 0 });
    rpc.close();
  });

  it('a call never answered times out, an aborted call stops at once, a dropped connection fails what is pending and the next call reconnects', async () => {
    const rpc = new RpcConnection('127.0.0.1', port, { timeoutMs: 300 });
    onCall = () => undefined;
    const started = Date.now();
    await expect(rpc.call(100003, 3, 0)).rejects.toThrow(/no answer from 127\.0\.0\.1:\d+ within 0\.3 s/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);

    const slow = new RpcConnection('127.0.0.1', port, { timeoutMs: 10_000 });
    const controller = new AbortController();
    const aborted = slow.call(100003, 3, 0, undefined, controller.signal);
    setTimeout(() => controller.abort(new Error('stopped by the user')), 50);
    await expect(aborted).rejects.toThrow('stopped by the user');

    onCall = (c) => c.socket.destroy();
    await expect(slow.call(100003, 3, 0)).rejects.toThrow(RpcError);
    onCall = (c) =>
      void send(
        c.socket,
        reply(c.xid, (w) => w.u32(7)),
      );
    expect((await slow.call(100003, 3, 0)).u32()).toBe(7);
    slow.close();
    rpc.close();
    await expect(slow.call(100003, 3, 0)).rejects.toThrow(/is closed/);
  });
});
