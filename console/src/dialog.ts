import { h, append } from './dom.js';

export interface Dialog {
  element: HTMLDialogElement;
  body: HTMLElement;
  close(): void;
}

/** A native modal dialog: focus stays inside, Escape closes, focus returns to what opened it. */
export function openDialog(title: string, build: (dialog: Dialog) => (Node | string)[], options: { wide?: boolean; onClose?: () => void } = {}): Dialog {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  const body = h('div', { class: 'dialog-body' });
  const closeButton = h('button', { type: 'button', class: 'btn btn-plain dialog-close', 'aria-label': 'Close' }, '×');
  const element = h(
    'dialog',
    { class: `dialog${options.wide ? ' dialog-wide' : ''}`, 'aria-labelledby': titleId },
    h('header', { class: 'dialog-header' }, h('h2', { id: titleId }, title), closeButton),
    body,
  );
  const dialog: Dialog = { element, body, close: () => element.close() };
  closeButton.addEventListener('click', () => dialog.close());
  element.addEventListener('close', () => {
    element.remove();
    options.onClose?.();
    opener?.focus();
  });
  append(body, build(dialog));
  document.body.append(element);
  element.showModal();
  const first = body.querySelector<HTMLElement>('input:not([type=hidden]):not([hidden]), select, textarea, button');
  first?.focus();
  return dialog;
}

/** Asks before anything irreversible; resolves true only on the explicit confirm button. */
export function confirmAction(title: string, message: (Node | string)[], confirmLabel: string, danger = false): Promise<boolean> {
  return new Promise((resolve) => {
    let answered = false;
    openDialog(
      title,
      (dialog) => [
        h('div', { class: 'confirm-message' }, ...message),
        h(
          'div',
          { class: 'form-actions' },
          h('button', { type: 'button', class: 'btn btn-plain', onclick: () => dialog.close() }, 'Cancel'),
          h(
            'button',
            {
              type: 'button',
              class: `btn ${danger ? 'btn-danger' : 'btn-primary'}`,
              onclick: () => {
                answered = true;
                resolve(true);
                dialog.close();
              },
            },
            confirmLabel,
          ),
        ),
      ],
      { onClose: () => !answered && resolve(false) },
    );
  });
}
