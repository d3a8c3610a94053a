import { get, type Page } from './api.js';
import { h, notice, replace, uid } from './dom.js';

export interface Column<T> {
  label: string;
  cell: (item: T) => Node | string;
  /** The API's orderColumn for this column: clicking the header sorts on the server. */
  order?: string;
  class?: string;
  /**
   * A grid track (`9rem`, `minmax(0, 2fr)`). When columns give widths, each row is a grid of these widths
   * that Chromium lays out and paints only when it scrolls into view (content-visibility):
   * measuring every cell of 200 rows was most of the time drawing the sessions page
   * (bench/console-profile.ts).
   */
  width?: string;
}

export interface Filter {
  param: string;
  label: string;
  options?: { value: string; label: string }[];
}

export interface ListView {
  element: HTMLElement;
  reload(): Promise<void>;
}

/** The grid columns of a fixed table: the widths given, the rest sharing what is left. */
const gridColumns = (columns: Column<never>[]): string => columns.map((c) => c.width ?? 'minmax(0, 1fr)').join(' ');

/**
 * A table paged, sorted and filtered by the API (skip/limit/orderColumn/orderAsc and the
 * section's filters), so lists of any length stay light: only one page is ever in the page.
 */
export function listView<T>(options: {
  url: string;
  columns: Column<T>[];
  caption: string;
  filters?: Filter[];
  limit?: number;
  query?: () => Record<string, string | undefined>;
  empty?: string;
  version?: string;
}): ListView {
  const limit = options.limit ?? 50;
  let skip = 0;
  let orderColumn: string | undefined;
  let orderAsc = true;
  const filterValues: Record<string, string> = {};
  const status = h('div', { class: 'list-status', role: 'status' });
  const body = h('tbody');
  const headRow = h('tr');
  const fixed = options.columns.some((c) => c.width);
  const table = h('table', { class: fixed ? 'table table-fixed' : 'table' }, h('caption', { class: 'visually-hidden' }, options.caption), h('thead', {}, headRow), body);
  // Set through the CSSOM: a style attribute would be refused by the console's CSP.
  if (fixed) table.style.setProperty('--columns', gridColumns(options.columns as Column<never>[]));
  const pager = h('nav', { class: 'pager', 'aria-label': `${options.caption} pages` });
  const drawHead = () =>
    replace(
      headRow,
      options.columns.map((c) => {
        if (!c.order) return h('th', { scope: 'col', class: c.class }, c.label);
        const sorted = orderColumn === c.order;
        return h(
          'th',
          { scope: 'col', class: c.class, 'aria-sort': sorted ? (orderAsc ? 'ascending' : 'descending') : 'none' },
          h(
            'button',
            {
              type: 'button',
              class: 'sort',
              onclick: () => {
                orderAsc = sorted ? !orderAsc : true;
                orderColumn = c.order;
                skip = 0;
                void reload();
              },
            },
            c.label,
            sorted ? (orderAsc ? ' ▲' : ' ▼') : '',
          ),
        );
      }),
    );
  const filterBar = h(
    'form',
    { class: 'filters', role: 'search', onsubmit: (e: Event) => e.preventDefault() },
    (options.filters ?? []).map((f) => {
      const id = uid('filter');
      const changed = (e: Event) => {
        filterValues[f.param] = (e.target as HTMLInputElement).value.trim();
        skip = 0;
        void reload();
      };
      const input = f.options
        ? h(
            'select',
            { id, onchange: changed },
            h('option', { value: '' }, 'Any'),
            f.options.map((o) => h('option', { value: o.value }, o.label)),
          )
        : h('input', { id, type: 'search', placeholder: 'name, * wildcards', onchange: changed });
      return h('div', { class: 'filter' }, h('label', { for: id }, f.label), input);
    }),
  );
  const element = h('div', { class: 'list' }, filterBar, status, h('div', { class: 'table-wrap' }, table), pager);

  async function reload(): Promise<void> {
    drawHead();
    try {
      const nameFilter = filterValues.nameFilter;
      const page = await get<Page<T>>(
        options.url,
        {
          skip,
          limit,
          orderColumn,
          orderAsc: orderColumn ? orderAsc : undefined,
          ...filterValues,
          nameFilter: nameFilter && !nameFilter.includes('*') ? `*${nameFilter}*` : nameFilter,
          ...options.query?.(),
        },
        options.version,
      );
      replace(status);
      replace(
        body,
        page.data.length === 0
          ? h('tr', {}, h('td', { colspan: options.columns.length, class: 'empty' }, options.empty ?? 'Nothing here yet.'))
          : page.data.map((item) =>
              h(
                'tr',
                {},
                options.columns.map((c) => h('td', { class: c.class }, c.cell(item))),
              ),
            ),
      );
      const { total } = page.pagination;
      const last = Math.max(0, Math.ceil(total / limit) - 1);
      const current = Math.floor(skip / limit);
      replace(
        pager,
        h('span', {}, total === 0 ? '0 items' : `${skip + 1}–${skip + page.data.length} of ${total}`),
        h('button', { type: 'button', class: 'btn btn-plain', disabled: current === 0, onclick: () => ((skip = Math.max(0, skip - limit)), void reload()) }, '‹ Previous'),
        h('button', { type: 'button', class: 'btn btn-plain', disabled: current >= last, onclick: () => ((skip += limit), void reload()) }, 'Next ›'),
      );
    } catch (error) {
      replace(status, notice('error', error instanceof Error ? error.message : String(error)));
    }
  }
  return { element, reload };
}
