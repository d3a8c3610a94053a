// The transmission phase (proto.md "Transmission"): requests are read one after another and
// served concurrently, replies go out in completion order (the handle ties them to requests).
// Memory is bounded: at most MAX_IN_FLIGHT requests and MAX_IN_FLIGHT_BYTES of payload are being
// served, and no new request is read while the socket holds more than MAX_UNSENT bytes of replies.
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { isWritable } from './block-source.js';
import type { ServedExport } from './exports.js';
import { CMD, CMD_FLAG_FUA, ERR, MAX_REQUEST_BYTES, REQUEST_MAGIC, simpleReply } from './protocol.js';
import type { StreamReader } from './stream-reader.js';

const MAX_IN_FLIGHT = 16;
/** Payload bytes of the requests being served (read buffers and write payloads); one request may exceed it alone. */
const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;
const MAX_UNSENT = 32 * 1024 * 1024;
/** WRITE_ZEROES is served in pieces of this size, so a huge zeroing request does not allocate a huge buffer. */
const ZERO_PIECE = 1024 * 1024;

export interface TransmissionOptions {
  export: ServedExport;
  socket: Duplex;
  reader: StreamReader;
  log: Logger;
  /** Aborted when the export is removed or the server closes: in-flight reads are told to stop. */
  signal: AbortSignal;
}

export async function serveTransmission({ export: exp, socket, reader, log, signal }: TransmissionOptions): Promise<void> {
  const device = exp.device;
  const inFlight = new Set<Promise<void>>();
  let inFlightBytes = 0;
  let closing = false;

  const reply = (error: number, handle: Buffer, data?: Buffer) => {
    if (socket.destroyed) return;
    // Header and data leave in one writev.
    socket.cork();
    socket.write(simpleReply(error, handle));
    if (data) socket.write(data);
    socket.uncork();
  };

  const serve = async (type: number, flags: number, handle: Buffer, offset: number, length: number, payload?: Buffer) => {
    const outside = offset + length > device.size;
    try {
      switch (type) {
        case CMD.READ: {
          if (outside || length > MAX_REQUEST_BYTES) return reply(ERR.EINVAL, handle);
          const data = await device.read(offset, length, signal);
          if (data.length !== length) throw new Error(`source returned ${data.length} bytes for ${length}`);
          return reply(0, handle, data);
        }
        case CMD.WRITE:
        case CMD.WRITE_ZEROES: {
          if (exp.readOnly || !isWritable(device)) return reply(ERR.EPERM, handle);
          if (outside) return reply(ERR.ENOSPC, handle);
          if (type === CMD.WRITE) await device.write(offset, payload!);
          else for (let done = 0; done < length; done += ZERO_PIECE) await device.write(offset + done, Buffer.alloc(Math.min(ZERO_PIECE, length - done)));
          if (flags & CMD_FLAG_FUA) await device.flush();
          return reply(0, handle);
        }
        case CMD.FLUSH:
          if (!exp.readOnly && isWritable(device)) await device.flush();
          return reply(0, handle);
        default:
          return reply(ERR.EINVAL, handle);
      }
    } catch (err) {
      // A source that cannot deliver (a corrupt or missing chunk) fails this request only.
      // Reads cut short because the export was removed are not failures worth a log line.
      if (signal.aborted) return reply(ERR.ESHUTDOWN, handle);
      log.error({ export: exp.logLabel, command: type, offset, length, err: err instanceof Error ? err.message : String(err) }, 'NBD request failed');
      return reply(ERR.EIO, handle);
    }
  };

  try {
    while (!closing) {
      while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      while (socket.writableLength > MAX_UNSENT && !socket.destroyed) await new Promise((r) => socket.once('drain', r));
      const head = await reader.read(28);
      if (head.readUInt32BE(0) !== REQUEST_MAGIC) throw new Error('bad request magic');
      const flags = head.readUInt16BE(4);
      const type = head.readUInt16BE(6);
      const handle = Buffer.from(head.subarray(8, 16));
      const offset = Number(head.readBigUInt64BE(16));
      const length = head.readUInt32BE(24);
      let payload: Buffer | undefined;
      if (type === CMD.WRITE) {
        // The payload has to be consumed even when the write is refused; beyond the maximum the
        // stream cannot be trusted any more, so the connection ends (proto.md allows it).
        if (length > MAX_REQUEST_BYTES) throw new Error(`write of ${length} bytes is over the limit`);
        payload = await reader.read(length);
      }
      if (type === CMD.DISC) {
        closing = true;
        break;
      }
      const bytes = type === CMD.READ || type === CMD.WRITE ? Math.min(length, MAX_REQUEST_BYTES) : 0;
      while (inFlight.size > 0 && inFlightBytes + bytes > MAX_IN_FLIGHT_BYTES) await Promise.race(inFlight);
      inFlightBytes += bytes;
      const task = serve(type, flags, handle, offset, length, payload).finally(() => {
        inFlight.delete(task);
        inFlightBytes -= bytes;
      });
      inFlight.add(task);
    }
  } catch (err) {
    if (!socket.destroyed) log.debug({ export: exp.logLabel, err: err instanceof Error ? err.message : String(err) }, 'NBD connection ended');
  } finally {
    await Promise.allSettled([...inFlight]);
    socket.end();
  }
}
