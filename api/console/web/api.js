// The console's only way to the server: fetch over the same origin with the
// session's access token, one refresh and retry on a 401, and errors thrown
// as ApiError carrying the API's {"error":{"code","message","request_id"}}.

const STORE = window.sessionStorage;
const KEY_ACCESS = 'busline.access';
const KEY_REFRESH = 'busline.refresh';

let accessToken = STORE.getItem(KEY_ACCESS);
let refreshing = null;
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `request failed with status ${status}`);
    this.status = status;
    this.code = e.code || 'error';
    this.requestId = e.request_id || '';
    this.fieldErrors = e.field_errors || {};
  }
}

/** Called with no argument whenever the session starts or ends. */
export function onSessionChange(fn) {
  listeners.add(fn);
}

function setTokens(access, refresh) {
  accessToken = access;
  if (access) STORE.setItem(KEY_ACCESS, access);
  else STORE.removeItem(KEY_ACCESS);
  if (refresh) STORE.setItem(KEY_REFRESH, refresh);
  else if (!access) STORE.removeItem(KEY_REFRESH);
  listeners.forEach((fn) => fn());
}

/** The claims of the access token (org, perm, plan, sub, exp), or null. */
export function session() {
  if (!accessToken) return null;
  try {
    const part = accessToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '=')));
  } catch {
    return null;
  }
}

async function readBody(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { error: { message: text.slice(0, 200) } };
  }
}

async function send(method, path, body, token) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
  });
  return { res, data: await readBody(res) };
}

export async function login(email, password, totp) {
  const body = { email, password };
  if (totp) body.totp_code = totp;
  const { res, data } = await send('POST', '/v1/auth/login', body);
  if (!res.ok) throw new ApiError(res.status, data);
  setTokens(data.access_token, data.refresh_token);
}

/** Trades the refresh token for a new pair; false when the session is over. */
async function refresh() {
  const token = STORE.getItem(KEY_REFRESH);
  if (!token) return false;
  if (!refreshing) {
    refreshing = send('POST', '/v1/auth/refresh', { refresh_token: token })
      .then(({ res, data }) => {
        if (!res.ok) return false;
        setTokens(data.access_token, data.refresh_token);
        return true;
      })
      .catch(() => false)
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

export async function logout() {
  const token = STORE.getItem(KEY_REFRESH);
  setTokens(null, null);
  if (token) await send('POST', '/v1/auth/logout', { refresh_token: token }).catch(() => {});
}

/** Calls the API; returns the parsed body (null for 204) or throws ApiError. */
export async function api(method, path, body) {
  let { res, data } = await send(method, path, body, accessToken);
  if (res.status === 401 && (await refresh())) ({ res, data } = await send(method, path, body, accessToken));
  if (res.status === 401) setTokens(null, null);
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);
