// Sign-in with the JWT session of the API (POST /v1/auth/login).
import { login } from '../api.js';
import { field, fill, h } from '../ui.js';

export function renderSignIn(main) {
  const email = field('Email', h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true }));
  const password = field('Password', h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true }));
  const totp = field('Authenticator code (if enabled)',
    h('input', { type: 'text', name: 'totp_code', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: '6' }));
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn primary wide' }, 'Sign in');
  const form = h('form', { class: 'signin-form', novalidate: false }, email.wrap, password.wrap, totp.wrap, error, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      await login(email.input.value.trim(), password.input.value, totp.input.value.trim());
      if (!location.hash || location.hash === '#/signin') location.hash = '#/keys';
    } catch (err) {
      error.textContent = err.status === 401 ? 'Email, password or code not recognised.' : err.message;
      error.hidden = false;
      password.input.select();
    } finally {
      submit.disabled = false;
    }
  });
  fill(main, h('section', { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to busline'),
    h('p', { class: 'muted' }, 'Manage your organization’s API keys, webhooks and integrations.'),
    form));
  email.input.focus();
}
