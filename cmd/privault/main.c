/*
 * privault: the one binary. main() reads the global options that come before
 * the command, honours PRIVAULT_NOW, and dispatches through the table below.
 * Each command's usage text lives in the table, next to its entry, so `help`,
 * `<cmd> --help` and usage errors all print the same thing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct {
	const char *name;
	int (*run)(pv_cli *cli, int argc, char **argv);
	const char *summary;
	const char *usage;
} pv_cli_command;

static int cmd_help(pv_cli *cli, int argc, char **argv);
static int cmd_policy(pv_cli *cli, int argc, char **argv);

static const pv_cli_command commands[] = {
	{ "help", cmd_help, "show usage of privault or of one command",
	  "usage: privault help [COMMAND]\n" },
	{ "init", pv_cmd_init, "create a vault with its key file and first policy",
	  "usage: privault init [DIR] --policy FILE\n"
	  "  Create a vault in DIR (default: --vault, $PRIVAULT_VAULT or ./var/vault):\n"
	  "  the key file (mode 0600), the database and FILE as the first policy version.\n" },
	{ "status", pv_cmd_status, "vault id, store, policy, counts, key version",
	  "usage: privault status\n"
	  "  Print the vault id, store backend, current policy version and label, the\n"
	  "  counts of subjects (holding a data key), records and audit entries, and the\n"
	  "  current master key version.\n" },
	{ "policy", cmd_policy, "vault policy versions; check, show, hash and schema of files",
	  "usage: privault policy add FILE      load FILE as a new policy version and make it current\n"
	  "       privault policy current       print the current version's hash, label and effective date\n"
	  "       privault policy check|show|hash|schema ...   (work on files; see privault policy check --help)\n" },
	{ "subject", pv_cmd_subject, "create, find, show, categories, erase",
	  "usage: privault subject create --id KIND=VALUE [--id KIND=VALUE ...] [--regime R]\n"
	  "                               [--birth-year Y] [--parental-consent]\n"
	  "       privault subject find KIND [--value VALUE]   (VALUE is read from stdin without --value)\n"
	  "       privault subject show ID\n"
	  "       privault subject categories ID\n"
	  "       privault subject erase ID\n" },
	{ "record", pv_cmd_record, "put, read, rectify records of a subject",
	  "usage: privault record put SUBJECT --category C --purpose P [--source S]\n"
	  "                           [--data JSON | --data-file FILE]   (stdin without either)\n"
	  "       privault record read SUBJECT --purpose P [--category C] [--json]\n"
	  "       privault record rectify SUBJECT RECORD [--data JSON | --data-file FILE]\n" },
	{ "decide", pv_cmd_decide, "the access decision for one subject, category and purpose",
	  "usage: privault decide SUBJECT --category C --purpose P\n"
	  "  Print \"allow\" (exit 0) or \"deny <reason>\" (exit 4).\n" },
	{ "import", pv_cmd_import, "bulk import of JSON lines or CSV",
	  "usage: privault import FILE [--format jsonl|csv] [--batch N] [--check] [--no-progress]\n"
	  "  Each batch of N rows (default 1000) is validated in full, then written in one\n"
	  "  transaction. The first bad row stops the import; earlier batches stay.\n"
	  "  --check validates the whole file and writes nothing.\n" },
	{ "audit", pv_cmd_audit, "verify, list, checkpoint the audit chain; its public key",
	  "usage: privault audit verify\n"
	  "       privault audit list [--from N] [--limit N] [--json]\n"
	  "       privault audit checkpoint\n"
	  "       privault audit pubkey\n" },
	{ "key", pv_cmd_key, "rotate the master key",
	  "usage: privault key rotate\n" },
	{ "sweep", pv_cmd_sweep, "remove records whose retention has ended (cron; also a dry run)",
	  "usage: privault sweep [--dry-run] [--now T] [--batch N] [--purge N] [--json] [--subjects]\n"
	  "  Delete or anonymize (per the policy's retention rules) every record whose expiry\n"
	  "  has passed, except what a legal hold covers or a restricted subject holds; erase\n"
	  "  subjects left with no record and no hold. Prints one line per category x purpose\n"
	  "  x action and a summary. --dry-run writes nothing and lists the subjects that\n"
	  "  would be erased (--subjects lists them after a real sweep). --now T: sweep as of\n"
	  "  T (YYYY-MM-DD or ISO 8601 UTC). --batch N: records per transaction (50000).\n"
	  "  Expired records become unreadable at once (their epoch key is destroyed); then\n"
	  "  their rows are purged, earlier sweeps' too: all by default, at most N with\n"
	  "  --purge N, none with --purge 0 (not with --dry-run). The summary ends with\n"
	  "  destroyed (records whose key went) and purged (rows deleted).\n"
	  "  Exit 0 done, 1 error (earlier batches stay), 2 usage, 3 no vault, 4 not admin.\n" },
	{ "hold", pv_cmd_hold, "legal holds: create, list, show, release",
	  "usage: privault hold create --reason TEXT [--subject ID] [--category C] [--from T] [--to T]\n"
	  "       privault hold list [--all] [--json]\n"
	  "       privault hold show ID [--json]\n"
	  "       privault hold release ID\n"
	  "  A hold keeps every record it covers (subject, category and collection time in\n"
	  "  [from, to) all matching; at least one given) from retention sweeps until released.\n"
	  "  The reason is a case or matter reference, never personal data ('@' is refused).\n" },
	{ "serve", pv_cmd_serve, "run the HTTP/JSON server (foreground)",
	  "usage: privault serve [--config FILE] [--listen ADDR] [--port N] [--tls-cert PEM --tls-key PEM]\n"
	  "                      [--threads N] [--max-body BYTES] [--access-log FILE|-|off]\n"
	  "                      [--auth-fail-burst N] [--auth-fail-per-minute N]\n"
	  "                      [--group-commit-us N] [--max-batch N] [--sweep-every MIN|Ns] [--sweep-batch N]\n"
	  "  Serve the vault's HTTP API on 127.0.0.1:8700 by default. Settings: defaults <\n"
	  "  --config FILE (or $PRIVAULT_CONFIG; key = value lines) < PRIVAULT_* variables <\n"
	  "  flags. SIGHUP reloads the configuration and API keys; SIGTERM lets requests in\n"
	  "  flight finish and exits 0. See docs/operations.md, \"Running the server\".\n"
	  "  Retention: a sweep every MIN minutes or N seconds with Ns, e.g. 30s (--sweep-every,\n"
	  "  $PRIVAULT_SWEEP_EVERY; default 60 minutes, 0 = off) in batches of N (--sweep-batch,\n"
	  "  $PRIVAULT_SWEEP_BATCH; default 10000), then purges at most 10 x N destroyed rows.\n"
	  "  Outbox: delivered every --outbox-every SECONDS ($PRIVAULT_OUTBOX_EVERY; default 60, 0 = off), email to --outbox-mail SPEC.\n" },
	{ "apikey", pv_cmd_apikey, "create, list, revoke API keys of the HTTP server",
	  "usage: privault apikey create NAME --role admin|service|auditor [--grant P[:C,C] ...]\n"
	  "       privault apikey list [--json]\n"
	  "       privault apikey revoke ID\n"
	  "  create prints the key (pvk_...) once on stdout; only a hash of it is stored.\n"
	  "  --grant (service keys): a purpose, optionally limited to categories.\n" },
	{ "migrate", pv_cmd_migrate, "apply pending schema migrations and list them",
	  "usage: privault migrate [--store URL]\n"
	  "  Apply the store's pending migrations (one transaction) and list every migration\n"
	  "  with the time it was applied. Works on SQLite and PostgreSQL stores.\n" },
	{ "store", pv_cmd_store, "copy a vault between stores (SQLite <-> PostgreSQL), verified",
	  "usage: privault store copy --to URL [--from URL] [--key-file FILE]\n"
	  "  Copy every table of the vault in --from (default: --store, $PRIVAULT_STORE or the\n"
	  "  vault's SQLite file) into --to, which must not hold a vault, in one transaction;\n"
	  "  then verify the copy: row counts per table, every data key unwrapped and every\n"
	  "  record and identifier decrypted with the key file (default VAULT/privault.key or\n"
	  "  $PRIVAULT_KEYS), and the audit chain verified. Exit 5 when verification fails.\n" },
	{ "scrub", pv_cmd_scrub, "remove personal data from telemetry and free text (stdin to stdout)",
	  "usage: privault scrub [--json] [--types email,phone,ipv4,ipv6,card,iban,ssn]\n"
	  "                      [--pseudonymize [--key-file F]] [--stats] [FILE]\n"
	  "  Replace email addresses, phone numbers, IP addresses, payment cards (Luhn),\n"
	  "  IBANs (mod 97) and US SSNs with [EMAIL], [PHONE], ... placeholders, line by\n"
	  "  line from FILE or stdin to stdout. --json: JSON lines; string values are\n"
	  "  scrubbed, never keys. --pseudonymize: keyed pseudonyms ([EMAIL:3f2a9c0b11d4])\n"
	  "  with the key of --key-file F (\"scrub <64 hex>\", mode 0600), else derived from\n"
	  "  the vault's keys. --stats: counts per type on stderr. See docs/scrub.md.\n" },
	{ "logs", pv_cmd_logs, "anonymize (stream) and rotate web-server access logs",
	  "usage: privault logs anonymize [FILE...] [-o FILE] [--format auto|common|combined|json]\n"
	  "                               [--preset anonip|ga|matomo1|matomo2|matomo3]\n"
	  "                               [--ipv4-bits N] [--ipv6-bits N] [--all] [--mapped-v4]\n"
	  "                               [--pseudonymize KEYDIR] [--json-key KEY ...] [--quiet]\n"
	  "       privault logs rotate FILE... [--max-size SIZE] [--max-age DUR]\n"
	  "                               [--retention DUR | --policy FILE] [--no-compress]\n"
	  "                               [--rename [--postrotate CMD]] [--dry-run]\n"
	  "  anonymize: truncate IP addresses in the client field and address-list fields\n"
	  "  (X-Forwarded-For) of common/combined or JSON-lines logs, from FILEs or stdin to\n"
	  "  stdout (or appended to -o FILE); --all: every address anywhere in the line.\n"
	  "  Default masks: anonip's (12 and 84 bits). Malformed lines pass unchanged and\n"
	  "  are counted on stderr. --pseudonymize: keyed pseudonyms, a new key each UTC day.\n"
	  "  rotate: copy-and-truncate (or --rename) by size or age, gzip, delete rotated\n"
	  "  files past the retention (the policy's retention.access_logs). See docs/logs.md.\n" },
	{ "consent", pv_cmd_consent, "the consent ledger (grant, withdraw, opt-out, GPC, receipts, exports); TCF, USP, GPP codecs",
	  "usage: privault consent grant|refuse|withdraw|opt-out|opt-in|object|limit SUBJECT --purpose P ...\n"
	  "       privault consent gpc|record-tcf|record-usp|record-gpp SUBJECT [STRING|-]\n"
	  "       privault consent state|history|covered|receipt|export|deadlines|deadline-done|rebuild|erase ...\n"
	  "  the consent ledger of a vault: SUBJECT is a subject id or a device id (dev_...);\n"
	  "  every event is appended with its proof and audited; `privault consent` alone\n"
	  "  lists every option. See docs/consent.md.\n"
	  "       privault consent tcf decode [STRING|-] [--events]\n"
	  "       privault consent tcf encode [JSON|-]\n"
	  "  tcf decode: the IAB TCF v2.2/v2.3 TC string STRING (or stdin) as JSON, or with\n"
	  "  --events one consent event per line (kind id granted|refused). tcf encode: the\n"
	  "  TC string of that JSON form. No vault is needed. See docs/consent.md.\n" },
	{ "request", pv_cmd_request, "data-subject requests: intake, verification, deadlines, refusals",
	  "usage: privault request submit --type T (--id KIND=VALUE | --subject ID) [--regime R]\n"
	  "                  [--requester subject|agent|parent --authorization REF] [--details JSON] [--json]\n"
	  "       privault request send-code ID --id email=ADDR\n"
	  "       privault request verify ID --code DIGITS [--id2 KIND=VALUE]\n"
	  "       privault request confirm ID\n"
	  "       privault request start|complete|partial|withdraw ID [--reason R]\n"
	  "       privault request refuse|excessive ID --reason R\n"
	  "       privault request fee-paid ID\n"
	  "       privault request fulfil ID [--out DIR] [--data JSON]\n"
	  "       privault request extend ID --reason R --id email=ADDR\n"
	  "       privault request show ID [--json]\n"
	  "       privault request list --subject ID [--json]\n"
	  "       privault request due [--within DAYS] [--json]\n"
	  "       privault request expire\n"
	  "  T: access, portability, deletion, rectification, restriction, objection, opt_out,\n"
	  "  limit_sensitive, withdraw_consent. Codes go out through the outbox (`privault outbox\n"
	  "  deliver`). due lists open requests past their deadline, or due within DAYS.\n"
	  "  See docs/rights.md for the state machine, levels and deadlines.\n" },
	{ "report", pv_cmd_report, "CCPA metrics of data-subject requests for one year",
	  "usage: privault report requests --year N [--json]\n"
	  "  Per request type: received, complied with in whole, in part, denied, open,\n"
	  "  mean and median days to respond, over requests received in year N (UTC).\n" },
	{ "disclosure", pv_cmd_fulfil, "the disclosure ledger: record, list (12-month lookback)",
	  "usage: privault disclosure record SUBJECT --recipient R --purpose P --category C [--category C ...]\n"
	  "                                  [--sale] [--sharing] [--at T]\n"
	  "       privault disclosure list SUBJECT [--since T] [--json]\n" },
	{ "package", pv_cmd_fulfil, "access and portability packages of a subject",
	  "usage: privault package access|portability SUBJECT (--out DIR | --json)\n"
	  "  DIR gets package.json, records.csv, disclosures.csv and index.html (docs/rights.md).\n" },
	{ "fulfil", pv_cmd_fulfil, "erasure with exceptions; restriction of processing",
	  "usage: privault fulfil erase SUBJECT [--json]\n"
	  "       privault fulfil restrict|unrestrict SUBJECT\n"
	  "       privault fulfil purge [--limit N]   delete the rows of crypto-shredded subjects\n" },
	{ "outbox", pv_cmd_fulfil, "deliver, list queued messages; recipients' webhook secrets",
	  "usage: privault outbox deliver [--limit N] [--mail file:PATH|command:PROG ARGS] [--max-attempts N]\n"
	  "                               [--backoff SECONDS]\n"
	  "       privault outbox list [--status pending|delivered|failed] [--json]\n"
	  "       privault outbox secret RECIPIENT\n"
	  "  --mail defaults to $PRIVAULT_OUTBOX_MAIL; webhooks need no configuration.\n" },
	{ "restore", pv_cmd_fulfil, "restore a backup, then replay the suppression journal",
	  "usage: privault restore BACKUP          copy the SQLite file BACKUP over VAULT/vault.db, then replay\n"
	  "       privault restore --replay-only [--journal FILE]\n" },
	{ NULL, NULL, NULL, NULL }
};

static const char global_usage[] =
	"global options (before or after the command):\n"
	"  --vault DIR          the vault directory (default $PRIVAULT_VAULT, else ./var/vault)\n"
	"  --store URL          the store: sqlite:PATH or postgresql://... (default $PRIVAULT_STORE,\n"
	"                       else sqlite:VAULT/vault.db); keys stay in the vault directory\n"
	"  --as NAME            act as this caller (default \"cli\")\n"
	"  --role ROLE          admin | service | auditor (default admin)\n"
	"  --grant P[:C,C]      a grant of purpose P, limited to categories C (repeatable)\n"
	"  -h, --help           usage of the command\n"
	"environment: PRIVAULT_VAULT, PRIVAULT_NOW (ISO 8601 UTC, frozen clock for tests),\n"
	"             PRIVAULT_KEYS, PRIVAULT_STORE\n"
	"exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 denied, 5 tamper/verification failed\n";

static const pv_cli_command *find_command(const char *name)
{
	for (const pv_cli_command *c = commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void print_overview(FILE *f)
{
	fprintf(f, "usage: privault [GLOBAL OPTIONS] COMMAND [ARGS]\n\ncommands:\n");
	for (const pv_cli_command *c = commands; c->name != NULL; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\n%s", global_usage);
}

/* `privault help [COMMAND]`. */
static int cmd_help(pv_cli *cli, int argc, char **argv)
{
	const pv_cli_command *c;

	(void)cli;
	if (argc < 2) {
		print_overview(stdout);
		return PV_EXIT_OK;
	}
	c = find_command(argv[1]);
	if (c == NULL) {
		fprintf(stderr, "privault: unknown command '%s'\n", argv[1]);
		print_overview(stderr);
		return PV_EXIT_USAGE;
	}
	fputs(c->usage, stdout);
	fprintf(stdout, "\n%s", global_usage);
	return PV_EXIT_OK;
}

/* `policy add|current` are vault-bound and ours; every other verb is the policy engineer's. */
static int cmd_policy(pv_cli *cli, int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "add") == 0 || strcmp(argv[1], "current") == 0))
		return pv_cmd_policy_vault(cli, argc, argv);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		pv_cli_usage(cli, argc < 2 ? stderr : stdout);
		return argc < 2 ? PV_EXIT_USAGE : PV_EXIT_OK;
	}
	return pv_cli_policy(argc, argv);
}

/*
 * Global options before the command: --vault, --as, --role, --grant (also
 * accepted after it, by pv_cli_parse). Returns the index of the command, or
 * -1 after printing a usage error.
 */
static int parse_globals(pv_cli *cli, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], **slot = NULL;
		const char *val;
		size_t nl = 0;

		if (a[0] != '-')
			return i;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			return i;
		if (strncmp(a, "--vault", 7) == 0 && (a[7] == '\0' || a[7] == '='))
			slot = &cli->vault_dir, nl = 7;
		else if (strncmp(a, "--store", 7) == 0 && (a[7] == '\0' || a[7] == '='))
			slot = &cli->store, nl = 7;
		else if (strncmp(a, "--as", 4) == 0 && (a[4] == '\0' || a[4] == '='))
			slot = &cli->as_name, nl = 4;
		else if (strncmp(a, "--role", 6) == 0 && (a[6] == '\0' || a[6] == '='))
			slot = &cli->role, nl = 6;
		else if (strncmp(a, "--grant", 7) == 0 && (a[7] == '\0' || a[7] == '='))
			nl = 7;
		else {
			fprintf(stderr, "privault: unknown option '%s'\n", a);
			return -1;
		}
		if (a[nl] == '=') {
			val = a + nl + 1;
		} else {
			if (i + 1 >= argc) {
				fprintf(stderr, "privault: option '%s' needs a value\n", a);
				return -1;
			}
			val = argv[++i];
		}
		if (slot != NULL) {
			*slot = val;
		} else {
			if (cli->grants.n >= PV_CLI_MAX_MULTI) {
				fprintf(stderr, "privault: too many --grant options (at most %d)\n", PV_CLI_MAX_MULTI);
				return -1;
			}
			cli->grants.v[cli->grants.n++] = val;
		}
	}
	return i;
}

int main(int argc, char **argv)
{
	static pv_cli cli;
	const pv_cli_command *c;
	const char *now = getenv("PRIVAULT_NOW");
	int first, rc;

	cli.vault_dir = getenv("PRIVAULT_VAULT");
	if (cli.vault_dir == NULL || cli.vault_dir[0] == '\0')
		cli.vault_dir = "./var/vault";
	cli.as_name = "cli";
	cli.role = "admin";

	if (now != NULL && now[0] != '\0') {
		pv_time t;

		if (pv_time_parse(&t, now) != 0) {
			fprintf(stderr, "privault: PRIVAULT_NOW: expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ\n");
			return PV_EXIT_USAGE;
		}
		pv_clock_set(t);
	}

	first = parse_globals(&cli, argc, argv);
	if (first < 0) {
		print_overview(stderr);
		return PV_EXIT_USAGE;
	}
	if (first >= argc) {
		print_overview(stderr);
		return PV_EXIT_USAGE;
	}
	if (strcmp(argv[first], "-h") == 0 || strcmp(argv[first], "--help") == 0) {
		print_overview(stdout);
		return PV_EXIT_OK;
	}
	c = find_command(argv[first]);
	if (c == NULL) {
		fprintf(stderr, "privault: unknown command '%s'\n", argv[first]);
		print_overview(stderr);
		return PV_EXIT_USAGE;
	}
	cli.command = c->name;
	cli.usage = c->usage;
	rc = c->run(&cli, argc - first, argv + first);
	pv_cli_caller_free(&cli);
	fflush(stdout);
	if (ferror(stdout)) {
		fprintf(stderr, "privault: writing the output failed\n");
		return rc == 0 ? PV_EXIT_ERROR : rc;
	}
	return rc;
}
