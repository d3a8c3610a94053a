import type { ComponentChildren, VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, type Page } from './api.js';
import { errorMessage, notice, uid } from './dom.js';

export interface Column<T> {
  label: string;
  cell: (item: T) => ComponentChildren;
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

export interface ListProps<T> {
  url: string;
  columns: Column<T>[];
  caption: string;
  filters?: Filter[];
  limit?: number;
  query?: Record<string, string | undefined>;
  empty?: string;
  version?: string;
  /** Bumped by the owner when the data changed (useReload): the current page is fetched again. */
  reload?: number;
}

/** The grid columns of a fixed table: the widths given, the rest sharing what is left. */
const gridColumns = (columns: Column<never>[]): string => columns.map((c) => c.width ?? 'minmax(0, 1fr)').join(' ');

/**
 * A table paged, sorted and filtered by the API (skip/limit/orderColumn/orderAsc and the
 * section's filters), so lists of any length stay light: only one page is ever in the page.
 */
export function ListView<T>(props: ListProps<T>): VNode {
  const limit = props.limit ?? 50;
  const [skip, setSkip] = useState(0);
  const [order, setOrder] = useState<{ column?: string; asc: boolean }>({ asc: true });
  const [filters, setFilters] = useState<Record<string, string>>({});
  const [page, setPage] = useState<Page<T>>();
  const [error, setError] = useState<string>();
  const filterIds = useRef((props.filters ?? []).map(() => uid('filter'))).current;
  const fixed = props.columns.some((c) => c.width);
  const query = JSON.stringify(props.query ?? {});

  useEffect(() => {
    let live = true;
    const nameFilter = filters.nameFilter;
    get<Page<T>>(
      props.url,
      {
        skip,
        limit,
        orderColumn: order.column,
        orderAsc: order.column ? order.asc : undefined,
        ...filters,
        nameFilter: nameFilter && !nameFilter.includes('*') ? `*${nameFilter}*` : nameFilter,
        ...props.query,
      },
      props.version,
    ).then(
      (result) => {
        if (!live) return;
        setPage(result);
        setError(undefined);
      },
      (failure: unknown) => live && setError(errorMessage(failure)),
    );
    return () => {
      live = false;
    };
  }, [props.url, skip, limit, order, filters, query, props.reload, props.version]);

  const filterChanged = (param: string, value: string) => {
    setFilters((current) => ({ ...current, [param]: value.trim() }));
    setSkip(0);
  };
  const total = page?.pagination.total ?? 0;
  const last = Math.max(0, Math.ceil(total / limit) - 1);
  const current = Math.floor(skip / limit);

  return (
    <div class="list">
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        {(props.filters ?? []).map((f, i) => (
          <div key={f.param} class="filter">
            <label for={filterIds[i]}>{f.label}</label>
            {f.options ? (
              <select id={filterIds[i]} onChange={(e) => filterChanged(f.param, e.currentTarget.value)}>
                <option value="">Any</option>
                {f.options.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            ) : (
              <input id={filterIds[i]} type="search" placeholder="name, * wildcards" onChange={(e) => filterChanged(f.param, e.currentTarget.value)} />
            )}
          </div>
        ))}
      </form>
      <div class="list-status" role="status">
        {error ? notice('error', error) : null}
      </div>
      <div class="table-wrap">
        {/* Preact sets a custom property through the CSSOM (style.setProperty): a style attribute would be refused by the console's CSP. */}
        <table class={fixed ? 'table table-fixed' : 'table'} style={fixed ? { '--columns': gridColumns(props.columns as Column<never>[]) } : undefined}>
          <caption class="visually-hidden">{props.caption}</caption>
          <thead>
            <tr>
              {props.columns.map((c) => {
                if (!c.order) {
                  return (
                    <th key={c.label} scope="col" class={c.class}>
                      {c.label}
                    </th>
                  );
                }
                const sorted = order.column === c.order;
                return (
                  <th key={c.label} scope="col" class={c.class} aria-sort={sorted ? (order.asc ? 'ascending' : 'descending') : 'none'}>
                    <button
                      type="button"
                      class="sort"
                      onClick={() => {
                        setOrder({ column: c.order, asc: sorted ? !order.asc : true });
                        setSkip(0);
                      }}
                    >
                      {c.label}
                      {sorted ? (order.asc ? ' ▲' : ' ▼') : ''}
                    </button>
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {page && page.data.length === 0 ? (
              <tr>
                <td colSpan={props.columns.length} class="empty">
                  {props.empty ?? 'Nothing here yet.'}
                </td>
              </tr>
            ) : (
              page?.data.map((item, i) => (
                <tr key={(item as { id?: string }).id ?? i}>
                  {props.columns.map((c) => (
                    <td key={c.label} class={c.class}>
                      {c.cell(item)}
                    </td>
                  ))}
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label={`${props.caption} pages`}>
        {page ? (
          <>
            <span>{total === 0 ? '0 items' : `${skip + 1}–${skip + page.data.length} of ${total}`}</span>
            <button type="button" class="btn btn-plain" disabled={current === 0} onClick={() => setSkip(Math.max(0, skip - limit))}>
              ‹ Previous
            </button>
            <button type="button" class="btn btn-plain" disabled={current >= last} onClick={() => setSkip(skip + limit)}>
              Next ›
            </button>
          </>
        ) : null}
      </nav>
    </div>
  );
}
