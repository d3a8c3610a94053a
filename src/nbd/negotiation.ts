// Option haggling of the fixed newstyle handshake (proto.md "Option haggling"): the client
// picks an export with NBD_OPT_GO or NBD_OPT_EXPORT_NAME, may ask about it with NBD_OPT_INFO,
// list the listed exports with NBD_OPT_LIST, upgrade to TLS with NBD_OPT_STARTTLS, or leave
// with NBD_OPT_ABORT. Everything else is answered NBD_REP_ERR_UNSUP.
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { FLAG_C_NO_ZEROES, FLAG_FIXED_NEWSTYLE, FLAG_NO_ZEROES, IHAVEOPT, INFO, MAX_OPTION_BYTES, MAX_REQUEST_BYTES, NBD_MAGIC, OPT, REP, optionReply } from './protocol.js';
import { StreamReader } from './stream-reader.js';
import type { ServedExport } from './exports.js';

export interface NegotiationContext {
  lookup(name: string): ServedExport | undefined;
  listed(): ServedExport[];
  /** Present when the server has a certificate: STARTTLS is then offered. */
  secureContext?: () => tls.SecureContext;
  /** FORCEDTLS: nothing but STARTTLS/ABORT before TLS is up. */
  tlsRequired: boolean;
}

export type Negotiated = { kind: 'transmission'; export: ServedExport; socket: Duplex; reader: StreamReader; tls: boolean } | { kind: 'closed'; reason: string };

class ProtocolClose extends Error {}

export async function negotiate(raw: Duplex, ctx: NegotiationContext): Promise<Negotiated> {
  let socket: Duplex = raw;
  let reader = new StreamReader(socket);
  let secured = false;
  const send = (b: Buffer) => socket.write(b);

  const greeting = Buffer.alloc(18);
  NBD_MAGIC.copy(greeting, 0);
  IHAVEOPT.copy(greeting, 8);
  greeting.writeUInt16BE(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, 16);
  send(greeting);
  const clientFlags = (await reader.read(4)).readUInt32BE(0);
  const noZeroes = (clientFlags & FLAG_C_NO_ZEROES) !== 0;

  try {
    for (;;) {
      const head = await reader.read(16);
      if (!head.subarray(0, 8).equals(IHAVEOPT)) throw new ProtocolClose('bad option magic');
      const option = head.readUInt32BE(8);
      const length = head.readUInt32BE(12);
      if (length > MAX_OPTION_BYTES) throw new ProtocolClose(`option ${option} too long (${length} bytes)`);
      const data = await reader.read(length);
      const reply = (type: number, payload?: Buffer) => send(optionReply(option, type, payload));
      const error = (type: number, message: string) => reply(type, Buffer.from(message));
      const tlsBlocks = ctx.tlsRequired && !secured;

      switch (option) {
        case OPT.ABORT:
          reply(REP.ACK);
          return { kind: 'closed', reason: 'client aborted' };

        case OPT.STARTTLS: {
          if (!ctx.secureContext) {
            error(REP.ERR_POLICY, 'this server has no TLS certificate');
            break;
          }
          if (secured || length !== 0) {
            error(REP.ERR_INVALID, secured ? 'TLS is already up' : 'STARTTLS takes no data');
            break;
          }
          reply(REP.ACK);
          const leftover = reader.detach();
          if (leftover.length > 0) throw new ProtocolClose('data sent before the TLS handshake');
          const secure = new tls.TLSSocket(socket, {
            isServer: true,
            secureContext: ctx.secureContext(),
            minVersion: 'TLSv1.2',
          });
          await new Promise<void>((resolve, reject) => {
            secure.once('secure', resolve);
            secure.once('error', reject);
            secure.once('close', () => reject(new Error('closed during the TLS handshake')));
          });
          socket = secure;
          reader = new StreamReader(socket);
          secured = true;
          break;
        }

        case OPT.LIST:
          if (tlsBlocks) error(REP.ERR_TLS_REQD, 'start TLS first');
          else if (length !== 0) error(REP.ERR_INVALID, 'LIST takes no data');
          else {
            for (const e of ctx.listed()) {
              const name = Buffer.from(e.name);
              const entry = Buffer.alloc(4 + name.length);
              entry.writeUInt32BE(name.length, 0);
              name.copy(entry, 4);
              reply(REP.SERVER, entry);
            }
            reply(REP.ACK);
          }
          break;

        case OPT.EXPORT_NAME: {
          // This option cannot fail politely: an unknown name ends the session (proto.md).
          const found = ctx.lookup(data.toString('utf8'));
          if (!found || tlsBlocks || (found.requireTls && !secured)) throw new ProtocolClose('EXPORT_NAME refused');
          const answer = Buffer.alloc(noZeroes ? 10 : 134);
          answer.writeBigUInt64BE(BigInt(found.device.size), 0);
          answer.writeUInt16BE(found.transmissionFlags, 8);
          send(answer);
          return { kind: 'transmission', export: found, socket, reader, tls: secured };
        }

        case OPT.INFO:
        case OPT.GO: {
          const parsed = parseInfoRequest(data);
          if (!parsed) {
            error(REP.ERR_INVALID, 'malformed request');
            break;
          }
          if (tlsBlocks) {
            error(REP.ERR_TLS_REQD, 'start TLS first');
            break;
          }
          const found = ctx.lookup(parsed.name);
          if (!found) {
            error(REP.ERR_UNKNOWN, 'no such export');
            break;
          }
          if (found.requireTls && !secured) {
            error(REP.ERR_TLS_REQD, 'this export needs TLS');
            break;
          }
          const exportInfo = Buffer.alloc(12);
          exportInfo.writeUInt16BE(INFO.EXPORT, 0);
          exportInfo.writeBigUInt64BE(BigInt(found.device.size), 2);
          exportInfo.writeUInt16BE(found.transmissionFlags, 10);
          reply(REP.INFO, exportInfo);
          if (parsed.requests.includes(INFO.BLOCK_SIZE)) {
            const sizes = Buffer.alloc(14);
            sizes.writeUInt16BE(INFO.BLOCK_SIZE, 0);
            sizes.writeUInt32BE(1, 2);
            sizes.writeUInt32BE(4096, 6);
            sizes.writeUInt32BE(MAX_REQUEST_BYTES, 10);
            reply(REP.INFO, sizes);
          }
          if (parsed.requests.includes(INFO.DESCRIPTION) && found.description) {
            const text = Buffer.from(found.description);
            const info = Buffer.alloc(2 + text.length);
            info.writeUInt16BE(INFO.DESCRIPTION, 0);
            text.copy(info, 2);
            reply(REP.INFO, info);
          }
          reply(REP.ACK);
          if (option === OPT.GO) return { kind: 'transmission', export: found, socket, reader, tls: secured };
          break;
        }

        default:
          // STRUCTURED_REPLY and the metadata contexts included: simple replies only.
          error(REP.ERR_UNSUP, 'option not supported');
      }
    }
  } catch (err) {
    socket.destroy();
    return { kind: 'closed', reason: err instanceof Error ? err.message : String(err) };
  }
}

function parseInfoRequest(data: Buffer): { name: string; requests: number[] } | undefined {
  if (data.length < 6) return undefined;
  const nameLength = data.readUInt32BE(0);
  if (4 + nameLength + 2 > data.length) return undefined;
  const name = data.subarray(4, 4 + nameLength).toString('utf8');
  const count = data.readUInt16BE(4 + nameLength);
  if (data.length !== 4 + nameLength + 2 + 2 * count) return undefined;
  const requests: number[] = [];
  for (let i = 0; i < count; i++) requests.push(data.readUInt16BE(4 + nameLength + 2 + 2 * i));
  return { name, requests };
}
