/**
 * The wire side of Rampart's SMB client (src/storage/smb-client.ts): the
 * `node-smb2` package loaded and completed (QUERY_INFO added to its packet
 * table), the command numbers, NT status codes and structure constants of
 * MS-SMB2/MS-FSCC the client uses, and the share-path and user-name rules.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface WireHeader {
  status: number;
  messageId: bigint;
  sessionId?: string;
  treeId?: number;
  flags?: number;
  /** In a response: the credits the server grants. */
  credit?: number;
}
export interface WireResponse {
  header: WireHeader;
  body: Record<string, unknown> & { buffer?: Buffer };
  data?: unknown;
}
export interface WireRequest {
  header: { messageId: bigint };
  serialize(): Buffer;
}
export interface WireClient {
  host: string;
  port: number;
  socket?: import('node:net').Socket;
  connected: boolean;
  onError: (err: Error) => void;
  responseMap: Map<bigint, WireResponse>;
  responseCallbackMap: Map<bigint, (response: WireResponse) => void>;
  connect(): Promise<void>;
  createRequest(header: Record<string, unknown>, body?: Record<string, unknown>): WireRequest;
  close(): Promise<void>;
}
export interface NtlmUtil {
  encodeNegotiationMessage(host: string, domain: string, version?: 'v1' | 'v2'): Buffer;
  decodeChallengeMessage(buffer: Buffer): Buffer;
  encodeAuthenticationMessage(user: string, host: string, domain: string, challenge: Buffer, password: string, flags: number, version?: 'v1' | 'v2'): Buffer;
}
export interface DirectoryEntryWire {
  filename: string;
  type: 'File' | 'Directory';
  fileSize: bigint;
  lastWriteTime: Date;
}

export const { Client } = require('node-smb2') as { Client: new (host: string, options: { port?: number; connectTimeout?: number; requestTimeout?: number }) => WireClient };
export const ntlm = require('node-smb2/dist/protocol/ntlm/util') as NtlmUtil;
const packets = require('node-smb2/dist/protocol/smb2/packets') as Record<string, unknown>;

/** MS-SMB2 2.2.37/2.2.38: the package has no QUERY_INFO; its packet table takes one more structure. */
if (!packets.QueryInfo) {
  packets.QueryInfo = {
    requestStructure: {
      structureSize: { type: Number, size: 2, defaultValue: 41 },
      infoType: { type: Number, size: 1 },
      fileInfoClass: { type: Number, size: 1 },
      outputBufferLength: { type: Number, size: 4 },
      inputBufferOffset: { type: Number, size: 2 },
      reserved: { type: Number, size: 2 },
      inputBufferLength: { type: Number, size: 4 },
      additionalInformation: { type: Number, size: 4 },
      flags: { type: Number, size: 4 },
      fileId: { type: String, encoding: 'hex', size: 16 },
      // The one byte of the variable part every SMB2 request with a buffer carries.
      buffer: { type: Buffer, size: 1 },
    },
    responseStructure: {
      structureSize: { type: Number, size: 2 },
      outputBufferOffset: { type: Number, size: 2 },
      outputBufferLength: { type: Number, size: 4 },
      buffer: { type: Buffer, sizeFieldName: 'outputBufferLength' },
    },
  };
}

export const Command = {
  Negotiate: 0,
  SessionSetup: 1,
  LogOff: 2,
  TreeConnect: 3,
  Create: 5,
  Close: 6,
  Read: 8,
  Write: 9,
  QueryDirectory: 14,
  QueryInfo: 16,
  SetInfo: 17,
} as const;

export const NtStatus = {
  Success: 0,
  Pending: 0x103,
  NoMoreFiles: 0x80000006,
  MoreProcessingRequired: 0xc0000016,
  ObjectNameNotFound: 0xc0000034,
  ObjectNameCollision: 0xc0000035,
  ObjectPathNotFound: 0xc000003a,
  SharingViolation: 0xc0000043,
  DeletePending: 0xc0000056,
  AccessDenied: 0xc0000022,
  LogonFailure: 0xc000006d,
  AccountRestriction: 0xc000006e,
  PasswordExpired: 0xc0000071,
  AccountDisabled: 0xc0000072,
  DiskFull: 0xc000007f,
  FileIsADirectory: 0xc00000ba,
  BadNetworkName: 0xc00000cc,
  NotADirectory: 0xc0000103,
  DirectoryNotEmpty: 0xc0000101,
  QuotaExceeded: 0xc0000044,
} as const;

const STATUS_TEXT: Record<number, string> = {
  [NtStatus.ObjectNameNotFound]: 'not found',
  [NtStatus.ObjectPathNotFound]: 'path not found',
  [NtStatus.ObjectNameCollision]: 'already exists',
  [NtStatus.SharingViolation]: 'in use by another client',
  [NtStatus.DeletePending]: 'being deleted',
  [NtStatus.AccessDenied]: 'access denied',
  [NtStatus.LogonFailure]: 'the login was refused (wrong user name or password)',
  [NtStatus.AccountRestriction]: 'the account may not log in',
  [NtStatus.PasswordExpired]: 'the password has expired',
  [NtStatus.AccountDisabled]: 'the account is disabled',
  [NtStatus.DiskFull]: 'no space left on the share',
  [NtStatus.QuotaExceeded]: 'the quota is exhausted',
  [NtStatus.FileIsADirectory]: 'is a folder',
  [NtStatus.NotADirectory]: 'a part of the path is a file, not a folder',
  [NtStatus.BadNetworkName]: 'no such share on the server',
  [NtStatus.DirectoryNotEmpty]: 'the folder is not empty',
};

/** An SMB request the server refused; `status` is the NT status code. Never carries a secret. */
export class SmbError extends Error {
  /** What the status means, in words ("access denied"). */
  readonly reason: string;
  constructor(
    readonly status: number,
    what: string,
  ) {
    const reason = STATUS_TEXT[status] ?? `NT status 0x${status.toString(16).padStart(8, '0')}`;
    super(`${what}: ${reason}`);
    this.reason = reason;
    this.name = 'SmbError';
  }
}

export const isNotFound = (err: unknown) =>
  err instanceof SmbError && (err.status === NtStatus.ObjectNameNotFound || err.status === NtStatus.ObjectPathNotFound || err.status === NtStatus.DeletePending);

/** `\\server\share\folder\sub` (or with forward slashes) → its parts; undefined when not a UNC path. */
export function parseSharePath(sharePath: string): { server: string; share: string; folder: string } | undefined {
  const m = /^(?:\\\\|\/\/)([^\\/]+)[\\/]+([^\\/]+)(?:[\\/]+(.*))?$/.exec(sharePath.trim());
  if (!m) return undefined;
  const folder = (m[3] ?? '')
    .split(/[\\/]+/)
    .filter((p) => p !== '')
    .join('\\');
  if (folder.split('\\').some((p) => p === '..' || p === '.')) return undefined;
  return { server: m[1]!, share: m[2]!, folder };
}

/** A Standard credentials record's user name: `DOMAIN\user`, `user@domain` (UPN, sent as is) or `user`. */
export function splitUserName(name: string): { domain: string; username: string } {
  const slash = name.indexOf('\\');
  if (slash > 0) return { domain: name.slice(0, slash), username: name.slice(slash + 1) };
  return { domain: '', username: name };
}

/** Access mask bits (MS-SMB2 2.2.13.1.1) and create options (2.2.13). */
export const Access = { ReadData: 0x1, WriteData: 0x2, ReadAttributes: 0x80, WriteAttributes: 0x100, Delete: 0x10000, Synchronize: 0x100000, ListDirectory: 0x1 };
export const Disposition = { Open: 1, Create: 2, OpenIf: 3 };
export const Options = { Directory: 0x1, NonDirectory: 0x40, DeleteOnClose: 0x1000 };
export const ShareAll = 0x7;
/** SMB 2.0.2 has no multi-credit requests: 64 KiB is the largest read or write. */
export const MAX_IO = 0x10000;
/** Requests of one read or write in flight at once: enough to fill the pipe, few enough for any server's credits. */
export const IO_DEPTH = 16;

const FILETIME_EPOCH_MS = 11644473600000n;
export const fromFiletime = (v: unknown) => (typeof v === 'bigint' && v > 0n ? Number(v / 10000n - FILETIME_EPOCH_MS) : 0);
export const toFiletime = (ms: number) => (BigInt(ms) + FILETIME_EPOCH_MS) * 10000n;
export const u64 = (n: number | bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
export const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
