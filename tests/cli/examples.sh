#!/usr/bin/env bash
# The five seed organizations' policies (examples/policies/) must validate, and
# `privault policy show` must carry the key facts each published policy states.
# Env: PRIVAULT (the binary), SRCDIR (the source root).
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
command -v jq >/dev/null || { echo "examples.sh: jq is required (scripts install it)" >&2; exit 1; }

dir="$SRCDIR/examples/policies"
files=(freenas-2018 ixsystems-2020 rockstor-2021 openstack-2019 minio)
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pv-examples.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# 1. every example validates (exit 0, nothing on stderr that says error)
for f in "${files[@]}"; do
	path="$dir/$f.yaml"
	if ! "$PRIVAULT" policy check "$path" >"$tmp/$f.check" 2>&1; then
		echo "FAIL: policy check $f.yaml exited non-zero:" >&2
		cat "$tmp/$f.check" >&2
		fail=1
		continue
	fi
	if ! "$PRIVAULT" policy show "$path" >"$tmp/$f.json" 2>"$tmp/$f.err"; then
		echo "FAIL: policy show $f.yaml exited non-zero:" >&2
		cat "$tmp/$f.err" >&2
		fail=1
		continue
	fi
	jq -e . "$tmp/$f.json" >/dev/null || { echo "FAIL: policy show $f.yaml is not JSON" >&2; fail=1; }
done
[ "$fail" -eq 0 ] || exit 1

# 2. key facts per organization. check FILE DESCRIPTION JQ-EXPRESSION (must yield true)
check() {
	local f=$1 what=$2 expr=$3 out
	if out=$(jq -e "$expr" "$tmp/$f.json" 2>&1) && [ "$out" = "true" ]; then
		echo "ok: $f: $what"
	else
		echo "FAIL: $f: $what" >&2
		echo "      jq: $expr -> ${out:-<nothing>}" >&2
		fail=1
	fi
}

# helpers usable in expressions
P='def purpose($id): .purposes[] | select(.id == $id);
   def cat($id): .categories[] | select(.id == $id);
   def recipient($id): .recipients[] | select(.id == $id);
   def exception($id): .retention.exceptions[] | select(.id == $id);
   def regimes: (.regimes | if type == "object" then keys else map(.name // .regime) end);'

# FreeNAS 2018: GDPR only; nothing is sold; newsletter needs a sign-up; removal requests to legal@ixsystems.com
check freenas-2018 "only the gdpr regime is in force" "$P regimes == [\"gdpr\"]"
check freenas-2018 "controller contact is legal@ixsystems.com" '.controller.contact == "legal@ixsystems.com"'
check freenas-2018 "no purpose sells personal information" '[.purposes[].sale] | all(. == false)'
check freenas-2018 "newsletter: consent, opt-in, marketing" \
	"$P purpose(\"newsletter\") | .consent == \"opt_in\" and .marketing == true and .lawful_basis.gdpr == \"consent\""
check freenas-2018 "erasure channel is legal@ixsystems.com" '.rights.gdpr.channels | index("legal@ixsystems.com") != null'

# iXsystems 2020: CCPA 45 days; table A-K with C,E,G,H,I,J,K not collected; 2 access requests per 12 months; toll-free number
check ixsystems-2020 "ccpa and gdpr in force" "$P (regimes | sort) == [\"ccpa\", \"gdpr\"]"
check ixsystems-2020 "ccpa deadline is 45 days" '.rights.ccpa.deadline == "45 days"'
check ixsystems-2020 "categories C,E,G,H,I,J,K are not collected" \
	'[.categories[] | select(.collected == false) | .ccpa] | sort == ["C","E","G","H","I","J","K"]'
check ixsystems-2020 "categories A,B,D,F are collected" \
	'[.categories[] | select(.collected == true) | .ccpa] | sort == ["A","B","D","F"]'
check ixsystems-2020 "access quota is 2 per 12 months" \
	'.rights.ccpa.quota.access.max == 2 and .rights.ccpa.quota.access.period == "12 months"'
check ixsystems-2020 "toll-free number is a request channel" '.rights.ccpa.channels | index("+1 855-473-7449") != null'
check ixsystems-2020 "nothing is sold; advertising data is shared" \
	"$P ([.purposes[].sale] | all(. == false)) and (purpose(\"personalized_marketing\") | .sharing == true)"
check ixsystems-2020 "yearly email reminder of the policy" '.changes.reminder == "12 months"'

# Rockstor 2021: web-server logs rotated; Shopify the only third-party provider; strictly necessary Appman cookies
check rockstor-2021 "access logs have a finite retention" \
	'.retention.access_logs | type == "string" and . != "indefinite"'
check rockstor-2021 "Shopify is the only recipient" '[.recipients[].name] == ["Shopify"]'
check rockstor-2021 "Appman cookies csrftoken, messages, sessionid are strictly necessary first-party" \
	'([.cookies[] | select(.class == "strictly_necessary" and .party == "first") | .name] | sort) == ["csrftoken","messages","sessionid"]'
check rockstor-2021 "sessionid lasts for the session" '.cookies[] | select(.name == "sessionid") | .lifetime == "session"'
check rockstor-2021 "IP logging rests on legitimate interests" \
	"$P purpose(\"site_protection\") | .lawful_basis.gdpr == \"legitimate_interests\""
check rockstor-2021 "forum sign-up is consent-free, on an implied contract" \
	"$P purpose(\"forum\") | .consent == \"notice_only\" and .lawful_basis.gdpr == \"contract\""
check rockstor-2021 "erasure requests kept as documentation" \
	"$P exception(\"erasure_request_records\") | .kind == \"documentation\""

# OpenStack 2019: GDPR one month; published contributions kept indefinitely; deleted-members record; 10-day email opt-out; under 13
check openstack-2019 "gdpr deadline is 1 month" '.rights.gdpr.deadline == "1 month"'
check openstack-2019 "published contributions are kept indefinitely" \
	"$P exception(\"published_contributions\") | .kind == \"published\" and .duration == \"indefinite\""
check openstack-2019 "deleted-members record is documentation" \
	"$P exception(\"deleted_members\") | .kind == \"documentation\""
check openstack-2019 "email opt-out takes up to 10 days" \
	"$P purpose(\"community_email\") | .opt_out_window == \"10 days\" and .consent == \"opt_out\" and .marketing == true"
check openstack-2019 "no data from children under 13" '.children.minimum_age == 13'
check openstack-2019 "Mailchimp, Emma and Sendgrid send email" \
	'([.recipients[] | select(.purposes | index("community_email")) | .name] | contains(["Mailchimp","Emma","Sendgrid"]))'

# MinIO: children under 13; marketing opt-out within 10 business days; administrative mail continues; Google Analytics
check minio "children minimum age is 13" '.children.minimum_age == 13'
check minio "parental consent below 13" '.children.parental_consent_below == 13'
check minio "marketing opt-out window is 10 business days" \
	"$P purpose(\"marketing\") | .opt_out_window == \"10 business days\" and .marketing == true and .lawful_basis.gdpr == \"consent\""
check minio "administrative messages survive a marketing opt-out" \
	"$P purpose(\"communicating\") | .administrative == true and .marketing == false"
check minio "Google Analytics is a processor" \
	"$P recipient(\"google_analytics\") | .type == \"processor\""
check minio "material changes are notified" '.changes.notice_on_material_change == true'

if [ "$fail" -ne 0 ]; then
	echo "examples.sh: FAILED" >&2
	exit 1
fi
echo "examples.sh: all checks passed"
