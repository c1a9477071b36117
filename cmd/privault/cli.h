/*
 * The privault command line: shared helpers (cli.c) and the subcommands
 * (cmd_*.c). The CLI uses only the public headers in include/privault/.
 *
 * Exit codes (docs/cli.md):
 *   0 ok, 1 error, 2 usage, 3 not found, 4 denied, 5 tamper / verification failed.
 */
#ifndef PV_CLI_H
#define PV_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "privault/audit.h"
#include "privault/error.h"
#include "privault/import.h"
#include "privault/policy.h"
#include "privault/time.h"
#include "privault/vault.h"

#define PV_EXIT_OK 0
#define PV_EXIT_ERROR 1
#define PV_EXIT_USAGE 2
#define PV_EXIT_NOTFOUND 3
#define PV_EXIT_DENIED 4
#define PV_EXIT_TAMPER 5

/* Largest record data the CLI reads from --data-file or stdin (the library has its own, lower limit). */
#define PV_CLI_MAX_INPUT (16u * 1024 * 1024)
/* Repeated options (--grant, --id) accepted per command. */
#define PV_CLI_MAX_MULTI 64
/* Positional arguments accepted per command. */
#define PV_CLI_MAX_POS 8

/* The policy engineer's `privault policy check|show|hash|schema` (cmd_policy.c). */
int pv_cli_policy(int argc, char **argv);

/* A repeatable option's values (borrowed from argv). */
typedef struct {
	const char *v[PV_CLI_MAX_MULTI];
	size_t n;
} pv_cli_list;

/* The invocation: global options and the caller they describe. */
typedef struct {
	const char *vault_dir;       /* --vault, PRIVAULT_VAULT, default ./var/vault */
	const char *store;           /* --store URL (PRIVAULT_STORE otherwise; default sqlite:VAULT/vault.db) */
	const char *as_name;         /* --as, default "cli" */
	const char *role;            /* --role, default "admin" */
	pv_cli_list grants;          /* --grant PURPOSE[:CAT,CAT] */
	const char *command;         /* e.g. "subject create", for messages */
	const char *usage;           /* the command group's usage text */

	/* built by pv_cli_caller() */
	pv_caller caller;
	pv_grant grant_buf[PV_CLI_MAX_MULTI];
	char *grant_text[PV_CLI_MAX_MULTI];
	const char *cat_buf[PV_CLI_MAX_MULTI][PV_CLI_MAX_MULTI];
} pv_cli;

/* One option a command accepts. Exactly one of value, flag, list is set. */
typedef struct {
	const char *name;            /* "--category" */
	const char **value;          /* option with an argument; the last one given wins */
	int *flag;                   /* option without an argument; set to 1 */
	pv_cli_list *list;           /* repeatable option with an argument */
} pv_cli_opt;

/*
 * Parse argv[first..argc) of a command: the command's options (`opts`, ended
 * by an entry with name NULL), the global options (--vault, --as, --role,
 * --grant, anywhere), "--opt=value" and "--opt value" forms, "--" ending
 * options, and positional arguments into pos[0..*npos) (at most maxpos).
 * Returns -1 when everything parsed, or an exit code to return at once:
 * 0 after printing usage for --help/-h, 2 after printing a usage error.
 */
int pv_cli_parse(pv_cli *cli, int argc, char **argv, int first, const pv_cli_opt *opts,
		 const char **pos, size_t maxpos, size_t *npos);

/* Print "privault: <message>" for a usage error on stderr and return 2. */
int pv_cli_usage_error(pv_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print the current command's usage on `f`. */
void pv_cli_usage(const pv_cli *cli, FILE *f);

/* Print "privault: <pv_error_last()>" on stderr and return the exit code for `code`. */
int pv_cli_fail(int code);

/* The exit code for a PV_E* code (0 for PV_OK). */
int pv_cli_exit_code(int code);

/* Build cli->caller from --as, --role and --grant. 0, or an exit code after printing the error. */
int pv_cli_caller(pv_cli *cli, const pv_caller **out);
/* Free what pv_cli_caller allocated. */
void pv_cli_caller_free(pv_cli *cli);

/* Open the vault named by --vault / PRIVAULT_VAULT. 0, or an exit code after printing the error. */
int pv_cli_open(pv_cli *cli, pv_vault **out);

/*
 * Read record data: `data` (--data) if set, else the file `file` (--data-file,
 * "-" = stdin) if set, else stdin. *out is malloc'd and NUL-terminated; the
 * caller wipes it with pv_cli_wipe_free(). 0, or an exit code after printing.
 */
int pv_cli_read_data(const char *data, const char *file, char **out, size_t *len);

/* Read one line from stdin (without its newline) for secrets and identifiers. Same ownership. */
int pv_cli_read_stdin_line(char **out, size_t *len);

/* Wipe `len` bytes of p and free it; accepts NULL. */
void pv_cli_wipe_free(char *p, size_t len);

/* Parse a non-negative decimal integer option; 0 or an exit code after printing. */
int pv_cli_parse_u64(pv_cli *cli, const char *opt, const char *text, unsigned long long *out);

/* Subcommands. argv[0] is the command name; return an exit code. */
int pv_cmd_init(pv_cli *cli, int argc, char **argv);
int pv_cmd_status(pv_cli *cli, int argc, char **argv);
int pv_cmd_policy_vault(pv_cli *cli, int argc, char **argv);   /* policy add | current */
int pv_cmd_subject(pv_cli *cli, int argc, char **argv);
int pv_cmd_record(pv_cli *cli, int argc, char **argv);
int pv_cmd_decide(pv_cli *cli, int argc, char **argv);
int pv_cmd_audit(pv_cli *cli, int argc, char **argv);
int pv_cmd_key(pv_cli *cli, int argc, char **argv);
int pv_cmd_import(pv_cli *cli, int argc, char **argv);
int pv_cmd_sweep(pv_cli *cli, int argc, char **argv);      /* cmd_sweep.c: retention sweep */
int pv_cmd_hold(pv_cli *cli, int argc, char **argv);       /* cmd_hold.c: legal holds */
int pv_cmd_serve(pv_cli *cli, int argc, char **argv);      /* cmd_serve.c: the HTTP server */
int pv_cmd_apikey(pv_cli *cli, int argc, char **argv);     /* cmd_apikey.c: create | list | revoke */
int pv_cmd_logs(pv_cli *cli, int argc, char **argv);       /* cmd_logs.c: logs anonymize | rotate */
int pv_cmd_scrub(pv_cli *cli, int argc, char **argv);      /* cmd_scrub.c */
int pv_cmd_migrate(pv_cli *cli, int argc, char **argv);   /* cmd_store.c */
int pv_cmd_store(pv_cli *cli, int argc, char **argv);     /* store copy */
int pv_cmd_consent(pv_cli *cli, int argc, char **argv);   /* cmd_consent.c: consent signal codecs */
int pv_cmd_request(pv_cli *cli, int argc, char **argv);   /* cmd_rights.c: data-subject requests */
int pv_cmd_report(pv_cli *cli, int argc, char **argv);    /* cmd_rights.c: report requests --year N */
int pv_cmd_fulfil(pv_cli *cli, int argc, char **argv);    /* cmd_fulfil.c: disclosure, package, fulfil, outbox, restore */

#endif
