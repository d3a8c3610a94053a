import { Component, render, type ComponentChildren, type ComponentType, type VNode } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso/router';
import { ApiError, isSignedIn, signedInUser, signOut, whenSessionLapses } from './api.js';
import { errorMessage, notice, toast } from './dom.js';
import { LoginPage } from './pages/login.js';
import { DashboardPage } from './pages/dashboard.js';
import { CertificatePage } from './pages/certificate.js';
import { CredentialsPage } from './pages/credentials.js';
import { CloudCredentialsPage } from './pages/cloud-credentials.js';
import { EncryptionPasswordsPage } from './pages/encryption-passwords.js';
import { ManagedServersPage } from './pages/managed-servers.js';
import { RepositoriesPage } from './pages/repositories.js';
import { ScaleOutPage } from './pages/scale-out.js';
import { SessionPage, SessionsPage } from './pages/sessions.js';
import { JobsPage } from './pages/jobs.js';
import { BackupObjectPage, BackupPage, BackupsPage, RestorePointPage, RestorePointsPage } from './pages/backups.js';
import { RestoresPage } from './pages/restores.js';
import { ProxiesPage } from './pages/proxies.js';
import { GeneralOptionsPage } from './pages/general-options.js';
import { ConfigBackupPage } from './pages/config-backup.js';
import { ExportImportPage } from './pages/export-import.js';
import { SecurityPage } from './pages/security.js';

/** What a routed page receives: `id` for the detail pages (/sessions/:id …). */
export interface PageProps {
  id?: string;
}

const ROUTES: [string, string, ComponentType<PageProps>][] = [
  ['/', 'Dashboard', DashboardPage],
  ['/certificate', 'Server certificate', CertificatePage],
  ['/credentials', 'Credentials', CredentialsPage],
  ['/cloud-credentials', 'Cloud credentials', CloudCredentialsPage],
  ['/encryption-passwords', 'Encryption passwords', EncryptionPasswordsPage],
  ['/managed-servers', 'Managed servers', ManagedServersPage],
  ['/repositories', 'Repositories', RepositoriesPage],
  ['/scale-out-repositories', 'Scale-out repositories', ScaleOutPage],
  ['/sessions', 'Sessions', SessionsPage],
  ['/sessions/:id', 'Session', SessionPage],
  ['/jobs', 'Jobs', JobsPage],
  ['/backups', 'Backups', BackupsPage],
  ['/backups/:id', 'Backup', BackupPage],
  ['/backup-objects/:id', 'Backup object', BackupObjectPage],
  ['/restore-points', 'Restore points', RestorePointsPage],
  ['/restore-points/:id', 'Restore point', RestorePointPage],
  ['/restores', 'Restores', RestoresPage],
  ['/proxies', 'Backup proxies', ProxiesPage],
  ['/general-options', 'General options', GeneralOptionsPage],
  ['/configuration-backup', 'Configuration backup', ConfigBackupPage],
  ['/export-import', 'Export and import', ExportImportPage],
  ['/security', 'Security', SecurityPage],
];

const NAV: [string, string][] = [
  ['/', 'Dashboard'],
  ['/sessions', 'Sessions'],
  ['/managed-servers', 'Managed servers'],
  ['/proxies', 'Backup proxies'],
  ['/repositories', 'Repositories'],
  ['/scale-out-repositories', 'Scale-out repositories'],
  ['/credentials', 'Credentials'],
  ['/cloud-credentials', 'Cloud credentials'],
  ['/encryption-passwords', 'Encryption passwords'],
  ['/certificate', 'Server certificate'],
  ['/jobs', 'Jobs'],
  ['/backups', 'Backups'],
  ['/restore-points', 'Restore points'],
  ['/restores', 'Restores'],
  ['/general-options', 'General options'],
  ['/configuration-backup', 'Configuration backup'],
  ['/export-import', 'Export and import'],
  ['/security', 'Security'],
];

/** Where to go back to after signing in again. */
let returnTo = '/';

const currentPath = () => decodeURIComponent(location.hash.replace(/^#/, '')) || '/';
const go = (path: string) => void (location.hash = `#${path}`);
const isCurrent = (href: string, path: string) => href === path || (href !== '/' && path.startsWith(`${href}/`));

/**
 * preact-iso's router over the URL's fragment: the console lives at `/` (one file per route on
 * the server, no wildcard), so its pages are `#/sessions`, `#/sessions/<id>` …
 */
function HashLocation({ children }: { children: ComponentChildren }): VNode {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const changed = () => {
      // A dialog belongs to the page it was opened on: navigating (links, Back) closes it.
      for (const dialog of document.querySelectorAll<HTMLDialogElement>('dialog[open]')) dialog.close();
      setPath(currentPath());
    };
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  const value = useMemo(() => ({ url: path, path, query: {}, route: go, back: () => history.back(), forward: () => history.forward(), wasPush: false }), [path]);
  return <LocationProvider.ctx.Provider value={value}>{children}</LocationProvider.ctx.Provider>;
}

/** The error boundary: never a blank page or a stack trace, the API's own message instead. */
class PageErrors extends Component<{ title: string; children: ComponentChildren }, { error?: unknown }> {
  state: { error?: unknown } = {};
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  render(): ComponentChildren {
    const { error } = this.state;
    if (error === undefined) return this.props.children;
    // A lapsed session is not the page's failure: the console is on its way to the sign-in page.
    if (error instanceof ApiError && error.status === 401) return null;
    return (
      <>
        <h1>{this.props.title}</h1>
        {notice('error', errorMessage(error))}
      </>
    );
  }
}

/** A routed page: its title in the tab, its failures in its own error boundary. */
function titled(title: string, Page: ComponentType<PageProps>): ComponentType<PageProps & { path?: string }> {
  return function TitledPage(props) {
    useEffect(() => void (document.title = `${title} · Rampart`), []);
    return (
      <div class="view">
        <PageErrors key={props.path} title={title}>
          <Page id={props.id} />
        </PageErrors>
      </div>
    );
  };
}

const PAGES = ROUTES.map(([path, title, page]) => [path, titled(title, page)] as const);

function NotFound(): VNode {
  const { path } = useLocation();
  useEffect(() => void (document.title = 'Not found · Rampart'), []);
  return (
    <div class="view">
      <h1>Not found</h1>
      {notice('error', `There is no page at ${path}.`)}
      <a href="#/">Back to the dashboard</a>
    </div>
  );
}

/** The frame around every page, drawn once per sign-in: navigating marks the current link and swaps the page. */
function Shell(): VNode {
  const { path } = useLocation();
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <nav class="sidebar" aria-label="Sections">
        <a class="brand" href="#/">
          <img src="favicon.svg" alt="" width={24} height={24} />
          Rampart
        </a>
        <ul>
          {NAV.map(([href, label]) => (
            <li key={href}>
              <a href={`#${href}`} aria-current={isCurrent(href, path) ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
        <div class="signed-in">
          <span>{signedInUser() ?? ''}</span>
          <button
            type="button"
            class="btn btn-plain"
            onClick={async () => {
              await signOut();
              returnTo = '/';
              go('/login');
            }}
          >
            Sign out
          </button>
        </div>
      </nav>
      <main id="main" tabIndex={-1}>
        <Router>
          {PAGES.map(([route, page]) => (
            <Route key={route} path={route} component={page} />
          ))}
          <Route default component={NotFound} />
        </Router>
      </main>
    </>
  );
}

function App(): VNode | null {
  const { path } = useLocation();
  const signedIn = isSignedIn();
  useEffect(() => {
    if (path === '/login' && signedIn) go(returnTo);
    if (path !== '/login' && !signedIn) {
      returnTo = path;
      go('/login');
    }
  }, [path, signedIn]);
  if (path === '/login' || !signedIn) {
    if (signedIn) return null;
    // Set while drawing, not after: the sign-in page is titled from its first frame.
    document.title = 'Sign in · Rampart';
    return (
      <div class="login-view">
        <LoginPage signedIn={() => go(returnTo)} />
      </div>
    );
  }
  return <Shell />;
}

whenSessionLapses(() => {
  const path = currentPath();
  if (path !== '/login') returnTo = path;
  go('/login');
});
// Whatever escapes a page is said in words, never a silent failure or a stack trace.
window.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  if (event.reason instanceof ApiError && event.reason.status === 401) return;
  toast(errorMessage(event.reason), 'error');
});
const root = document.getElementById('app')!;
// index.html says "Loading…" until the script runs; Preact then owns the whole container.
root.replaceChildren();
render(
  <HashLocation>
    <App />
  </HashLocation>,
  root,
);
