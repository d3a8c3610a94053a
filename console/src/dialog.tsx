import { render, type ComponentChildren, type VNode } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface Dialog {
  close(): void;
  /** Whether the dialog is still shown (a live log stops following once it is closed). */
  readonly open: boolean;
  /** Replaces what the dialog shows (the next step of a wizard, a session's live log). */
  show(children: ComponentChildren): void;
  /** Runs `handler` once the dialog is closed (Escape, ×, or a button). */
  whenClosed(handler: () => void): void;
}

function DialogView(props: {
  title: string;
  wide?: boolean;
  dialog: Dialog;
  onClosed: () => void;
  initial: ComponentChildren;
  connect: (show: (children: ComponentChildren) => void) => void;
}): VNode {
  const ref = useRef<HTMLDialogElement>(null);
  const [content, setContent] = useState<{ children: ComponentChildren }>({ children: props.initial });
  props.connect((children) => setContent({ children }));
  const titleId = useRef(`dlg-${Math.random().toString(36).slice(2)}`).current;
  useLayoutEffect(() => {
    const element = ref.current!;
    element.showModal();
    element.querySelector<HTMLElement>('.dialog-body :is(input:not([type=hidden]):not([hidden]), select, textarea, button)')?.focus();
  }, []);
  return (
    <dialog ref={ref} class={`dialog${props.wide ? ' dialog-wide' : ''}`} aria-labelledby={titleId} onClose={props.onClosed}>
      <header class="dialog-header">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" class="btn btn-plain dialog-close" aria-label="Close" onClick={() => props.dialog.close()}>
          ×
        </button>
      </header>
      <div class="dialog-body">{content.children}</div>
    </dialog>
  );
}

/**
 * A native modal dialog (focus stays inside, Escape closes, focus returns to what opened it),
 * rendered by Preact into a host of its own at the end of the body, where a modal belongs.
 */
export function openDialog(title: string, build: (dialog: Dialog) => ComponentChildren, options: { wide?: boolean; onClose?: () => void } = {}): Dialog {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
  const host = document.createElement('div');
  document.body.append(host);
  let open = true;
  let show: (children: ComponentChildren) => void = () => undefined;
  const closeHandlers: (() => void)[] = [];
  const dialog: Dialog = {
    whenClosed: (handler) => void closeHandlers.push(handler),
    show: (children) => show(children),
    close: () => host.querySelector('dialog')?.close(),
    get open() {
      return open;
    },
  };
  const closed = () => {
    if (!open) return;
    open = false;
    render(null, host);
    host.remove();
    options.onClose?.();
    for (const handler of closeHandlers) handler();
    opener?.focus();
  };
  render(
    <DialogView
      title={title}
      wide={options.wide}
      dialog={dialog}
      onClosed={closed}
      initial={build(dialog)}
      connect={(setter) => {
        show = setter;
      }}
    />,
    host,
  );
  return dialog;
}

/** Asks before anything irreversible; resolves true only on the explicit confirm button. */
export function confirmAction(title: string, message: ComponentChildren, confirmLabel: string, danger = false): Promise<boolean> {
  return new Promise((resolve) => {
    let answered = false;
    openDialog(
      title,
      (dialog) => [
        <div class="confirm-message">{message}</div>,
        <div class="form-actions">
          <button type="button" class="btn btn-plain" onClick={() => dialog.close()}>
            Cancel
          </button>
          <button
            type="button"
            class={`btn ${danger ? 'btn-danger' : 'btn-primary'}`}
            onClick={() => {
              answered = true;
              resolve(true);
              dialog.close();
            }}
          >
            {confirmLabel}
          </button>
        </div>,
      ],
      { onClose: () => !answered && resolve(false) },
    );
  });
}
