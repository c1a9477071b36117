/*
 * privault cookie banner (served at /consent.js; docs/consent.md "Cookie banner").
 * No dependencies. Include it with:
 *   <script src="https://privault.example/consent.js" async></script>
 * Options (attributes of that script tag):
 *   data-privault-url   base URL of privault (default: the script's own origin)
 *   data-privault-lang  reserved; the texts below are English
 * What the page gets:
 *   window.privault.allowed(category) -> true/false ("strictly_necessary" always true)
 *   window.privault.ready             -> a Promise of the allowed map once known
 *   window.privault.show()            -> open the banner again (change of mind)
 *   window.privault.acceptAll(), rejectAll(), choose({analytics: true, ...}) -> Promise
 *   a "privault:consent" event on document, detail {allowed, device, receipt_id, gpc}
 *   <script type="text/plain" data-category="analytics" src="..."> run once allowed
 * The visitor's device id ("dev_" + 32 base32 characters, 160 random bits) is
 * kept in localStorage and a first-party cookie "privault_device"; the last
 * choice in localStorage "privault_consent". With navigator.globalPrivacyControl
 * advertising is never chosen on, and the choice carries "gpc": true: privault
 * records the GPC opt-out (as it does for the browser's Sec-GPC: 1 header).
 */
(function () {
	'use strict';
	if (window.privault && window.privault.version) return;
	var CLASSES = ['strictly_necessary', 'functional', 'analytics', 'advertising'];
	var LABELS = {
		strictly_necessary: 'Strictly necessary',
		functional: 'Functional',
		analytics: 'Analytics',
		advertising: 'Advertising'
	};
	var KEY_DEVICE = 'privault_device', KEY_CHOICE = 'privault_consent';
	var script = document.currentScript;
	var base = (script && script.getAttribute('data-privault-url')) ||
		(script && script.src ? new URL(script.src, location.href).origin : location.origin);
	base = base.replace(/\/+$/, '');
	var gpc = navigator.globalPrivacyControl === true;
	var state = { allowed: { strictly_necessary: true }, banner: null, device: null, resolved: false };
	var resolveReady;
	var ready = new Promise(function (r) { resolveReady = r; });

	function store(key, value) {
		try {
			if (value === undefined) return window.localStorage.getItem(key);
			window.localStorage.setItem(key, value);
		} catch (e) { /* storage blocked: the cookie still keeps the device id */ }
		return null;
	}

	function cookie(name, value) {
		if (value === undefined) {
			var m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
			return m ? decodeURIComponent(m[1]) : null;
		}
		document.cookie = name + '=' + encodeURIComponent(value) + '; Max-Age=' + (395 * 86400) +
			'; Path=/; SameSite=Lax' + (location.protocol === 'https:' ? '; Secure' : '');
	}

	/* "dev_" + 32 characters of RFC 4648 base32 (lower case): 160 random bits. */
	function newDevice() {
		var abc = 'abcdefghijklmnopqrstuvwxyz234567', b = new Uint8Array(32), s = 'dev_';
		crypto.getRandomValues(b);
		for (var i = 0; i < b.length; i++) s += abc[b[i] & 31];
		return s;
	}

	function device() {
		if (state.device) return state.device;
		var d = store(KEY_DEVICE) || cookie(KEY_DEVICE);
		if (!d || !/^dev_[a-z2-7]{26,60}$/.test(d)) d = newDevice();
		store(KEY_DEVICE, d);
		cookie(KEY_DEVICE, d);
		state.device = d;
		return d;
	}

	function allowed(cat) {
		return cat === 'strictly_necessary' || state.allowed[cat] === true;
	}

	/* Run the page's gated scripts of allowed categories (type="text/plain" data-category="..."). */
	function activate() {
		var list = document.querySelectorAll('script[type="text/plain"][data-category]');
		for (var i = 0; i < list.length; i++) {
			var old = list[i];
			if (!allowed(old.getAttribute('data-category'))) continue;
			var s = document.createElement('script');
			for (var k = 0; k < old.attributes.length; k++) {
				var a = old.attributes[k];
				if (a.name !== 'type') s.setAttribute(a.name, a.value);
			}
			s.setAttribute('data-privault-activated', '');
			if (!old.src) s.text = old.text;
			old.parentNode.replaceChild(s, old);
		}
	}

	function tell(detail) {
		state.allowed = {};
		CLASSES.forEach(function (c) { state.allowed[c] = c === 'strictly_necessary' || detail.allowed[c] === true; });
		activate();
		var ev = { allowed: Object.assign({}, state.allowed), device: device(), receipt_id: detail.receipt_id || null, gpc: gpc };
		document.dispatchEvent(new CustomEvent('privault:consent', { detail: ev }));
		if (!state.resolved) { state.resolved = true; resolveReady(ev.allowed); }
	}

	function hide() {
		if (state.banner && state.banner.parentNode) state.banner.parentNode.removeChild(state.banner);
		state.banner = null;
	}

	/* Record a choice {class: bool} through privault; GPC keeps advertising off. */
	function record(choice) {
		var cats = {};
		CLASSES.forEach(function (c) { if (c !== 'strictly_necessary' && c in choice) cats[c] = choice[c] === true; });
		if (gpc && 'advertising' in cats) cats.advertising = false;
		var body = { device: device(), categories: cats };
		if (state.notice) body.notice_version = state.notice;
		if (gpc) body.gpc = true;   /* scripts cannot send Sec-GPC themselves */
		return fetch(base + '/v1/banner/choices', {
			method: 'POST',
			mode: 'cors',
			credentials: 'omit',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify(body)
		}).then(function (r) {
			if (!r.ok) throw new Error('privault: the choice was not recorded (HTTP ' + r.status + ')');
			return r.json();
		}).then(function (ans) {
			store(KEY_CHOICE, JSON.stringify({ allowed: ans.allowed, notice_version: state.notice || null, gpc: gpc }));
			hide();
			tell(ans);
			return ans.allowed;
		});
	}

	function el(tag, attrs, text) {
		var e = document.createElement(tag);
		for (var k in attrs) e.setAttribute(k, attrs[k]);
		if (text) e.textContent = text;
		return e;
	}

	function show() {
		if (state.banner || !state.categories) return;
		var prev = {};
		try { prev = (JSON.parse(store(KEY_CHOICE) || '{}').allowed) || {}; } catch (e) { prev = {}; }
		var box = el('div', { id: 'privault-banner', role: 'dialog', 'aria-label': 'Cookie choices',
			style: 'position:fixed;left:0;right:0;bottom:0;z-index:2147483647;background:#fff;color:#111;' +
				'border-top:1px solid #888;padding:1em;font:14px/1.4 sans-serif' });
		box.appendChild(el('p', {}, 'We use cookies. Strictly necessary cookies are always on; choose the others.' +
			(gpc ? ' Your browser sends Global Privacy Control: advertising stays off.' : '')));
		var list = el('div', { 'class': 'privault-categories' });
		state.categories.forEach(function (c) {
			if (!c.required && c.cookies.length === 0) return;
			var id = 'privault-cat-' + c.id;
			var cb = el('input', { type: 'checkbox', id: id, 'data-category': c.id });
			cb.checked = c.required || prev[c.id] === true;
			if (c.required) cb.disabled = true;
			if (gpc && c.id === 'advertising') { cb.checked = false; cb.disabled = true; }
			var lab = el('label', { 'for': id, style: 'margin-right:1.5em' });
			lab.appendChild(cb);
			lab.appendChild(document.createTextNode(' ' + (LABELS[c.id] || c.id) + ' (' + c.cookies.length + ')'));
			list.appendChild(lab);
		});
		box.appendChild(list);
		var all = el('button', { type: 'button', 'data-action': 'accept' }, 'Accept all');
		var none = el('button', { type: 'button', 'data-action': 'reject' }, 'Reject all');
		var save = el('button', { type: 'button', 'data-action': 'save' }, 'Save my choice');
		all.onclick = function () { api.acceptAll(); };
		none.onclick = function () { api.rejectAll(); };
		save.onclick = function () {
			var choice = {};
			CLASSES.forEach(function (c) {
				var cb = box.querySelector('input[data-category="' + c + '"]');
				if (cb && c !== 'strictly_necessary') choice[c] = cb.checked;
			});
			api.choose(choice);
		};
		box.appendChild(all);
		box.appendChild(none);
		box.appendChild(save);
		state.banner = box;
		(document.body || document.documentElement).appendChild(box);
	}

	function each(v) {
		var c = {};
		state.categories.forEach(function (k) { if (!k.required) c[k.id] = v; });
		return c;
	}

	var api = {
		version: 1,
		ready: ready,
		allowed: allowed,
		device: device,
		show: show,
		categories: function () { return state.categories ? state.categories.slice() : []; },
		acceptAll: function () { return record(each(true)); },
		rejectAll: function () { return record(each(false)); },
		choose: function (choice) { return record(choice || {}); }
	};
	window.privault = api;

	function start() {
		fetch(base + '/v1/banner', { mode: 'cors', credentials: 'omit' }).then(function (r) {
			if (!r.ok) throw new Error('privault: banner unavailable (HTTP ' + r.status + ')');
			return r.json();
		}).then(function (b) {
			state.categories = b.categories;
			state.notice = b.notice_version;
			var saved = null;
			try { saved = JSON.parse(store(KEY_CHOICE) || 'null'); } catch (e) { saved = null; }
			if (saved && saved.allowed && saved.notice_version === state.notice) {
				if (gpc && saved.allowed.advertising) return record(saved.allowed);   /* GPC turned on since */
				tell({ allowed: saved.allowed });
				return;
			}
			tell({ allowed: {} });   /* until the visitor chooses: strictly necessary only */
			show();
		}).catch(function (e) {
			tell({ allowed: {} });
			if (window.console) console.warn(String(e));
		});
	}

	if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
	else start();
})();
