/** Small view helpers shared by the pages: Preact elements built from data, never from HTML strings. */
import { createElement, type ComponentChildren, type ComponentType, type VNode } from 'preact';

/** Hyperscript for the pages that build their views from data (what JSX compiles to). */
export function h(tag: string, props?: Record<string, unknown> | null, ...children: ComponentChildren[]): VNode;
export function h<P extends object>(tag: ComponentType<P>, props: NoInfer<P> & { key?: string | number }, ...children: ComponentChildren[]): VNode;
export function h(tag: string | ComponentType<object>, props?: object | null, ...children: ComponentChildren[]): VNode {
  return typeof tag === 'string' ? createElement(tag, props ?? null, ...children) : createElement(tag, props ?? {}, ...children);
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
export function badge(text: string | undefined): VNode {
  const word = text ?? '—';
  return <span class={`badge badge-${word.toLowerCase()}`}>{word}</span>;
}

export type NoticeKind = 'info' | 'warning' | 'error' | 'success';

export function notice(kind: NoticeKind, ...children: ComponentChildren[]): VNode {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'error' || kind === 'warning' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Toasts live outside the page's tree (they outlast a navigation), in a host of their own;
 * plain DOM here keeps them independent of whichever component raised them.
 */
export function toast(message: string, kind: 'success' | 'error' = 'success'): void {
  let host = document.getElementById('toasts');
  if (!host) {
    host = document.createElement('div');
    host.id = 'toasts';
    host.className = 'toasts';
    host.setAttribute('role', 'status');
    host.setAttribute('aria-live', 'polite');
    document.body.append(host);
  }
  const item = document.createElement('div');
  item.className = `toast toast-${kind}`;
  item.textContent = message;
  host.append(item);
  // A few at a time: older ones make room.
  while (host.children.length > 3) host.firstElementChild?.remove();
  setTimeout(() => item.remove(), 5000);
}

export function button(label: string, onclick: () => void, options: { kind?: 'primary' | 'danger' | 'plain'; type?: 'button' | 'submit'; label?: string } = {}): VNode {
  return (
    <button type={options.type ?? 'button'} class={`btn btn-${options.kind ?? 'plain'}`} onClick={onclick} aria-label={options.label}>
      {label}
    </button>
  );
}
