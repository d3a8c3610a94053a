import { signIn } from '../api.js';
import { h, notice, replace } from '../dom.js';
import { buildForm, text } from '../forms.js';

/** OAuth2 password grant; the API's own words for a wrong password or a lockout. */
export function loginPage(view: HTMLElement, signedIn: () => void): void {
  const form = buildForm(
    [
      { name: 'username', label: 'User name', required: true, autocomplete: 'username' },
      { name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'current-password' },
    ],
    'Sign in',
    async (values) => {
      await signIn(text(values, 'username'), String(values.password ?? ''));
      signedIn();
    },
  );
  replace(
    view,
    h(
      'main',
      { class: 'login-card', id: 'main' },
      h('h1', {}, h('img', { src: 'favicon.svg', alt: '', width: 32, height: 32 }), ' Rampart'),
      h('p', { class: 'muted' }, 'Sign in to manage this backup server.'),
      form.element,
      notice('info', 'Signing in keeps your session in this tab only: closing or reloading the tab signs you out.'),
    ),
  );
  view.querySelector<HTMLInputElement>('input')?.focus();
}
