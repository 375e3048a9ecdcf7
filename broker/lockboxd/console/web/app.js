// lockbox console: plain JavaScript over the broker's /v1/ API, authenticated by the console
// session cookie. Every piece of data reaches the page through textContent or an attribute
// set by setAttribute, never through innerHTML: a request's ticket, justification or comment
// is whatever the engineer typed.
'use strict';

const state = { me: null, csrf: null, roles: [], timers: [] };

// ---- DOM helpers ----

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') e.textContent = String(v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return e;
}

function show(...nodes) {
  const main = document.getElementById('main');
  main.replaceChildren(...nodes);
}

function toast(msg) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.className = 'show';
  setTimeout(() => { t.className = ''; }, 4000);
}

// ---- time ----

function fmtDuration(seconds) {
  let s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d > 0) return d + ' d ' + h + ' h';
  if (h > 0) return h + ' h ' + m + ' min';
  if (m > 0) return m + ' min ' + s + ' s';
  return s + ' s';
}

// A time in the viewer's zone, UTC on hover, and how far it is from now.
function timeEl(epoch, relative) {
  if (epoch === null || epoch === undefined) return el('span', { class: 'muted', text: '—' });
  const d = new Date(epoch * 1000);
  const local = d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const t = el('time', { datetime: d.toISOString(), title: d.toUTCString(), tabindex: 0, text: local });
  if (!relative) return t;
  const rel = el('span', { class: 'muted rel', 'data-epoch': epoch });
  updateRelative(rel);
  return el('span', {}, t, ' ', rel);
}

function updateRelative(node) {
  const epoch = Number(node.getAttribute('data-epoch'));
  const delta = epoch - Date.now() / 1000;
  node.textContent = delta >= 0 ? '(in ' + fmtDuration(delta) + ')' : '(' + fmtDuration(-delta) + ' ago)';
}

// Time left of a live session, to the second: "1:59:58", "2 d 03:04:05".
function fmtLeft(seconds) {
  let s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hms = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60]
    .map((n, i) => (i === 0 && d === 0 ? String(n) : String(n).padStart(2, '0'))).join(':');
  return d > 0 ? d + ' d ' + hms : hms;
}

function startTicker() {
  state.timers.push(setInterval(() => {
    document.querySelectorAll('.rel').forEach(updateRelative);
    document.querySelectorAll('.left').forEach((n) => {
      const left = Number(n.getAttribute('data-end')) - Date.now() / 1000;
      n.textContent = left > 0 ? fmtLeft(left) : 'ended';
    });
  }, 1000));
}

function stopTimers() {
  state.timers.forEach(clearInterval);
  state.timers = [];
}

// ---- API ----

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || ('HTTP ' + status));
    this.status = status;
    this.code = body && body.error;
  }
}

async function api(method, path, body) {
  const opts = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (method !== 'GET') {
    opts.headers['X-CSRF-Token'] = state.csrf || '';
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body || {});
  }
  const r = await fetch(path, opts);
  if (r.status === 401) { signedOut(); throw new ApiError(401, null); }
  if (r.status === 204) return null;
  const ctype = r.headers.get('Content-Type') || '';
  const data = ctype.includes('json') && !ctype.includes('ndjson') ? await r.json() : await r.text();
  if (!r.ok) throw new ApiError(r.status, typeof data === 'object' ? data : null);
  return data;
}

function signedOut() {
  stopTimers();
  state.me = null;
  document.getElementById('nav').hidden = true;
  document.getElementById('signout').hidden = true;
  document.getElementById('who').textContent = '';
  rememberPage();
  show(el('section', { class: 'notice' },
    el('h1', { text: 'lockbox' }),
    el('p', { text: 'Sign in with your organisation account to review support access requests.' }),
    el('a', { class: 'button', href: '/auth/login', id: 'signin', text: 'Sign in' })));
}

// ---- request fields ----

function statusEl(s) { return el('span', { class: 'status ' + s, text: s }); }

function scopeText(r) {
  const s = r.scope || {};
  return [s.tenant && ('tenant ' + s.tenant), s.subscription && ('subscription ' + s.subscription)]
    .filter(Boolean).join(' / ') || '—';
}

function ticketText(r) {
  return r.ticket === 'provider-initiated' || !r.ticket ? 'provider-initiated' : r.ticket;
}

function requestFields(r) {
  const rows = [
    ['Request', el('a', { href: '#/requests/' + encodeURIComponent(r.id), text: r.id })],
    ['Support request', ticketText(r)],
    ['Status', statusEl(r.status)],
    ['Host / environment', (r.host || r.host_group || '—') + (r.host_group ? ' (group)' : '')],
    ['Scope', scopeText(r)],
    ['Login', r.login || '—'],
    ['Requester', r.requester],
    ['Requested', timeEl(r.created, true)],
    ['Request expiry', timeEl(r.request_expiry, true)],
    ['Access period', fmtDuration(r.duration)],
    ['Access expiry', r.access_end ? timeEl(r.access_end, true)
      : el('span', { class: 'muted', text: fmtDuration(r.duration) + ' after approval' })],
    ['Justification', r.reason],
    ['Approvers', (r.approvers || []).join(', ') || '—'],
    ['Approvals so far', (r.approvals || []).map((a) => (typeof a === 'string' ? a : a.approver || a.identity || JSON.stringify(a))).join(', ') || 'none'],
  ];
  if (r.decided_by) rows.push(['Decided by', r.decided_by], ['Decided', timeEl(r.decided_at)]);
  if (r.comment) rows.push(['Comment', r.comment]);
  if (r.revoked_by) rows.push(['Revoked by', r.revoked_by], ['Revoke comment', r.revoke_comment || '—']);
  const dl = el('dl');
  for (const [k, v] of rows) {
    dl.appendChild(el('dt', { text: k }));
    dl.appendChild(el('dd', {}, typeof v === 'string' ? v : v));
  }
  return dl;
}

// Approve / Deny with a comment; a denial needs a reason (the engineer sees it).
function decisionForm(r, after) {
  const id = 'c-' + r.id;
  const comment = el('textarea', { id, maxlength: 1024, 'aria-label': 'Comment for ' + r.id,
    placeholder: 'Comment (required to deny: the engineer sees it)' });
  const err = el('p', { class: 'error', role: 'alert' });
  const decide = async (verb, btn) => {
    const text = comment.value.trim();
    if (verb === 'deny' && text === '') { err.textContent = 'A denial needs a reason.'; comment.focus(); return; }
    btn.disabled = true;
    try {
      await api('POST', '/v1/requests/' + encodeURIComponent(r.id) + '/' + verb, text ? { comment: text } : {});
      toast(r.id + (verb === 'approve' ? ' approved' : ' denied'));
      after();
    } catch (e) {
      err.textContent = e.message;
      btn.disabled = false;
    }
  };
  const approve = el('button', { type: 'button', class: 'approve', text: 'Approve' });
  const deny = el('button', { type: 'button', class: 'danger deny', text: 'Deny' });
  approve.addEventListener('click', () => decide('approve', approve));
  deny.addEventListener('click', () => decide('deny', deny));
  const mine = state.me && r.requester === state.me;
  if (mine) { approve.disabled = true; deny.disabled = true; }
  return el('div', { class: 'decision' },
    el('label', { for: id, class: 'muted', text: 'Comment' }), comment,
    el('div', { class: 'actions' }, approve, deny),
    mine ? el('p', { class: 'muted', text: 'You made this request: somebody else must decide it.' }) : null,
    err);
}

// ---- pages ----

async function pagePending() {
  const data = await api('GET', '/v1/requests?status=pending&limit=100');
  const list = data.requests || [];
  const cards = list.map((r) => el('section', { class: 'card request', 'data-id': r.id },
    el('h2', {}, el('a', { href: '#/requests/' + encodeURIComponent(r.id), text: r.id }), ' ', statusEl(r.status)),
    requestFields(r),
    r.status === 'pending' || r.status === 'internal-review' ? decisionForm(r, route) : null));
  show(el('h1', { text: 'Pending requests' }),
    list.length ? el('div', {}, ...cards) : el('p', { class: 'muted', id: 'empty', text: 'Nothing waits for a decision.' }));
}

function revokeButton(r) {
  const b = el('button', { type: 'button', class: 'danger revoke', text: 'Revoke' });
  b.addEventListener('click', async () => {
    const reason = prompt('Revoke ' + r.id + ': reason (the engineer sees it)');
    if (reason === null) return;
    b.disabled = true;
    try {
      await api('POST', '/v1/requests/' + encodeURIComponent(r.id) + '/revoke', reason.trim() ? { comment: reason.trim() } : {});
      toast(r.id + ' revoked');
      route();
    } catch (e) { toast(e.message); b.disabled = false; }
  });
  return b;
}

async function pageActive() {
  const data = await api('GET', '/v1/requests?status=approved&limit=200');
  const now = Date.now() / 1000;
  const live = (data.requests || []).filter((r) => r.access_end && r.access_end > now && r.grant_status !== 'revoked');
  const rows = live.map((r) => el('tr', { 'data-id': r.id },
    el('td', { 'data-label': 'Host' }, r.host || r.host_group || '—'),
    el('td', { 'data-label': 'Login' }, r.login || '—'),
    el('td', { 'data-label': 'Grant' }, el('a', { href: '#/requests/' + encodeURIComponent(r.id), text: (r.grant_id || '') + ' (' + r.id + ')' })),
    el('td', { 'data-label': 'Started' }, timeEl(r.access_start)),
    el('td', { 'data-label': 'Time left' }, el('span', { class: 'left', 'data-end': r.access_end, text: fmtLeft(r.access_end - now) })),
    el('td', {}, revokeButton(r))));
  show(el('h1', { text: 'Active sessions' }),
    live.length ? el('table', { class: 'responsive' },
      el('thead', {}, el('tr', {}, ...['Host', 'Login', 'Grant', 'Started', 'Time left', ''].map((h) => el('th', { text: h })))),
      el('tbody', {}, ...rows)) : el('p', { class: 'muted', id: 'empty', text: 'No access is active.' }));
}

async function auditLines(query) {
  const text = await api('GET', '/v1/audit' + query);
  return String(text).split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}

function canReadAudit() {
  return state.roles.some((r) => r.role === 'auditor' || r.role === 'admin');
}

async function pageRequest(id) {
  const r = await api('GET', '/v1/requests/' + encodeURIComponent(id));
  const nodes = [el('h1', {}, 'Request ' + r.id + ' ', statusEl(r.status)), el('section', { class: 'card' }, requestFields(r))];
  if (r.status === 'pending' || r.status === 'internal-review') nodes.push(el('section', { class: 'card' }, decisionForm(r, route)));
  if (r.status === 'approved' && r.access_end > Date.now() / 1000) nodes.push(el('div', { class: 'actions' }, revokeButton(r)));
  const recordings = el('section', { class: 'card', id: 'recordings' }, el('h2', { text: 'Session recordings' }));
  const trail = el('section', { class: 'card' }, el('h2', { text: 'Audit trail' }));
  nodes.push(recordings, trail);
  show(...nodes);
  await listRecordings(r, recordings);
  if (!canReadAudit()) {
    trail.appendChild(el('p', { class: 'muted', text: 'The full audit trail is for auditors and administrators.' }));
    return;
  }
  const events = (await auditLines('?limit=1000')).map((e) => ({ seq: e.seq, body: JSON.parse(e.body) }))
    .filter((e) => e.body.request_id === r.id);
  trail.appendChild(events.length ? el('ol', {}, ...events.map((e) => el('li', {},
    timeEl(e.body.time), ' ', el('strong', { text: e.body.action }), ' by ', String(e.body.actor || '—'))))
    : el('p', { class: 'muted', text: 'No events yet.' }));
}

// The request's recorded sessions, for those who may review them (others get 404).
async function listRecordings(r, section) {
  let list;
  try { list = (await api('GET', '/v1/requests/' + encodeURIComponent(r.id) + '/recordings')).recordings || []; } catch (e) {
    if (e.status !== 404) throw e;
    section.appendChild(el('p', { class: 'muted', text: 'Recordings are for the people who review this request.' }));
    return;
  }
  section.appendChild(list.length ? el('ul', {}, ...list.map((x) => el('li', {},
    el('a', { href: '#/recordings/' + encodeURIComponent(x.id), class: 'recording', text: 'Session ' + x.session }),
    ' ', String(x.login), '@', String(x.host), ', ', timeEl(x.created), ', ', Math.ceil(x.size / 1024) + ' KiB')))
    : el('p', { class: 'muted', text: 'No session recorded yet.' }));
}

async function pageRecording(id) {
  const rec = await api('GET', '/v1/recordings/' + encodeURIComponent(id));
  const req = 'LBX-' + rec.request;
  const p = castPlayer(rec.cast_text);
  show(el('h1', { text: 'Session ' + rec.session }),
    el('p', {}, String(rec.login), '@', String(rec.host), ', ', timeEl(rec.created), ' — request ',
      el('a', { href: '#/requests/' + req, text: req })),
    p.node);
  state.player = p;
}

async function pageRecent(params) {
  const status = params.get('status') || 'all';
  const host = params.get('host') || '';
  const requester = params.get('requester') || '';
  const before = params.get('before') || '';
  const since = Math.floor(Date.now() / 1000) - 28 * 86400;
  const q = new URLSearchParams({ status, since: String(since), limit: '50' });
  if (before) q.set('before', before);
  const data = await api('GET', '/v1/requests?' + q.toString());
  const list = (data.requests || []).filter((r) => (!host || (r.host || '').includes(host)) &&
    (!requester || (r.requester || '').includes(requester)));
  const sel = el('select', { name: 'status', id: 'f-status' }, ...['all', 'pending', 'internal-review', 'approved', 'denied', 'expired', 'revoked', 'ended']
    .map((s) => el('option', { value: s, selected: s === status, text: s })));
  const fHost = el('input', { name: 'host', id: 'f-host', value: host });
  const fReq = el('input', { name: 'requester', id: 'f-requester', value: requester });
  const form = el('form', { class: 'filters' },
    el('label', {}, 'Status', sel), el('label', {}, 'Host', fHost), el('label', {}, 'Requester', fReq),
    el('button', { type: 'submit', text: 'Filter' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams({ status: sel.value, host: fHost.value, requester: fReq.value });
    location.hash = '#/recent?' + p.toString();
  });
  const rows = list.map((r) => el('tr', {},
    el('td', { 'data-label': 'Request' }, el('a', { href: '#/requests/' + encodeURIComponent(r.id), text: r.id })),
    el('td', { 'data-label': 'Status' }, statusEl(r.status)),
    el('td', { 'data-label': 'Host' }, r.host || r.host_group || '—'),
    el('td', { 'data-label': 'Requester' }, r.requester),
    el('td', { 'data-label': 'Support request' }, ticketText(r)),
    el('td', { 'data-label': 'Requested' }, timeEl(r.created))));
  const pager = el('div', { class: 'actions' });
  if (data.next) {
    const p = new URLSearchParams({ status, host, requester, before: data.next });
    pager.appendChild(el('a', { class: 'button secondary', href: '#/recent?' + p.toString(), text: 'Older →' }));
  }
  show(el('h1', { text: 'Recent requests (28 days)' }), form,
    el('table', { class: 'responsive' },
      el('thead', {}, el('tr', {}, ...['Request', 'Status', 'Host', 'Requester', 'Support request', 'Requested'].map((h) => el('th', { text: h })))),
      el('tbody', {}, ...rows)), pager);
}

async function sha256hex(text) {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(d)).map((b) => b.toString(16).padStart(2, '0')).join('');
}

// hash = SHA-256(body), body.prev_hash = the previous event's hash (API.md).
async function chainStatus(events) {
  let prev = null;
  for (const e of events) {
    if (await sha256hex(e.body) !== e.hash) return 'broken at event ' + e.seq + ' (hash)';
    const b = JSON.parse(e.body);
    if (prev !== null && b.prev_hash !== prev) return 'broken at event ' + e.seq + ' (link)';
    prev = e.hash;
  }
  return 'intact (' + events.length + ' events shown)';
}

function download(name, type, text) {
  const a = el('a', { href: URL.createObjectURL(new Blob([text], { type })), download: name });
  document.body.appendChild(a);
  a.click();
  a.remove();
}

function csvCell(v) {
  const s = v === null || v === undefined ? '' : (typeof v === 'object' ? JSON.stringify(v) : String(v));
  // A leading = + - @ would be a formula in a spreadsheet.
  const safe = /^[=+\-@\t\r]/.test(s) ? "'" + s : s;
  return '"' + safe.replace(/"/g, '""') + '"';
}

async function pageAudit(params) {
  if (!canReadAudit()) { show(el('h1', { text: 'Audit' }), el('p', { class: 'muted', text: 'The audit log is for auditors and administrators.' })); return; }
  const search = params.get('q') || '';
  const events = await auditLines('?limit=1000');
  const bodies = events.map((e) => ({ e, b: JSON.parse(e.body) }));
  const shown = bodies.filter(({ e }) => !search || e.body.toLowerCase().includes(search.toLowerCase()));
  const input = el('input', { name: 'q', id: 'f-q', value: search, 'aria-label': 'Search' });
  const form = el('form', { class: 'filters' }, el('label', {}, 'Search', input), el('button', { type: 'submit', text: 'Search' }));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); location.hash = '#/audit?' + new URLSearchParams({ q: input.value }).toString(); });
  const jsonl = el('button', { type: 'button', class: 'secondary', text: 'Export JSON lines' });
  jsonl.addEventListener('click', () => download('lockbox-audit.jsonl', 'application/x-ndjson', shown.map(({ e }) => JSON.stringify(e)).join('\n') + '\n'));
  const csv = el('button', { type: 'button', class: 'secondary', text: 'Export CSV' });
  csv.addEventListener('click', () => download('lockbox-audit.csv', 'text/csv',
    'seq,time,action,actor,request,hash\n' + shown.map(({ e, b }) => [e.seq, b.time, b.action, b.actor, b.request_id, e.hash].map(csvCell).join(',')).join('\n') + '\n'));
  const chain = el('p', { id: 'chain', text: 'Chain: checking…' });
  show(el('h1', { text: 'Audit' }), form, el('div', { class: 'actions' }, jsonl, csv), chain,
    el('table', { class: 'responsive' },
      el('thead', {}, el('tr', {}, ...['#', 'Time', 'Action', 'Actor', 'Request'].map((h) => el('th', { text: h })))),
      el('tbody', {}, ...shown.slice(-300).reverse().map(({ e, b }) => el('tr', {},
        el('td', { 'data-label': '#' }, String(e.seq)), el('td', { 'data-label': 'Time' }, timeEl(b.time)),
        el('td', { 'data-label': 'Action' }, String(b.action)), el('td', { 'data-label': 'Actor' }, String(b.actor || '—')),
        el('td', { 'data-label': 'Request' }, String(b.request_id || '')))))));
  chain.textContent = 'Chain: ' + await chainStatus(events);
}

// ---- policies (the broker's admins; a tenant's global admins on their own tenant) ----

function managesPolicies() {
  return state.roles.some((r) => r.role === 'admin' || r.role === 'global-admin');
}

// "12h", "30m", "2d", "90s" or plain seconds; NaN for anything else.
function parseDuration(text) {
  const m = /^\s*(\d{1,7})\s*([smhd]?)\s*$/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2]];
}

const POLICY_FIELDS = [
  { key: 'lockbox', label: 'Lockbox (consent required)', kind: 'bool' },
  { key: 'request_ttl', label: 'Request TTL', kind: 'duration' },
  { key: 'access_duration', label: 'Access duration (at most 8 h)', kind: 'duration' },
  { key: 'approvals_required', label: 'Approvals required', kind: 'count' },
  { key: 'internal_review', label: 'Internal review', kind: 'bool' },
  { key: 'notify_email', label: 'E-mail the approvers', kind: 'bool' },
  { key: 'notify_webhook', label: 'Webhook (https URL)', kind: 'url' },
];

function effectiveText(f, v) {
  if (v === null || v === undefined || v === '') return 'none';
  if (f.kind === 'bool') return v ? 'on' : 'off';
  if (f.kind === 'duration') return fmtDuration(v);
  return String(v);
}

// One input per field; empty (or "inherit") leaves the field to the enclosing scope.
function policyInput(f, stored, effective) {
  const id = 'p-' + f.key;
  const has = Object.prototype.hasOwnProperty.call(stored, f.key);
  const inherited = 'inherit (' + effectiveText(f, effective[f.key]) + ')';
  let input;
  if (f.kind === 'bool') {
    input = el('select', { id, name: f.key },
      el('option', { value: '', text: inherited, selected: !has }),
      el('option', { value: 'on', text: 'on', selected: has && stored[f.key] === true }),
      el('option', { value: 'off', text: 'off', selected: has && stored[f.key] === false }));
  } else {
    const v = has && stored[f.key] !== null ? String(stored[f.key]) : '';
    input = el('input', { id, name: f.key, value: v, placeholder: inherited,
      inputmode: f.kind === 'url' ? 'url' : 'numeric', autocomplete: 'off' });
  }
  return el('label', { for: id }, f.label, input);
}

function policyBody(form) {
  const body = {};
  for (const f of POLICY_FIELDS) {
    const v = form.elements[f.key].value.trim();
    if (v === '') continue;
    if (f.kind === 'bool') body[f.key] = v === 'on';
    else if (f.kind === 'url') body[f.key] = v === 'none' ? null : v;
    else {
      const n = f.kind === 'duration' ? parseDuration(v) : (/^\d{1,3}$/.test(v) ? Number(v) : NaN);
      if (Number.isNaN(n)) throw new Error(f.label + ': "' + v + '" is not ' + (f.kind === 'duration' ? 'a duration (e.g. 4h, 30m)' : 'a number'));
      body[f.key] = n;
    }
  }
  return body;
}

// A scope in a path: "tenant:ID" as it is (the broker takes the colon literally).
function scopePath(scope) {
  return encodeURIComponent(scope).replace(/%3A/g, ':');
}

function managedTenants() {
  return state.roles.filter((r) => r.role === 'global-admin').map((r) => r.scope);
}

async function policyScopes() {
  const scopes = new Set(managedTenants());
  const isAdmin = state.roles.some((r) => r.role === 'admin');
  if (isAdmin) {
    (await api('GET', '/v1/tenants')).tenants.forEach((t) => scopes.add('tenant:' + t.id));
    (await api('GET', '/v1/subscriptions')).subscriptions.forEach((x) => scopes.add('subscription:' + x.id));
  }
  (await api('GET', '/v1/policies')).policies.forEach((p) => scopes.add(p.scope));
  (await api('GET', '/v1/roles')).roles.forEach((r) => { if (r.scope !== 'global') scopes.add(r.scope); });
  return Array.from(scopes).sort();
}

async function policyCard(scope) {
  const p = await api('GET', '/v1/policies/' + scopePath(scope));
  const err = el('p', { class: 'error', role: 'alert', id: 'policy-error' });
  const form = el('form', { class: 'policy', id: 'policy-form' },
    ...POLICY_FIELDS.map((f) => policyInput(f, p.stored || {}, p.effective || {})),
    el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'policy-save', text: 'Save policy' })), err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      await api('PUT', '/v1/policies/' + scopePath(scope), policyBody(form));
      toast('Policy of ' + scope + ' saved');
      route();
    } catch (e) { err.textContent = e.message; }
  });
  return el('section', { class: 'card' }, el('h2', { text: 'Policy of ' + scope }),
    el('p', { class: 'muted', text: 'Empty fields take the value of the enclosing scope (shown in brackets).' }), form);
}

const CUSTOMER_ROLES = ['owner', 'global-admin', 'auditor'];

async function rolesCard(scopes) {
  const roles = (await api('GET', '/v1/roles')).roles || [];
  const rows = roles.map((r) => {
    const remove = el('button', { type: 'button', class: 'danger remove-role', text: 'Remove' });
    remove.addEventListener('click', async () => {
      if (!confirm('Remove ' + r.role + ' on ' + r.scope + ' from ' + r.identity + '?')) return;
      remove.disabled = true;
      try { await api('DELETE', '/v1/roles/' + encodeURIComponent(r.id)); toast('Role removed'); route(); } catch (e) { toast(e.message); remove.disabled = false; }
    });
    return el('tr', { 'data-role-id': r.id },
      el('td', { 'data-label': 'Identity' }, String(r.identity)), el('td', { 'data-label': 'Role' }, String(r.role)),
      el('td', { 'data-label': 'Scope' }, String(r.scope)), el('td', { 'data-label': 'Since' }, timeEl(r.created)),
      el('td', {}, remove));
  });
  const who = el('input', { id: 'r-identity', name: 'identity', autocomplete: 'off', required: true });
  const role = el('select', { id: 'r-role', name: 'role' }, ...CUSTOMER_ROLES.map((x) => el('option', { value: x, text: x })));
  const scope = el('select', { id: 'r-scope', name: 'scope' }, ...scopes.map((x) => el('option', { value: x, text: x })));
  const err = el('p', { class: 'error', role: 'alert', id: 'role-error' });
  const form = el('form', { class: 'filters', id: 'role-form' },
    el('label', { for: 'r-identity' }, 'Identity', who), el('label', { for: 'r-role' }, 'Role', role),
    el('label', { for: 'r-scope' }, 'Scope', scope), el('button', { type: 'submit', text: 'Assign' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      await api('POST', '/v1/roles', { identity: who.value.trim(), role: role.value, scope: scope.value });
      toast(role.value + ' on ' + scope.value + ' assigned to ' + who.value.trim());
      route();
    } catch (e) { err.textContent = e.message; }
  });
  return el('section', { class: 'card' }, el('h2', { text: 'Role assignments' }), form, err,
    el('table', { class: 'responsive', id: 'roles' },
      el('thead', {}, el('tr', {}, ...['Identity', 'Role', 'Scope', 'Since', ''].map((h) => el('th', { text: h })))),
      el('tbody', {}, ...rows)));
}

async function pagePolicies(params) {
  if (!managesPolicies()) { show(el('h1', { text: 'Policies' }), el('p', { class: 'muted', text: "Policies are for the broker's administrators and a tenant's global administrators." })); return; }
  const scopes = await policyScopes();
  const scope = params.get('scope') || scopes[0] || '';
  const pick = el('select', { id: 'f-scope', name: 'scope' }, ...scopes.map((x) => el('option', { value: x, text: x, selected: x === scope })));
  const other = el('input', { id: 'f-scope-other', name: 'other', placeholder: 'subscription:ID', autocomplete: 'off' });
  const form = el('form', { class: 'filters' }, el('label', { for: 'f-scope' }, 'Scope', pick),
    el('label', { for: 'f-scope-other' }, 'or another of your subscriptions', other), el('button', { type: 'submit', text: 'Open' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = '#/policies?' + new URLSearchParams({ scope: other.value.trim() || pick.value }).toString();
  });
  const nodes = [el('h1', { text: 'Policies' }), form];
  if (scope) nodes.push(await policyCard(scope));
  nodes.push(await rolesCard(scopes));
  show(...nodes);
}

// ---- router ----

const pages = { pending: pagePending, active: pageActive, recent: pageRecent, audit: pageAudit, policies: pagePolicies };

function rememberPage() {
  sessionStorage.setItem('lbx-after-sign-in', location.hash || '#/pending');
}

async function route() {
  // Signed out, a link followed (an e-mail's) is where sign-in returns to.
  if (!state.me) { rememberPage(); return; }
  stopTimers();
  const hash = location.hash.replace(/^#\/?/, '') || 'pending';
  const [path, query] = hash.split('?');
  const parts = path.split('/');
  const params = new URLSearchParams(query || '');
  document.querySelectorAll('nav a').forEach((a) => a.removeAttribute('aria-current'));
  const navItem = document.getElementById('nav-' + parts[0]);
  if (navItem) navItem.setAttribute('aria-current', 'page');
  try {
    if (parts[0] === 'requests' && parts[1]) await pageRequest(decodeURIComponent(parts[1]));
    else if (parts[0] === 'recordings' && parts[1]) await pageRecording(decodeURIComponent(parts[1]));
    else await (pages[parts[0]] || pagePending)(params);
    startTicker();
    document.getElementById('main').focus();
  } catch (e) {
    if (e.status !== 401) show(el('h1', { text: 'Error' }), el('p', { class: 'error', text: e.message }));
  }
}

async function start() {
  document.getElementById('signout').addEventListener('click', async () => {
    try { await api('POST', '/auth/logout', {}); } catch (e) { /* signed out either way */ }
    signedOut();
  });
  const r = await fetch('/auth/session', { credentials: 'same-origin' });
  if (!r.ok) { signedOut(); return; }
  const s = await r.json();
  state.me = s.identity;
  state.csrf = s.csrf;
  try { state.roles = (await api('GET', '/v1/whoami')).roles || []; } catch (e) { if (e.status === 401) return; }
  document.getElementById('who').textContent = s.identity;
  document.getElementById('nav').hidden = false;
  document.getElementById('nav-policies').hidden = !managesPolicies();
  document.getElementById('signout').hidden = false;
  const after = sessionStorage.getItem('lbx-after-sign-in');
  if (after) { sessionStorage.removeItem('lbx-after-sign-in'); if (after !== location.hash) { location.hash = after; return; } }
  route();
}

window.addEventListener('hashchange', route);
document.addEventListener('DOMContentLoaded', start);
