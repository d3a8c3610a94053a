/** Small DOM helpers: elements built from data, never from HTML strings (no injection, no inline script). */

type Child = Node | string | number | false | null | undefined | Child[];
type Attrs = Record<string, string | number | boolean | undefined | EventListener | ((event: never) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value as EventListener);
    else if (key === 'class') el.className = String(value);
    else if (key === 'value' && 'value' in el) (el as HTMLInputElement).value = String(value);
    else if (key === 'checked' && el instanceof HTMLInputElement) el.checked = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function flatten(children: Child[], into: (Node | string)[] = []): (Node | string)[] {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) flatten(child, into);
    else into.push(child instanceof Node ? child : String(child));
  }
  return into;
}

export function append(el: Element, children: Child[]): void {
  el.append(...flatten(children));
}

/** Swaps an element's content in one DOM operation (a page of 200 rows is one insertion, not 200). */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren(...flatten(children));
}

let ids = 0;
export const uid = (prefix = 'f'): string => `${prefix}-${++ids}`;

// One formatter for every date: toLocaleString() builds a new one per call, which dominated drawing a page of 200 sessions.
const DATE_FORMAT = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function formatDate(value: string | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : DATE_FORMAT.format(date);
}

export function ago(value: string | null | undefined): string {
  if (!value) return 'never';
  const seconds = Math.round((Date.now() - Date.parse(value)) / 1000);
  if (seconds < 60) return `${Math.max(seconds, 0)} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

export function gb(value: number): string {
  if (value >= 1024) return `${(value / 1024).toFixed(2)} TB`;
  return `${value.toFixed(value < 10 ? 2 : 1)} GB`;
}

/** A coloured badge for a state or result word; the word itself carries the meaning. */
export function badge(text: string | undefined): HTMLElement {
  const word = text ?? '—';
  return h('span', { class: `badge badge-${word.toLowerCase()}` }, word);
}

export function notice(kind: 'info' | 'warning' | 'error' | 'success', ...children: Child[]): HTMLElement {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' || kind === 'warning' ? 'alert' : 'status' }, ...children);
}

export function toast(message: string, kind: 'success' | 'error' = 'success'): void {
  let host = document.getElementById('toasts');
  if (!host) {
    host = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(host);
  }
  const item = h('div', { class: `toast toast-${kind}` }, message);
  host.append(item);
  // A few at a time: older ones make room.
  while (host.children.length > 3) host.firstElementChild?.remove();
  setTimeout(() => item.remove(), 5000);
}

export function button(label: string, onclick: () => void, options: { kind?: 'primary' | 'danger' | 'plain'; type?: 'button' | 'submit'; label?: string } = {}): HTMLButtonElement {
  return h('button', { type: options.type ?? 'button', class: `btn btn-${options.kind ?? 'plain'}`, onclick, 'aria-label': options.label }, label);
}
