import { getIfPresent, type Page } from '../api.js';
import { h, notice, replace } from '../dom.js';

interface Named {
  id: string;
  name: string;
  type?: string;
  description?: string;
}

/**
 * Sections the data-protection issues add to the API (jobs, backups, restore points). The page
 * asks the server: a 404 says the section is not on this server; if it is, its items are listed
 * read-only until the console's own pages for them arrive.
 */
export function laterSectionPage(title: string, url: string) {
  return async (view: HTMLElement): Promise<void> => {
    const page = await getIfPresent<Page<Named>>(url, { limit: 50 });
    if (!page) {
      replace(view, h('h1', {}, title), notice('info', `${title} are not available on this server: it answers 404 for ${url}. This page fills in when the server has them.`));
      return;
    }
    replace(
      view,
      h('h1', {}, title),
      notice('info', `The server has ${page.pagination.total} item(s). Managing them from the console comes with a later version; use the API meanwhile.`),
      h(
        'table',
        { class: 'table' },
        h('caption', { class: 'visually-hidden' }, title),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Name', 'Type', 'Description'].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        h(
          'tbody',
          {},
          page.data.map((item) => h('tr', {}, h('td', {}, item.name ?? item.id), h('td', {}, item.type ?? ''), h('td', {}, item.description ?? ''))),
        ),
      ),
    );
  };
}
