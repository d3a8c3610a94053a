import { ApiError, isSignedIn, signedInUser, signOut, whenSessionLapses } from './api.js';
import { h, notice, replace, toast } from './dom.js';
import { loginPage } from './pages/login.js';
import { dashboardPage } from './pages/dashboard.js';
import { certificatePage } from './pages/certificate.js';
import { credentialsPage } from './pages/credentials.js';
import { cloudCredentialsPage } from './pages/cloud-credentials.js';
import { encryptionPasswordsPage } from './pages/encryption-passwords.js';
import { managedServersPage } from './pages/managed-servers.js';
import { repositoriesPage } from './pages/repositories.js';
import { scaleOutPage } from './pages/scale-out.js';
import { sessionPage, sessionsPage } from './pages/sessions.js';
import { jobsPage } from './pages/jobs.js';
import { backupObjectPage, backupPage, backupsPage, restorePointPage, restorePointsPage } from './pages/backups.js';
import { restoresPage } from './pages/restores.js';
import { proxiesPage } from './pages/proxies.js';
import { generalOptionsPage } from './pages/general-options.js';
import { configBackupPage } from './pages/config-backup.js';
import { exportImportPage } from './pages/export-import.js';
import { securityPage } from './pages/security.js';

/** A page draws into `view`; it keeps polling only while `view.isConnected` (i.e. until the user navigates away). */
export type Page = (view: HTMLElement, params: string[]) => Promise<void> | void;

interface Route {
  pattern: RegExp;
  title: string;
  page: Page;
}

const routes: Route[] = [
  { pattern: /^\/$/, title: 'Dashboard', page: dashboardPage },
  { pattern: /^\/certificate$/, title: 'Server certificate', page: certificatePage },
  { pattern: /^\/credentials$/, title: 'Credentials', page: credentialsPage },
  { pattern: /^\/cloud-credentials$/, title: 'Cloud credentials', page: cloudCredentialsPage },
  { pattern: /^\/encryption-passwords$/, title: 'Encryption passwords', page: encryptionPasswordsPage },
  { pattern: /^\/managed-servers$/, title: 'Managed servers', page: managedServersPage },
  { pattern: /^\/repositories$/, title: 'Repositories', page: repositoriesPage },
  { pattern: /^\/scale-out-repositories$/, title: 'Scale-out repositories', page: scaleOutPage },
  { pattern: /^\/sessions$/, title: 'Sessions', page: sessionsPage },
  { pattern: /^\/sessions\/([0-9a-fA-F-]{36})$/, title: 'Session', page: sessionPage },
  { pattern: /^\/jobs$/, title: 'Jobs', page: jobsPage },
  { pattern: /^\/backups$/, title: 'Backups', page: backupsPage },
  { pattern: /^\/backups\/([0-9a-fA-F-]{36})$/, title: 'Backup', page: backupPage },
  { pattern: /^\/backup-objects\/([0-9a-fA-F-]{36})$/, title: 'Backup object', page: backupObjectPage },
  { pattern: /^\/restore-points$/, title: 'Restore points', page: restorePointsPage },
  { pattern: /^\/restore-points\/([0-9a-fA-F-]{36})$/, title: 'Restore point', page: restorePointPage },
  { pattern: /^\/restores$/, title: 'Restores', page: restoresPage },
  { pattern: /^\/proxies$/, title: 'Backup proxies', page: proxiesPage },
  { pattern: /^\/general-options$/, title: 'General options', page: generalOptionsPage },
  { pattern: /^\/configuration-backup$/, title: 'Configuration backup', page: configBackupPage },
  { pattern: /^\/export-import$/, title: 'Export and import', page: exportImportPage },
  { pattern: /^\/security$/, title: 'Security', page: securityPage },
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

const root = document.getElementById('app')!;
/** Where to go back to after signing in again. */
let returnTo = '/';

const currentPath = () => decodeURIComponent(location.hash.replace(/^#/, '')) || '/';

const isCurrent = (href: string, path: string) => href === path || (href !== '/' && path.startsWith(`${href}/`));

/** The frame around every page, drawn once per sign-in: navigating only marks the current link and swaps the page. */
let frame: { main: HTMLElement; links: HTMLAnchorElement[]; user: HTMLElement } | undefined;

function shell(path: string): HTMLElement {
  if (!frame || !frame.main.isConnected) {
    const main = h('main', { id: 'main', tabindex: -1 });
    const links = NAV.map(([href, label]) => h('a', { href: `#${href}` }, label));
    const user = h('span', {});
    const nav = h(
      'nav',
      { class: 'sidebar', 'aria-label': 'Sections' },
      h('a', { class: 'brand', href: '#/' }, h('img', { src: 'favicon.svg', alt: '', width: 24, height: 24 }), 'Rampart'),
      h(
        'ul',
        {},
        links.map((link) => h('li', {}, link)),
      ),
      h(
        'div',
        { class: 'signed-in' },
        user,
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-plain',
            onclick: async () => {
              await signOut();
              returnTo = '/';
              location.hash = '#/login';
            },
          },
          'Sign out',
        ),
      ),
    );
    replace(root, h('a', { class: 'skip', href: '#main', onclick: (e: Event) => (e.preventDefault(), main.focus()) }, 'Skip to content'), nav, main);
    frame = { main, links, user };
  }
  replace(frame.user, signedInUser() ?? '');
  NAV.forEach(([href], i) => {
    if (isCurrent(href, path)) frame!.links[i].setAttribute('aria-current', 'page');
    else frame!.links[i].removeAttribute('aria-current');
  });
  replace(frame.main);
  return frame.main;
}

async function render(): Promise<void> {
  const path = currentPath();
  // A dialog belongs to the page it was opened on: navigating (links, Back) closes it.
  for (const dialog of document.querySelectorAll<HTMLDialogElement>('dialog[open]')) dialog.close();
  if (path === '/login') {
    document.title = 'Sign in · Rampart';
    if (isSignedIn()) return void (location.hash = `#${returnTo}`);
    const view = h('div', { class: 'login-view' });
    replace(root, view);
    await loginPage(view, () => {
      location.hash = `#${returnTo}`;
    });
    return;
  }
  if (!isSignedIn()) {
    returnTo = path;
    location.hash = '#/login';
    return;
  }
  const route = routes.find((r) => r.pattern.test(path));
  const main = shell(path);
  const view = h('div', { class: 'view' });
  main.append(view);
  if (!route) {
    document.title = 'Not found · Rampart';
    replace(view, h('h1', {}, 'Not found'), notice('error', `There is no page at ${path}.`), h('a', { href: '#/' }, 'Back to the dashboard'));
    return;
  }
  document.title = `${route.title} · Rampart`;
  try {
    await route.page(view, route.pattern.exec(path)!.slice(1));
  } catch (error) {
    // The error boundary: never a blank page or a stack trace, the API's own message instead.
    if (error instanceof ApiError && error.status === 401) return;
    replace(view, h('h1', {}, route.title), notice('error', error instanceof Error ? error.message : String(error)));
  }
}

whenSessionLapses(() => {
  const path = currentPath();
  if (path !== '/login') returnTo = path;
  location.hash = '#/login';
});
window.addEventListener('hashchange', () => void render());
// Whatever escapes a page is said in words, never a silent failure or a stack trace.
window.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  if (event.reason instanceof ApiError && event.reason.status === 401) return;
  toast(event.reason instanceof Error ? event.reason.message : String(event.reason), 'error');
});
void render();
