/**
 * NFSv3 status codes (RFC 1813 §2.6) as messages a person can act on: what
 * the export refused and what to change on the file server.
 */

export const NFS3ERR = {
  PERM: 1,
  NOENT: 2,
  IO: 5,
  ACCES: 13,
  EXIST: 17,
  NOTDIR: 20,
  ISDIR: 21,
  NOSPC: 28,
  ROFS: 30,
  NOTEMPTY: 66,
  DQUOT: 69,
  STALE: 70,
  NOTSUPP: 10004,
  JUKEBOX: 10008,
} as const;

const MESSAGES: Record<number, string> = {
  1: "not permitted: the export refuses this operation from this server (check the export's access list / root squash)",
  2: 'no such file or folder',
  5: 'an I/O error on the file server',
  6: 'no such device on the file server',
  13: "the export refuses writes from this server: check the export's access list / root squash",
  17: 'the file already exists',
  18: 'the operation would cross file systems on the server',
  19: 'no such device on the file server',
  20: 'a part of the path is a file, not a folder',
  21: 'the path is a folder, not a file',
  22: 'the server rejected an argument',
  27: 'the file is too large for the server',
  28: 'no space left on the export (free some space or pick another export)',
  30: 'the export is read-only (export it read-write to this server)',
  31: 'too many links',
  63: 'the name is too long for the server',
  66: 'the folder is not empty',
  69: 'the disk quota of the account on the export is exhausted',
  70: 'the file handle is stale (the export was changed or re-exported on the server)',
  71: 'too many levels of remote paths',
  10001: 'the server rejected the file handle',
  10002: 'the attribute update was out of sync',
  10003: 'the folder listing changed while it was read',
  10004: 'the server does not support this operation',
  10005: 'the buffer was too small',
  10006: 'a fault on the file server',
  10007: 'the server does not support this kind of object',
  10008: 'the file server is busy (try again later)',
};

export class Nfs3Error extends Error {
  override name = 'Nfs3Error';
  constructor(
    readonly status: number,
    readonly operation: string,
    readonly path: string,
  ) {
    super(`NFS ${operation} of ${path} failed: ${MESSAGES[status] ?? `NFS3 error ${status}`}`);
  }
}

export const isNfsStatus = (err: unknown, status: number) => err instanceof Nfs3Error && err.status === status;
