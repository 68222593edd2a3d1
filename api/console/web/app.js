// The console shell: a hash router over the pages, the account bar, and the
// sign-in page whenever there is no session.
import { logout, onSessionChange, session } from './api.js';
import { fill, h } from './ui.js';
import { renderSignIn } from './pages/signin.js';
import { renderKeys } from './pages/keys.js';
import { renderWebhooks } from './pages/webhooks.js';
import { oauthReturnPending, renderIntegrations } from './pages/integrations.js';
import { renderAlerts } from './pages/alerts.js';

const pages = {
  keys: { title: 'API keys', render: renderKeys },
  webhooks: { title: 'Webhooks', render: renderWebhooks },
  integrations: { title: 'Integrations', render: renderIntegrations },
  alerts: { title: 'Alerts', render: renderAlerts },
};

const main = document.getElementById('main');
let leave = null; // the current page's clean-up (stops polling)

function currentPage() {
  if (oauthReturnPending()) return 'integrations';
  const name = location.hash.replace(/^#\/?/, '').split('/')[0];
  return pages[name] ? name : 'keys';
}

function showAccount(claims) {
  document.getElementById('nav').hidden = !claims;
  document.getElementById('account').hidden = !claims;
  if (!claims) return;
  const plan = document.getElementById('plan');
  plan.textContent = `${claims.plan} plan · ${claims.perm}`;
  plan.className = `badge plan-${claims.plan}`;
}

async function route() {
  if (leave) leave();
  leave = null;
  const claims = session();
  showAccount(claims);
  if (!claims) {
    document.title = 'Sign in · busline console';
    renderSignIn(main);
    return;
  }
  const name = currentPage();
  document.querySelectorAll('#nav a').forEach((a) => {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  document.title = `${pages[name].title} · busline console`;
  const view = h('div', { class: 'page' });
  fill(main, view);
  main.focus({ preventScroll: true });
  leave = (await pages[name].render(view, claims)) || null;
}

let lastSignedIn = !!session();
onSessionChange(() => {
  const signedIn = !!session();
  if (signedIn !== lastSignedIn) {
    lastSignedIn = signedIn;
    route();
  }
});
window.addEventListener('hashchange', route);
document.getElementById('signout').addEventListener('click', () => logout());
route();
