// The node side of the GPP oracle test (tests/consent/gpp_oracle.sh): the IAB's
// reference library @iabgpp/cmpapi encodes and decodes, lines in, lines out.
//   decode                GPP strings -> canonical JSON lines ({"error": ...})
//   encode                models -> GPP strings
//   gen N SEED            N random models (uspv1 and usnat, both usnat versions)
//   headers N SEED        N random ascending section id lists (with runs)
//   header-encode         id lists -> header segments
//   header-decode         header segments -> id lists ({"error": ...})
//   compare A B           canonical equality, line by line, of two JSON-line files
'use strict';
const fs = require('fs');
const { GppModel, HeaderV1 } = require('@iabgpp/cmpapi');

const lines = (text) => text.split('\n').filter((l) => l.length > 0);
const stdin = () => lines(fs.readFileSync(0, 'utf8'));
const snake = (k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
const camel = (k) => k.split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('');

function rng(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const USNAT_SCALARS = ['sharing_notice', 'sale_opt_out_notice', 'sharing_opt_out_notice',
	'targeted_advertising_opt_out_notice', 'sensitive_data_processing_opt_out_notice',
	'sensitive_data_limit_use_notice', 'sale_opt_out', 'sharing_opt_out',
	'targeted_advertising_opt_out', 'personal_data_consents', 'mspa_covered_transaction',
	'mspa_opt_out_option_mode', 'mspa_service_provider_mode'];

// The fields both sides must agree on, in one order.
function canon(o) {
	if (o.error !== undefined)
		return { error: true };
	const c = { section_ids: o.section_ids };
	if (o.uspv1) {
		const u = o.uspv1;
		c.uspv1 = { version: u.version, notice: u.notice, opt_out_sale: u.opt_out_sale, lspa_covered: u.lspa_covered };
	}
	if (o.usnat) {
		const u = o.usnat, n = { version: u.version };
		for (const k of USNAT_SCALARS)
			n[k] = u[k];
		n.sensitive_data_processing = u.sensitive_data_processing;
		n.known_child_sensitive_data_consents = u.known_child_sensitive_data_consents;
		n.gpc_segment_included = !!u.gpc_segment_included;
		n.gpc = n.gpc_segment_included ? !!u.gpc : false;
		c.usnat = n;
	}
	if (o.tcfeuv2) {
		// a few core fields, under either library's names
		const t = o.tcfeuv2, g = (a, b) => (t[a] !== undefined ? t[a] : t[b]);
		c.tcfeuv2 = { cmp_id: g('cmpId', 'CmpId'), cmp_version: g('cmpVersion', 'CmpVersion'),
			vendor_list_version: g('vendorListVersion', 'VendorListVersion') };
	}
	return c;
}

function theirDecode(s) {
	try {
		const g = new GppModel(s);
		const out = { section_ids: g.getSectionIds() };
		for (const name of ['uspv1', 'usnat', 'tcfeuv2']) {
			if (!g.hasSection(name))
				continue;
			const sec = g.getSection(name), o = {};
			for (const [k, v] of Object.entries(sec))
				o[name === 'tcfeuv2' ? k : snake(k)] = v;
			if (name === 'usnat')
				o.gpc_segment_included = g.getFieldValue('usnat', 'GpcSegmentIncluded');
			out[name] = o;
		}
		return out;
	} catch (e) {
		return { error: String(e.message || e).slice(0, 80) };
	}
}

function theirEncode(m) {
	const g = new GppModel();
	if (m.uspv1)
		for (const k of ['notice', 'opt_out_sale', 'lspa_covered'])
			g.setFieldValue('uspv1', camel(k), m.uspv1[k]);
	if (m.usnat) {
		const u = m.usnat;
		g.setFieldValue('usnat', 'Version', u.version);
		for (const k of USNAT_SCALARS.concat(['sensitive_data_processing', 'known_child_sensitive_data_consents']))
			g.setFieldValue('usnat', camel(k), u[k]);
		g.setFieldValue('usnat', 'GpcSegmentIncluded', u.gpc_segment_included);
		if (u.gpc_segment_included)
			g.setFieldValue('usnat', 'Gpc', u.gpc);
	}
	return g.encode();
}

function genModel(r) {
	const ri = (n) => Math.floor(r() * n), pick = (s) => s[ri(s.length)];
	const m = { section_ids: [] };
	if (r() < 0.6) {
		m.section_ids.push(6);
		m.uspv1 = { version: 1, notice: pick('YN-'), opt_out_sale: pick('YN-'), lspa_covered: pick('YN-') };
	}
	if (r() < 0.75) {
		m.section_ids.push(7);
		const v = r() < 0.3 ? 1 : 2, u = { version: v };
		for (const k of USNAT_SCALARS)
			u[k] = k === 'mspa_covered_transaction' ? 1 + ri(2) : ri(3);
		u.sensitive_data_processing = Array.from({ length: v === 1 ? 12 : 16 }, () => ri(3));
		u.known_child_sensitive_data_consents = Array.from({ length: v === 1 ? 2 : 3 }, () => ri(3));
		u.gpc_segment_included = r() < 0.5;
		u.gpc = u.gpc_segment_included ? r() < 0.5 : false;
		m.usnat = u;
	}
	return m;
}

function genIds(r) {
	const ids = [];
	let id = 0;
	const n = Math.floor(r() * 12);
	for (let i = 0; i < n; i++) {
		id += r() < 0.5 ? 1 : 1 + Math.floor(r() * (r() < 0.1 ? 1500 : 30));
		if (id > 4095)
			break;
		ids.push(id);
	}
	return ids;
}

function compare(a, b) {
	const la = lines(fs.readFileSync(a, 'utf8')), lb = lines(fs.readFileSync(b, 'utf8'));
	let bad = 0;
	if (la.length !== lb.length) {
		console.error(`compare: ${la.length} lines against ${lb.length}`);
		return 1;
	}
	for (let i = 0; i < la.length; i++) {
		const x = JSON.stringify(canon(JSON.parse(la[i]))), y = JSON.stringify(canon(JSON.parse(lb[i])));
		if (x !== y && bad++ < 5)
			console.error(`compare: line ${i + 1}:\n  ${x}\n  ${y}`);
	}
	if (bad)
		console.error(`compare: ${bad} of ${la.length} lines differ`);
	return bad ? 1 : 0;
}

const [mode, ...args] = process.argv.slice(2);
const out = [];
switch (mode) {
case 'decode':
	for (const s of stdin())
		out.push(JSON.stringify(theirDecode(s)));
	break;
case 'encode':
	for (const l of stdin())
		out.push(theirEncode(JSON.parse(l)));
	break;
case 'gen': {
	const r = rng(Number(args[1]));
	for (let i = 0; i < Number(args[0]); i++)
		out.push(JSON.stringify(genModel(r)));
	break;
}
case 'headers': {
	const r = rng(Number(args[1]));
	for (let i = 0; i < Number(args[0]); i++)
		out.push(JSON.stringify(genIds(r)));
	break;
}
case 'header-encode':
	for (const l of stdin()) {
		const h = new HeaderV1();
		h.setFieldValue('SectionIds', JSON.parse(l));
		out.push(h.encode());
	}
	break;
case 'header-decode':
	for (const s of stdin()) {
		try {
			out.push(JSON.stringify(new HeaderV1(s).getFieldValue('SectionIds')));
		} catch (e) {
			out.push(JSON.stringify({ error: String(e.message || e).slice(0, 80) }));
		}
	}
	break;
case 'compare':
	process.exit(compare(args[0], args[1]));
	break;
default:
	console.error('usage: gpp_oracle.cjs decode|encode|gen N SEED|headers N SEED|header-encode|header-decode|compare A B');
	process.exit(2);
}
if (out.length)
	process.stdout.write(out.join('\n') + '\n');
