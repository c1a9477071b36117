// The node side of the TCF oracle test (tests/consent/tcf_oracle.sh): the IAB's
// reference library @iabtechlabtcf/core, spoken to in privault's JSON form of a
// TC string (docs/consent.md). Modes, one item per line on stdin:
//   decode            TC strings -> JSON lines ({"error": "..."} when it throws)
//   encode            JSON lines -> TC strings, with the library's SegmentEncoder
//   gen N SEED        N random models as JSON lines (no stdin)
//   compare A B       two JSON-lines files, field by field; exit 1 on a difference
// The library is found through NODE_PATH (the oracle directory's node_modules).
'use strict';
const fs = require('fs');
const readline = require('readline');

function lib() {
	return require('@iabtechlabtcf/core');
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const SEG_NAMES = { 1: 'vendorsDisclosed', 2: 'vendorsAllowed', 3: 'publisherTC' };

const ids = (v) => Array.from(v.values()).sort((a, b) => a - b);

// A TCModel decoded by the library, in our JSON form. Which optional
// segments the string holds is read from each segment's first character.
function toJson(m, str) {
	const segs = str.split('.').slice(1).map((s) => B64.indexOf(s[0]) >> 3);
	const o = {
		version: m.version,
		created: m.created.toISOString(),
		lastUpdated: m.lastUpdated.toISOString(),
		cmpId: m.cmpId, cmpVersion: m.cmpVersion, consentScreen: m.consentScreen,
		consentLanguage: m.consentLanguage, vendorListVersion: m.vendorListVersion,
		policyVersion: m.policyVersion, isServiceSpecific: m.isServiceSpecific,
		useNonStandardTexts: m.useNonStandardTexts,
		specialFeatureOptins: ids(m.specialFeatureOptins),
		purposeConsents: ids(m.purposeConsents),
		purposeLegitimateInterests: ids(m.purposeLegitimateInterests),
		purposeOneTreatment: m.purposeOneTreatment,
		publisherCountryCode: m.publisherCountryCode,
		vendorConsents: ids(m.vendorConsents),
		vendorLegitimateInterests: ids(m.vendorLegitimateInterests),
		publisherRestrictions: m.publisherRestrictions.getRestrictions().map((r) => ({
			purposeId: r.purposeId, restrictionType: r.restrictionType,
			vendors: m.publisherRestrictions.getVendors(r),
		})),
	};
	for (const t of segs) {
		if (t === 1) o.vendorsDisclosed = ids(m.vendorsDisclosed);
		if (t === 2) o.vendorsAllowed = ids(m.vendorsAllowed);
		if (t === 3) {
			o.publisherTC = {
				publisherConsents: ids(m.publisherConsents),
				publisherLegitimateInterests: ids(m.publisherLegitimateInterests),
				numCustomPurposes: Number(m.numCustomPurposes),
				publisherCustomConsents: ids(m.publisherCustomConsents),
				publisherCustomLegitimateInterests: ids(m.publisherCustomLegitimateInterests),
			};
		}
	}
	return o;
}

// Our JSON form into a TCModel, then each segment through the library's SegmentEncoder
// (TCString.encode would first apply a GVL's semantics, which is the CMP's business).
function encode(j) {
	const { TCModel, PurposeRestriction, SegmentEncoder, Segment } = lib();
	const m = new TCModel();
	// every vendor id "exists", so restriction ranges are runs of consecutive ids
	m.publisherRestrictions.gvl = { vendorIds: { has: () => true } };
	m.version = 2;
	m.created = new Date(j.created);
	m.lastUpdated = new Date(j.lastUpdated);
	m.cmpId = j.cmpId; m.cmpVersion = j.cmpVersion; m.consentScreen = j.consentScreen;
	m.consentLanguage = j.consentLanguage; m.vendorListVersion = j.vendorListVersion;
	m.policyVersion = j.policyVersion; m.isServiceSpecific = j.isServiceSpecific;
	m.useNonStandardTexts = j.useNonStandardTexts; m.purposeOneTreatment = j.purposeOneTreatment;
	m.publisherCountryCode = j.publisherCountryCode;
	m.specialFeatureOptins.set(j.specialFeatureOptins);
	m.purposeConsents.set(j.purposeConsents);
	m.purposeLegitimateInterests.set(j.purposeLegitimateInterests);
	m.vendorConsents.set(j.vendorConsents);
	m.vendorLegitimateInterests.set(j.vendorLegitimateInterests);
	for (const r of j.publisherRestrictions)
		for (const v of r.vendors) m.publisherRestrictions.add(v, new PurposeRestriction(r.purposeId, r.restrictionType));
	const segs = [Segment.CORE];
	if (j.vendorsDisclosed) { m.vendorsDisclosed.set(j.vendorsDisclosed); segs.push(Segment.VENDORS_DISCLOSED); }
	if (j.vendorsAllowed) { m.vendorsAllowed.set(j.vendorsAllowed); segs.push(Segment.VENDORS_ALLOWED); }
	if (j.publisherTC) {
		const p = j.publisherTC;
		m.publisherConsents.set(p.publisherConsents);
		m.publisherLegitimateInterests.set(p.publisherLegitimateInterests);
		m.numCustomPurposes = p.numCustomPurposes;
		m.publisherCustomConsents.set(p.publisherCustomConsents);
		m.publisherCustomLegitimateInterests.set(p.publisherCustomLegitimateInterests);
		segs.push(Segment.PUBLISHER_TC);
	}
	return segs.map((s) => SegmentEncoder.encode(m, s)).join('.');
}

// ---- generated models: a small seeded PRNG (mulberry32) -------------------
function prng(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function gen(n, seed) {
	const rnd = prng(seed);
	const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
	const pick = (a) => a[int(0, a.length - 1)];
	const letters = () => String.fromCharCode(65 + int(0, 25), 65 + int(0, 25));
	const bits = (width, p) => { const a = []; for (let i = 1; i <= width; i++) if (rnd() < p) a.push(i); return a; };
	// vendor sets of every shape: empty, sparse, dense, runs, one id, very high ids
	const vendors = () => {
		const shape = int(0, 6), out = new Set();
		const max = pick([1, 10, 45, 46, 47, 100, 500, 1200, 3000, 65535]);
		if (shape === 0) return [];
		if (shape === 1) for (let k = int(1, 8); k > 0; k--) out.add(int(1, max));
		if (shape === 2) return bits(max > 3000 ? 3000 : max, pick([0.1, 0.5, 0.9]));
		if (shape === 3) for (let k = int(1, 6); k > 0; k--) { const lo = int(1, max); const hi = Math.min(max, lo + int(0, 300)); for (let v = lo; v <= hi; v++) out.add(v); }
		if (shape === 4) out.add(int(1, max));
		if (shape === 5) { for (let v = 1; v <= max && v <= 2000; v++) out.add(v); }
		if (shape === 6) for (let k = int(1, 40); k > 0; k--) out.add(int(1, max));
		return Array.from(out).sort((a, b) => a - b);
	};
	const iso = () => new Date(int(0, 2 ** 36 - 1) * 100).toISOString();
	const rows = [];
	for (let i = 0; i < n; i++) {
		const restrictions = [], seen = new Set();
		for (let k = int(0, 3) === 0 ? int(1, 4) : 0; k > 0; k--) {
			const purposeId = int(1, 63), restrictionType = int(0, 2);
			if (seen.has(purposeId + '-' + restrictionType)) continue;
			seen.add(purposeId + '-' + restrictionType);
			const v = vendors();
			if (v.length) restrictions.push({ purposeId, restrictionType, vendors: v });
		}
		const j = {
			version: 2, created: iso(), lastUpdated: iso(),
			cmpId: int(2, 4095), cmpVersion: int(0, 4095), consentScreen: int(0, 63),
			consentLanguage: letters(), vendorListVersion: int(0, 4095), policyVersion: int(0, 63),
			isServiceSpecific: rnd() < 0.5, useNonStandardTexts: rnd() < 0.5,
			specialFeatureOptins: bits(12, 0.3), purposeConsents: bits(24, 0.5),
			purposeLegitimateInterests: bits(24, 0.3), purposeOneTreatment: rnd() < 0.5,
			publisherCountryCode: letters(), vendorConsents: vendors(),
			vendorLegitimateInterests: vendors(), publisherRestrictions: restrictions,
		};
		if (rnd() < 0.7) j.vendorsDisclosed = vendors();
		if (rnd() < 0.3) j.vendorsAllowed = vendors();
		if (rnd() < 0.5) {
			const nc = pick([0, 1, 5, 24, 32, 33, 63]);
			j.publisherTC = {
				publisherConsents: bits(24, 0.5), publisherLegitimateInterests: bits(24, 0.3),
				numCustomPurposes: nc, publisherCustomConsents: bits(nc, 0.5),
				publisherCustomLegitimateInterests: bits(nc, 0.5),
			};
		}
		rows.push(JSON.stringify(j));
	}
	return rows;
}

// ---- comparison, field by field -------------------------------------------
function diff(a, b, path) {
	if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null))
		return `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
	if (Array.isArray(a)) {
		if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
		for (let i = 0; i < a.length; i++) { const d = diff(a[i], b[i], `${path}[${i}]`); if (d) return d; }
		return null;
	}
	if (typeof a === 'object') {
		const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
		for (const k of keys) {
			if (!(k in a) || !(k in b)) return `${path}.${k}: present in only one side`;
			const d = diff(a[k], b[k], `${path}.${k}`);
			if (d) return d;
		}
		return null;
	}
	return a === b ? null : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

function compare(fa, fb) {
	const a = fs.readFileSync(fa, 'utf8').split('\n').filter((l) => l !== '');
	const b = fs.readFileSync(fb, 'utf8').split('\n').filter((l) => l !== '');
	if (a.length !== b.length) { console.error(`compare: ${a.length} lines vs ${b.length}`); return 1; }
	let bad = 0;
	for (let i = 0; i < a.length; i++) {
		const d = diff(JSON.parse(a[i]), JSON.parse(b[i]), '');
		if (d) { if (bad < 10) console.error(`line ${i + 1}: ${d}`); bad++; }
	}
	if (bad) console.error(`compare: ${bad} of ${a.length} differ`);
	return bad ? 1 : 0;
}

async function main() {
	const [mode, ...args] = process.argv.slice(2);
	if (mode === 'gen') { process.stdout.write(gen(Number(args[0]), Number(args[1])).join('\n') + '\n'); return 0; }
	if (mode === 'compare') return compare(args[0], args[1]);
	const out = [];
	const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
	for await (const line of rl) {
		if (line === '') continue;
		if (mode === 'decode') {
			try { out.push(JSON.stringify(toJson(lib().TCString.decode(line), line))); }
			catch (e) { out.push(JSON.stringify({ error: String(e.message || e).slice(0, 80) })); }
		} else if (mode === 'encode') {
			out.push(encode(JSON.parse(line)));
		} else {
			console.error('usage: tcf_oracle.cjs decode|encode|gen N SEED|compare A B');
			return 2;
		}
	}
	process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
	return 0;
}

// exitCode, not exit(): exit() would cut a piped stdout short
main().then((rc) => { process.exitCode = rc; }, (e) => { console.error(e); process.exitCode = 1; });
