extension ConsoleAssets {
    /// The console's script. Every value from the system (channel names, user IDs, conn_info, data) is
    /// put on the page as text nodes, never as HTML, so nothing a client sends can run in the console.
    static let script = #"""
        'use strict';
        (function () {
          const $ = (id) => document.getElementById(id);
          let events = null;
          let route = null;

          function el(tag, attrs, ...children) {
            const node = document.createElement(tag);
            for (const [k, v] of Object.entries(attrs || {})) {
              if (k === 'class') node.className = v;
              else if (k === 'text') node.textContent = v;
              else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
              else node.setAttribute(k, v);
            }
            for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
            return node;
          }

          function toast(text) {
            const t = $('toast');
            t.textContent = text;
            t.hidden = false;
            clearTimeout(toast.timer);
            toast.timer = setTimeout(() => { t.hidden = true; }, 3000);
          }

          async function api(method, params) {
            const r = await fetch('admin/api', {
              method: 'POST', credentials: 'same-origin',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ method, params: params || {} }),
            });
            if (r.status === 401) { showSignIn(); throw new Error('signed out'); }
            const body = await r.json();
            if (body.error) throw new Error(typeof body.error === 'string' ? body.error : body.error.message + ' (' + body.error.code + ')');
            return body.result;
          }

          // Sign-in

          function showSignIn() {
            closeEvents();
            $('app').hidden = true;
            $('signin').hidden = false;
            $('password').focus();
          }

          function showApp() {
            $('signin').hidden = true;
            $('app').hidden = false;
            render();
          }

          $('signin-form').addEventListener('submit', async (e) => {
            e.preventDefault();
            $('signin-error').textContent = '';
            const r = await fetch('admin/auth', {
              method: 'POST', credentials: 'same-origin',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ password: $('password').value }),
            });
            $('password').value = '';
            if (r.ok) { showApp(); return; }
            const body = await r.json().catch(() => ({}));
            $('signin-error').textContent = r.status === 401 ? 'Wrong password.' : (body.error || ('Sign-in failed (' + r.status + ').'));
          });

          $('sign-out').addEventListener('click', async () => {
            await fetch('admin/logout', { method: 'POST', credentials: 'same-origin' });
            showSignIn();
          });

          // Live events

          function closeEvents() {
            if (events) { events.close(); events = null; }
            $('live').className = 'live off';
            $('live').textContent = 'offline';
          }

          function openEvents(channel, handlers) {
            closeEvents();
            const url = 'admin/events' + (channel ? '?channel=' + encodeURIComponent(channel) : '');
            events = new EventSource(url);
            events.onopen = () => { $('live').className = 'live'; $('live').textContent = 'live'; };
            events.onerror = async () => {
              $('live').className = 'live off';
              $('live').textContent = 'reconnecting';
              const s = await fetch('admin/session', { credentials: 'same-origin' }).then((r) => r.json()).catch(() => null);
              if (s && !s.signed_in) showSignIn();
            };
            for (const [name, fn] of Object.entries(handlers)) {
              events.addEventListener(name, (e) => fn(JSON.parse(e.data)));
            }
          }

          // Views

          function fmtUptime(s) {
            const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
            return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + m + 'm ' + (s % 60) + 's';
          }
          const fmtTime = (ms) => new Date(ms).toLocaleTimeString();
          const json = (v) => v === undefined ? '' : JSON.stringify(v);
          const card = (id, label) => el('div', { class: 'card' }, el('div', { class: 'n', id }, '–'), el('div', { class: 'l' }, label));

          function table(id, headers) {
            return el('table', { id }, el('thead', {}, el('tr', {}, ...headers.map(([h, cls]) => el('th', { class: cls || '' }, h)))), el('tbody'));
          }

          function fillRows(tbody, rows, empty, cols) {
            tbody.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { class: 'empty', colspan: String(cols) }, empty))]));
          }

          function overview(view) {
            view.append(
              el('h1', {}, 'Overview'),
              el('div', { class: 'cards' }, card('total-nodes', 'nodes'), card('total-clients', 'connections'),
                card('total-users', 'users'), card('total-subs', 'subscriptions'), card('total-in', 'client messages in / s'),
                card('total-out', 'messages out / s')),
              el('h2', {}, 'Nodes'),
              table('nodes', [['Node'], ['Version'], ['Uptime'], ['Engine'], ['Connections', 'num'], ['Users', 'num'],
                ['Channels', 'num'], ['Subscriptions', 'num'], ['In / s', 'num'], ['Out / s', 'num'], ['RSS', 'num']]),
              el('h2', {}, 'Busiest channels'),
              table('top-channels', [['Channel'], ['Subscribers (all nodes)', 'num']]));
            openEvents(null, {
              channels: (r) => {
                const top = Object.entries(r.channels || {}).sort((a, b) => b[1].num_clients - a[1].num_clients || (a[0] < b[0] ? -1 : 1)).slice(0, 10);
                fillRows($('top-channels').tBodies[0], top.map(([c, v]) => el('tr', { 'data-channel': c },
                  el('td', {}, el('a', { href: '#/channel/' + encodeURIComponent(c) }, c)), el('td', { class: 'num' }, v.num_clients))),
                  'No channels with subscribers.', 2);
              },
              overview: (info) => {
                const nodes = info.nodes || [];
                const sum = (k) => nodes.reduce((a, n) => a + (n[k] || 0), 0);
                $('total-nodes').textContent = nodes.length;
                $('total-clients').textContent = sum('num_clients');
                $('total-users').textContent = sum('num_users');
                $('total-subs').textContent = sum('num_subs');
                $('total-in').textContent = sum('messages_in_per_second');
                $('total-out').textContent = sum('messages_out_per_second');
                fillRows($('nodes').tBodies[0], nodes.map((n) => el('tr', { 'data-node': n.uid },
                  el('td', {}, n.name), el('td', {}, n.version), el('td', {}, fmtUptime(n.uptime || 0)),
                  el('td', {}, n.engine + ' ', el('span', { class: n.engine_healthy === false ? 'pill bad' : 'pill' }, n.engine_healthy === false ? 'unhealthy' : 'healthy')),
                  el('td', { class: 'num' }, n.num_clients), el('td', { class: 'num' }, n.num_users),
                  el('td', { class: 'num' }, n.num_channels), el('td', { class: 'num' }, n.num_subs),
                  el('td', { class: 'num' }, n.messages_in_per_second || 0), el('td', { class: 'num' }, n.messages_out_per_second || 0),
                  el('td', { class: 'num' }, ((n.rss || 0) / 1048576).toFixed(1) + ' MB'))), 'No nodes.', 11);
              },
            });
          }

          function channels(view) {
            const search = el('input', { id: 'channel-search', type: 'search', placeholder: 'Filter channels (substring)' });
            view.append(el('h1', {}, 'Channels'), el('div', { class: 'toolbar' }, search, el('span', { id: 'channel-count', class: 'muted' })),
              table('channels', [['Channel'], ['Subscribers (all nodes)', 'num']]));
            let last = {};
            const draw = () => {
              const q = search.value.trim().toLowerCase();
              const names = Object.keys(last).filter((c) => c.toLowerCase().includes(q)).sort();
              $('channel-count').textContent = names.length + ' of ' + Object.keys(last).length;
              fillRows($('channels').tBodies[0], names.map((c) => el('tr', { 'data-channel': c },
                el('td', {}, el('a', { href: '#/channel/' + encodeURIComponent(c) }, c)),
                el('td', { class: 'num' }, last[c].num_clients))), 'No channels with subscribers.', 2);
            };
            search.addEventListener('input', draw);
            const update = (r) => { last = r.channels || {}; draw(); };
            api('channels').then(update).catch((e) => toast(e.message));
            openEvents(null, { channels: update });
          }

          function channelPage(view, channel) {
            const pubData = el('textarea', { id: 'publish-data' }, '{"text": "hello from the console"}');
            const pubError = el('p', { id: 'publish-error', class: 'error', role: 'alert' });
            view.append(
              el('h1', {}, 'Channel ', el('code', { id: 'channel-name' }, channel)),
              el('div', { class: 'cards' }, card('stat-clients', 'clients present'), card('stat-users', 'users present')),
              el('p', { id: 'presence-error', class: 'error' }),
              el('div', { class: 'grid' },
                el('div', {}, el('h2', {}, 'Presence'),
                  table('presence', [['Client'], ['User'], ['conn_info'], ['chan_info'], ['']])),
                el('div', {}, el('h2', {}, 'Joins and leaves'), el('ul', { id: 'presence-log', class: 'log' }))),
              el('h2', {}, 'Last publications'),
              el('p', { id: 'history-error', class: 'muted' }),
              table('publications', [['Offset', 'num'], ['Data'], ['Info']]),
              el('h2', {}, 'Publish to this channel'),
              pubData,
              el('div', { class: 'toolbar' }, el('button', { id: 'publish-here', type: 'button', onclick: async () => {
                pubError.textContent = '';
                try {
                  const r = await api('publish', { channel, data: jsonCheck.parse(pubData.value) });
                  toast('Published' + (r.offset ? ' at offset ' + r.offset : ''));
                } catch (e) { pubError.textContent = e.message; }
              } }, 'Publish')), pubError);
            const present = new Map();
            const row = (c, fresh) => el('tr', { 'data-client': c.client, 'data-user': c.user, class: fresh ? 'fresh' : '' },
              el('td', {}, el('code', {}, c.client)),
              el('td', {}, el('a', { href: '#/user/' + encodeURIComponent(c.user) }, c.user === '' ? '(anonymous)' : c.user)),
              el('td', {}, el('pre', {}, json(c.conn_info))), el('td', {}, el('pre', {}, json(c.chan_info))),
              el('td', { class: 'actions' }, el('button', { class: 'danger unsubscribe', type: 'button', onclick: () => act('unsubscribe', { user: c.user, client: c.client, channel }) }, 'Unsubscribe'), ' ',
                el('button', { class: 'danger disconnect', type: 'button', onclick: () => act('disconnect', { user: c.user, client: c.client }) }, 'Disconnect')));
            const draw = () => {
              const tbody = $('presence').tBodies[0];
              if (!present.size) fillRows(tbody, [], 'Nobody is present.', 5);
            };
            const log = (kind, c) => {
              $('presence-log').prepend(el('li', { class: kind }, el('time', {}, fmtTime(c.time)), c.user === '' ? '(anonymous)' : c.user, ' ', el('code', {}, c.client)));
            };
            openEvents(channel, {
              presence: (p) => {
                present.clear();
                for (const c of p.clients) present.set(c.client, c);
                fillRows($('presence').tBodies[0], p.clients.map((c) => row(c, false)), 'Nobody is present.', 5);
                $('presence-error').textContent = '';
              },
              join: (c) => {
                if (!present.size) $('presence').tBodies[0].replaceChildren();
                present.set(c.client, c);
                $('presence').tBodies[0].append(row(c, true));
                log('join', c);
              },
              leave: (c) => {
                present.delete(c.client);
                const tr = $('presence').querySelector('tr[data-client="' + CSS.escape(c.client) + '"]');
                if (tr) tr.remove();
                draw();
                log('leave', c);
              },
              presence_stats: (s) => { $('stat-clients').textContent = s.num_clients; $('stat-users').textContent = s.num_users; },
              presence_error: (e) => { $('presence-error').textContent = 'Presence: ' + e.message + ' (' + e.code + ')'; },
              history_error: (e) => { $('history-error').textContent = 'History: ' + e.message + ' (' + e.code + ')'; },
              publications: (h) => {
                const pubs = h.publications || [];
                fillRows($('publications').tBodies[0], pubs.map((p) => el('tr', {},
                  el('td', { class: 'num' }, p.offset || ''), el('td', {}, el('pre', {}, p.data !== undefined ? json(p.data) : 'base64: ' + (p.b64data || ''))),
                  el('td', {}, el('pre', {}, json(p.info))))), 'No publications in history.', 3);
              },
            });
          }

          async function act(method, params) {
            try {
              await api(method, params);
              toast(method === 'disconnect' ? 'Disconnected ' + params.client : 'Unsubscribed ' + params.client + ' from ' + params.channel);
              if (route && route.view === 'user') render();
            } catch (e) { toast(e.message); }
          }

          function connectionsPage(view) {
            const user = el('input', { id: 'user-id', placeholder: 'User ID' });
            view.append(el('h1', {}, 'Connections'),
              el('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); location.hash = '#/user/' + encodeURIComponent(user.value); } },
                user, el('button', { type: 'submit' }, 'Show user')),
              el('h2', {}, 'All connections (up to 1000 per node)'),
              connectionTable());
            loadConnections(null);
            openEvents(null, {});
          }

          function connectionTable() {
            loadConnections.last = null;
            return table('connections', [['Client'], ['User'], ['Node'], ['Transport'], ['Channels'], ['']]);
          }

          async function loadConnections(user) {
            let r;
            try { r = await api('connections', user === null ? {} : { user }); } catch (e) { toast(e.message); return; }
            // Redrawn only when something changed, so a button is not replaced under the pointer.
            const key = JSON.stringify(r.connections || {});
            if (key === loadConnections.last && $('connections').tBodies[0].rows.length) return;
            loadConnections.last = key;
            const conns = Object.entries(r.connections || {});
            fillRows($('connections').tBodies[0], conns.map(([client, c]) => el('tr', { 'data-client': client },
              el('td', {}, el('code', {}, client)),
              el('td', {}, el('a', { href: '#/user/' + encodeURIComponent(c.user) }, c.user === '' ? '(anonymous)' : c.user)),
              el('td', {}, c.node), el('td', {}, c.transport + ' / ' + c.protocol),
              el('td', {}, ...Object.keys((c.state || {}).channels || {}).map((ch) => el('div', {},
                el('a', { href: '#/channel/' + encodeURIComponent(ch) }, ch), ' ',
                el('button', { class: 'danger unsubscribe', type: 'button', onclick: () => act('unsubscribe', { user: c.user, client, channel: ch }) }, 'Unsubscribe')))),
              el('td', {}, el('button', { class: 'danger disconnect', type: 'button', onclick: () => act('disconnect', { user: c.user, client }) }, 'Disconnect')))),
              user === null ? 'No connections.' : 'This user has no connections on any node.', 6);
          }

          function userPage(view, user) {
            view.append(el('h1', {}, 'User ', el('code', { id: 'user-name' }, user === '' ? '(anonymous)' : user)),
              el('div', { class: 'toolbar' }, el('button', { id: 'disconnect-user', class: 'danger', type: 'button',
                onclick: () => act('disconnect', { user }) }, 'Disconnect all of this user\u2019s connections')),
              el('h2', {}, 'Connections on every node'), connectionTable());
            loadConnections(user);
            openEvents(null, { overview: () => loadConnections(user) });
          }

          function publishPage(view) {
            const channel = el('input', { id: 'publish-channel', placeholder: 'channel, e.g. chat:room' });
            const data = el('textarea', { id: 'publish-data' }, '{"text": "hello"}');
            const result = el('pre', { id: 'publish-result' });
            view.append(el('h1', {}, 'Publish'), el('p', { class: 'muted' }, 'Publishes through the server API, as a backend would.'),
              el('div', { class: 'toolbar' }, channel), data,
              el('div', { class: 'toolbar' }, el('button', { id: 'publish', type: 'button', onclick: async () => {
                result.classList.remove('error');
                try {
                  result.textContent = JSON.stringify(await api('publish', { channel: channel.value, data: jsonCheck.parse(data.value) }));
                } catch (e) {
                  result.textContent = e.message;
                  result.classList.add('error');
                }
              } }, 'Publish')), result);
            openEvents(null, {});
          }

          function parseRoute() {
            const h = location.hash.replace(/^#/, '') || '/';
            const m = h.match(/^\/(channel|user)\/(.*)$/);
            if (m) return { view: m[1], arg: decodeURIComponent(m[2]) };
            const v = { '/': 'overview', '/channels': 'channels', '/connections': 'connections', '/publish': 'publish' }[h];
            return { view: v || 'overview' };
          }

          function render() {
            route = parseRoute();
            const nav = { channel: 'channels', user: 'connections' }[route.view] || route.view;
            for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.nav === nav);
            const view = $('view');
            view.replaceChildren();
            ({ overview, channels, channel: channelPage, user: userPage, connections: connectionsPage, publish: publishPage })[route.view](view, route.arg);
          }

          window.addEventListener('hashchange', () => { if (!$('app').hidden) render(); });

          fetch('admin/session', { credentials: 'same-origin' }).then((r) => r.json())
            .then((s) => (s.signed_in ? showApp() : showSignIn()))
            .catch(() => showSignIn());
        })();
        """#
}
