// The cookie banner in headless Chromium (tests/browser/banner.sh sets up privault).
// Scenarios, each in a fresh browser context (a new visitor, a new device id):
// accept all, reject all, change of mind (accept, then withdraw analytics),
// and a visit with Global Privacy Control on. After each, what the page was
// told (window.privault.allowed, the privault:consent events, gated scripts)
// and the ledger through the HTTP API with the admin key are checked.
'use strict';
const fs = require('fs');
const http = require('http');
const { chromium } = require('playwright-core');

const PRIVAULT = process.env.PRIVAULT_URL;
const ADMIN = process.env.ADMIN_KEY;
const PAGE_PORT = Number(process.env.PAGE_PORT);
const page_html = fs.readFileSync(process.argv[2], 'utf8').replace(/PRIVAULT_URL/g, PRIVAULT);
const CLASSES = ['functional', 'analytics', 'advertising'];
let failures = 0;

function check(ok, what) {
	console.log((ok ? 'ok   ' : 'FAIL ') + what);
	if (!ok) failures++;
}

async function api(path) {
	const r = await fetch(PRIVAULT + path, { headers: { Authorization: 'Bearer ' + ADMIN } });
	if (r.status !== 200) throw new Error(path.replace(/dev_[a-z2-7]+/, 'dev_*') + ': HTTP ' + r.status);
	return r.json();
}

async function ledger(device) {
	const h = await api('/v1/consent/subjects/' + device + '/history');
	const s = await api('/v1/consent/subjects/' + device);
	const state = {};
	for (const p of s.purposes) if (p.vendor === 0) state[p.purpose] = p;
	return { events: h.events, state };
}

// The banner is shown; wait for it, run `act`, wait for the event that follows.
async function choose(page, act) {
	await page.waitForSelector('#privault-banner', { timeout: 10000 });
	const before = await page.evaluate(() => window.told.length);
	await act();
	await page.waitForFunction((n) => window.told.length > n, before, { timeout: 10000 });
	return page.evaluate(() => ({
		told: window.told[window.told.length - 1],
		allowed: ['strictly_necessary', 'functional', 'analytics', 'advertising'].map((c) => window.privault.allowed(c)),
		analyticsRan: window.analyticsRan || 0,
		adsRan: window.adsRan || 0,
		device: window.privault.device(),
		bannerGone: document.getElementById('privault-banner') === null
	}));
}

function actions(events, purpose) {
	return events.filter((e) => e.purpose === purpose).map((e) => e.action + '/' + e.source);
}

async function visit(browser, opts) {
	const ctx = await browser.newContext(opts || {});
	const page = await ctx.newPage();
	page.on('pageerror', (e) => check(false, 'page error: ' + e.message));
	await page.goto('http://127.0.0.1:' + PAGE_PORT + '/');
	return { ctx, page };
}

async function main() {
	const server = http.createServer((req, res) => {
		res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
		res.end(page_html);
	});
	await new Promise((r) => server.listen(PAGE_PORT, '127.0.0.1', r));
	const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--no-sandbox'] });
	try {
		// 1. accept all
		{
			const { ctx, page } = await visit(browser);
			const cats = await page.evaluate(() => window.privault.ready.then(() => window.privault.categories()));
			check(cats.map((c) => c.id).join() === 'strictly_necessary,functional,analytics,advertising',
				'accept: the banner got the four cookie classes of the policy');
			const r = await choose(page, () => page.click('#privault-banner [data-action=accept]'));
			check(r.allowed.join() === 'true,true,true,true', 'accept: window.privault.allowed is true for all');
			check(r.told.allowed.analytics === true && r.told.allowed.advertising === true && r.told.receipt_id,
				'accept: the privault:consent event says all allowed, with a receipt id');
			check(r.analyticsRan === 1 && r.adsRan === 1, 'accept: the gated analytics and advertising scripts ran once');
			check(r.bannerGone, 'accept: the banner is gone');
			check(/^dev_[a-z2-7]{32}$/.test(r.device), 'accept: a device id dev_ + 32 base32');
			const l = await ledger(r.device);
			for (const c of CLASSES)
				check(actions(l.events, c).join() === 'granted/banner' && l.state[c].consent === 'granted',
					'accept: ledger ' + c + ' granted, source banner');
			const e = l.events[0];
			check(/^[0-9a-f]{64}$/.test(e.ua_hash) && e.client === '127.0.0.0/24' && e.receipt_id === r.told.receipt_id,
				'accept: proof kept (user agent hash, truncated address, the receipt id the page got)');
			check(!JSON.stringify(l.events).includes('HeadlessChrome'), 'accept: the raw user agent is not stored');
			// a second visit remembers the choice: no banner, told from the saved choice
			await page.reload();
			await page.waitForFunction(() => window.told.length > 0, null, { timeout: 10000 });
			const again = await page.evaluate(() => ({ n: document.querySelectorAll('#privault-banner').length,
				a: window.told[0].allowed.analytics, d: window.privault.device() }));
			check(again.n === 0 && again.a === true && again.d === r.device, 'accept: reload keeps the device and the choice, no banner');
			await ctx.close();
		}
		// 2. reject all
		{
			const { ctx, page } = await visit(browser);
			const r = await choose(page, () => page.click('#privault-banner [data-action=reject]'));
			check(r.allowed.join() === 'true,false,false,false', 'reject: only strictly necessary allowed');
			check(r.analyticsRan === 0 && r.adsRan === 0, 'reject: no gated script ran');
			const l = await ledger(r.device);
			for (const c of CLASSES)
				check(actions(l.events, c).join() === 'refused/banner' && l.state[c].consent === 'refused',
					'reject: ledger ' + c + ' refused');
			await ctx.close();
		}
		// 3. change of mind: accept all, then reopen the banner and withdraw analytics
		{
			const { ctx, page } = await visit(browser);
			await choose(page, () => page.click('#privault-banner [data-action=accept]'));
			await page.evaluate(() => window.privault.show());
			const r = await choose(page, async () => {
				await page.uncheck('#privault-cat-analytics');
				await page.click('#privault-banner [data-action=save]');
			});
			check(r.allowed.join() === 'true,true,false,true', 'change: analytics off, the others still on');
			check(r.told.allowed.analytics === false, 'change: the event tells analytics is no longer allowed');
			const l = await ledger(r.device);
			check(actions(l.events, 'analytics').join() === 'granted/banner,withdrawn/banner',
				'change: ledger analytics granted then withdrawn (history kept)');
			check(l.state.analytics.consent === 'withdrawn' && l.state.functional.consent === 'granted',
				'change: state analytics withdrawn, functional granted');
			await ctx.close();
		}
		// 4. Global Privacy Control on (the header on every request, and the navigator property)
		{
			const ctx = await browser.newContext({ extraHTTPHeaders: { 'Sec-GPC': '1' } });
			await ctx.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl',
				{ get: () => true, configurable: true }));
			const page = await ctx.newPage();
			page.on('pageerror', (e) => check(false, 'page error: ' + e.message));
			await page.goto('http://127.0.0.1:' + PAGE_PORT + '/');
			await page.waitForSelector('#privault-banner');
			const box = await page.evaluate(() => {
				const cb = document.getElementById('privault-cat-advertising');
				return { disabled: cb.disabled, checked: cb.checked };
			});
			check(box.disabled && !box.checked, 'gpc: the advertising box is off and locked');
			const r = await choose(page, () => page.click('#privault-banner [data-action=accept]'));
			check(r.allowed.join() === 'true,true,true,false', 'gpc: accept all leaves advertising off');
			check(r.adsRan === 0 && r.analyticsRan === 1, 'gpc: the advertising script did not run, analytics did');
			check(r.told.gpc === true, 'gpc: the event says GPC');
			let l = await ledger(r.device);
			check(actions(l.events, 'advertising').includes('opted_out/gpc'), 'gpc: ledger advertising opted_out, source gpc');
			check(l.state.advertising.opted_out === true && l.state.advertising.gpc === true, 'gpc: state advertising opted out by GPC');
			// an explicit opt-in under GPC (bypassing the script): recorded as a conflict, GPC wins
			const ans = await page.evaluate(async ([url, device]) => {
				const res = await fetch(url + '/v1/banner/choices', { method: 'POST', headers: { 'Content-Type': 'application/json' },
					body: JSON.stringify({ device, categories: { advertising: true } }) });
				return res.json();
			}, [PRIVAULT, r.device]);
			check(ans.conflicts >= 1 && ans.allowed.advertising === false, 'gpc: an explicit advertising opt-in is a conflict, still not allowed');
			l = await ledger(r.device);
			check(l.events.some((e) => e.purpose === 'advertising' && e.action === 'granted' && e.conflict === 'gpc'),
				'gpc: the ledger shows the conflicting grant with conflict gpc');
			await ctx.close();
		}
		// 5. GPC seen only by the script (navigator.globalPrivacyControl, no header): "gpc": true records it
		{
			const ctx = await browser.newContext();
			await ctx.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl',
				{ get: () => true, configurable: true }));
			const page = await ctx.newPage();
			page.on('pageerror', (e) => check(false, 'page error: ' + e.message));
			await page.goto('http://127.0.0.1:' + PAGE_PORT + '/');
			const r = await choose(page, () => page.click('#privault-banner [data-action=accept]'));
			check(r.allowed.join() === 'true,true,true,false', 'gpc (script only): accept all leaves advertising off');
			const l = await ledger(r.device);
			check(actions(l.events, 'advertising').includes('opted_out/gpc') && l.state.advertising.gpc === true,
				'gpc (script only): ledger advertising opted_out, source gpc');
			await ctx.close();
		}
	} finally {
		await browser.close();
		server.close();
	}
	console.log(failures ? failures + ' failures' : 'all browser checks passed');
	process.exit(failures ? 1 : 0);
}

main().catch((e) => { console.error('FAIL ' + (e && e.stack || e)); process.exit(1); });
