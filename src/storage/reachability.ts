/** The host of `\\server\share\folder` (SMB) or `server:/export/folder` (NFS). */
export function shareHost(sharePath: string, protocol: 'smb' | 'nfs'): string | undefined {
  if (protocol === 'smb') return /^\\\\([^\\/]+)[\\/][^\\/]+/.exec(sharePath)?.[1];
  return /^(\[[^\]]+\]|[^:/\s]+):\/.+/.exec(sharePath)?.[1]?.replace(/^\[|\]$/g, '');
}
