import { ApiError, call } from '../api.js';
import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { h, notice, toast } from '../dom.js';
import { pageHeader } from '../crud.js';
import { formView, text } from '../forms.js';
import { SessionLog, type Session } from '../session-log.js';

/** The automation sections, in the order an import must run (what a later one refers to comes first). */
const SECTIONS = [
  { kind: 'credentials', label: 'Credentials' },
  { kind: 'cloudcredentials', label: 'Cloud credentials' },
  { kind: 'encryptionPasswords', label: 'Encryption passwords' },
  { kind: 'managedServers', label: 'Managed servers' },
  { kind: 'proxies', label: 'Backup proxies' },
  { kind: 'repositories', label: 'Repositories' },
  { kind: 'jobs', label: 'Jobs' },
];

/** The file the console writes and reads: each section's collection exactly as the API exports it, under its kind. */
const FORMAT = 'rampart-console-export-v1';
interface ExportFile {
  format: typeof FORMAT;
  exportedAt: string;
  sections: Record<string, unknown>;
}

const SEAL_HEADER = 'x-rampart-seal-passphrase';

function download(name: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type: 'application/json' }));
  // A throwaway link outside the page's tree: clicking it is how a script starts a download.
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function readExportFile(content: string): ExportFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    throw new ApiError(400, 'InvalidFile', '"file" is not JSON: choose a file this page exported.');
  }
  const file = parsed as Partial<ExportFile> | null;
  if (!file || file.format !== FORMAT || typeof file.sections !== 'object' || file.sections === null) {
    throw new ApiError(400, 'InvalidFile', `"file" is not a Rampart console export (its "format" must be ${FORMAT}).`);
  }
  const unknown = Object.keys(file.sections).filter((kind) => !SECTIONS.some((s) => s.kind === kind));
  if (unknown.length) throw new ApiError(400, 'InvalidFile', `"file" has sections this server does not know: ${unknown.join(', ')}.`);
  return file as ExportFile;
}

/** Configuration export and import through the automation API: download one JSON file, upload it here or on another server. */
export function ExportImportPage(): VNode {
  // One card per imported section, each following its session; `stopped` hears its end.
  const [results, setResults] = useState<{ kind: string; label: string; id: string; stopped: (last: Session) => void }[]>([]);
  const [failed, setFailed] = useState<string>();
  const follow = (kind: string, label: string, id: string) => new Promise<Session>((stopped) => setResults((current) => [...current, { kind, label, id, stopped }]));
  const exportForm = formView(
    [
      ...SECTIONS.map((s) => ({ name: s.kind, label: s.label, type: 'checkbox' as const, value: true })),
      {
        name: 'passphrase',
        label: 'Passphrase to seal the secrets (optional)',
        type: 'password',
        hint: 'Without one, every password and key is exported empty (as Veeam does). With one, they are kept, encrypted under it.',
      },
    ],
    'Download export',
    async (v) => {
      const passphrase = String(v.passphrase ?? '');
      const sections: Record<string, unknown> = {};
      for (const { kind } of SECTIONS.filter((s) => v[s.kind])) {
        try {
          sections[kind] = await call('POST', `/api/v1/automation/${kind}/export`, {
            json: {},
            query: passphrase ? { seal: true } : undefined,
            headers: passphrase ? { [SEAL_HEADER]: passphrase } : undefined,
          });
        } catch (error) {
          // A section this server was started without (e.g. no jobs) is left out of the file, not an error.
          if (!(error instanceof ApiError && error.status === 404)) throw error;
        }
      }
      if (!Object.keys(sections).length) throw new Error('Choose at least one section to export.');
      const file: ExportFile = { format: FORMAT, exportedAt: new Date().toISOString(), sections };
      download(`rampart-configuration-${file.exportedAt.slice(0, 10)}.json`, JSON.stringify(file, null, 2));
      toast('Export downloaded');
    },
  );

  const importForm = formView(
    [
      { name: 'file', label: 'Export file', type: 'file', accept: 'application/json,.json', required: true },
      {
        name: 'onConflict',
        label: 'When an object of the same name exists',
        type: 'select',
        options: [
          { value: 'skip', label: 'Keep the existing one (skip)' },
          { value: 'overwrite', label: 'Replace it with the imported one' },
          { value: 'fail', label: 'Stop the import' },
        ],
      },
      { name: 'dryRun', label: 'Dry run: only log what would change', type: 'checkbox' },
      { name: 'importPassphrase', label: 'Passphrase of a sealed export', type: 'password' },
    ],
    'Import',
    async (v) => {
      const file = readExportFile(await (v.file as File).text());
      const passphrase = String(v.importPassphrase ?? '');
      setResults([]);
      setFailed(undefined);
      for (const { kind, label } of SECTIONS.filter((s) => s.kind in file.sections)) {
        const session = await call<Session>('POST', `/api/v1/automation/${kind}/import`, {
          json: file.sections[kind],
          query: { onConflict: text(v, 'onConflict'), dryRun: v.dryRun ? true : undefined },
          headers: passphrase ? { [SEAL_HEADER]: passphrase } : undefined,
        });
        const last = await follow(kind, label, session.id);
        // A later section may refer to what this one failed to create: stop here, the log says why.
        if (last.result?.result === 'Failed') {
          setFailed(`${label} failed: the sections after it were not imported.`);
          return;
        }
      }
      toast(v.dryRun ? 'Dry run finished' : 'Import finished');
    },
  );

  return h(
    'div',
    {},
    pageHeader('Export and import'),
    h(
      'p',
      { class: 'muted' },
      'Moves credentials, servers, proxies, repositories and jobs between Rampart servers (or keeps them as a file) through the automation API. Objects are matched by name; ids are not carried over.',
    ),
    h(
      'div',
      { class: 'grid' },
      h('section', { class: 'card', 'aria-label': 'Export' }, h('h2', {}, 'Export'), exportForm),
      h('section', { class: 'card', 'aria-label': 'Import' }, h('h2', {}, 'Import'), importForm),
    ),
    h(
      'div',
      { class: 'import-results', 'aria-live': 'polite' },
      results.map((r) =>
        h(
          'section',
          { key: `${r.kind}-${r.id}`, class: 'card', 'aria-label': `${r.label} import` },
          h('h3', {}, r.label),
          h('div', { class: 'session-view' }, h(SessionLog, { id: r.id, base: '/api/v1/automation/sessions', onStopped: r.stopped })),
        ),
      ),
      failed ? notice('error', failed) : null,
    ),
  );
}
