package cli

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpc"
)

// adminCommands are the DPC client-surface commands (keys, tokens, jwt, org, practitioners,
// patients, groups, roster).
func adminCommands() []*Command {
	return []*Command{
		{Name: "keys", Usage: "dpcetl keys <generate|sign-snippet|upload|list|get|delete>", Summary: "manage the RSA key pair and the public keys registered with DPC",
			Sub: []*Command{keysGenerateCmd(), keysSignSnippetCmd(), keysUploadCmd(), keysListCmd(), keysGetCmd(), keysDeleteCmd()}},
		{Name: "tokens", Usage: "dpcetl tokens <create|list|delete>", Summary: "manage client tokens",
			Sub: []*Command{tokensCreateCmd(), tokensListCmd(), tokensDeleteCmd()}},
		jwtCmd(),
		{Name: "token", Usage: "dpcetl token <get|validate>", Summary: "access tokens and client-assertion checks",
			Sub: []*Command{tokenGetCmd(), tokenValidateCmd()}},
		{Name: "org", Usage: "dpcetl org <show|create>", Summary: "the organization",
			Sub: []*Command{orgShowCmd(), orgCreateCmd()}},
		{Name: "practitioners", Usage: "dpcetl practitioners <add|submit|list|get>", Summary: "register and look up practitioners",
			Sub: practitionerCmds()},
		{Name: "patients", Usage: "dpcetl patients <add|submit|list|get>", Summary: "register and look up patients",
			Sub: patientCmds()},
		{Name: "groups", Usage: "dpcetl groups <create|find|show|add|remove|replace|list>", Summary: "attribution groups, attested for you (X-Provenance)",
			Sub: groupCmds()},
		{Name: "roster", Usage: "dpcetl roster <sync|expiring>", Summary: "keep attribution in step with a CSV roster; renew before the 90 days lapse",
			Sub: []*Command{rosterSyncCmd(), rosterExpiringCmd()}},
		sandboxCmd(),
	}
}

// admCmd builds a Command whose flags are known to help.
func admCmd(name, usage, summary string, mk func() (*admFlags, func(ctx context.Context, env *Env, f *admFlags, args []string) error)) *Command {
	return &Command{
		Name: name, Usage: usage, Summary: summary,
		flags: func() *flag.FlagSet { f, _ := mk(); return f.fs },
		Run: func(ctx context.Context, env *Env, args []string) error {
			f, run := mk()
			pos, err := f.parse(args)
			if err != nil {
				return err
			}
			return run(ctx, env, f, pos)
		},
	}
}

// admClientCmd builds an admin command with only the shared flags that wants exactly nargs
// positional arguments (described by what): it checks them, connects, then calls run.
func admClientCmd(name, usage, summary, fsName string, nargs int, what string,
	run func(ctx context.Context, env *Env, f *admFlags, c *dpc.Client, args []string) error) *Command {
	return admCmd(name, usage, summary, func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
		return admNewFlags(fsName, true), func(ctx context.Context, env *Env, f *admFlags, args []string) error {
			if err := admNeedArgs(args, nargs, what); err != nil {
				return err
			}
			c, _, err := f.client(env)
			if err != nil {
				return err
			}
			return run(ctx, env, f, c, args)
		}
	})
}

// ---- keys ----

func keysGenerateCmd() *Command {
	return admCmd("generate", "dpcetl keys generate [--bits 4096] [--dir .] [--force]",
		"write a new RSA key pair: private.pem (mode 0600) and public.pem",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("keys generate", false)
			bits := f.fs.Int("bits", dpc.DefaultKeyBits, "RSA key size (DPC requires 4096)")
			dir := f.fs.String("dir", ".", "directory for private.pem and public.pem")
			force := f.fs.Bool("force", false, "replace existing files")
			return f, func(_ context.Context, env *Env, f *admFlags, args []string) error {
				if err := admNeedArgs(args, 0, "no arguments"); err != nil {
					return err
				}
				if *bits < 2048 && *bits != 1024 { // 1024 only for local test sandboxes
					return &UsageError{Msg: fmt.Sprintf("--bits %d: use 4096 (DPC's minimum) or at least 2048", *bits)}
				}
				k, err := dpc.GenerateKey(*bits)
				if err != nil {
					return err
				}
				priv, err := dpc.PrivateKeyPEM(k)
				if err != nil {
					return err
				}
				pub, err := dpc.PublicKeyPEM(&k.PublicKey)
				if err != nil {
					return err
				}
				privPath, pubPath := filepath.Join(*dir, "private.pem"), filepath.Join(*dir, "public.pem")
				if !*force {
					for _, p := range []string{privPath, pubPath} {
						if _, err := os.Stat(p); err == nil {
							return &UsageError{Msg: fmt.Sprintf("%s exists; remove it or pass --force", p)}
						}
					}
				}
				if err := admWriteSecretFile(privPath, priv, 0o600, *force); err != nil {
					return err
				}
				if err := admWriteSecretFile(pubPath, pub, 0o644, *force); err != nil {
					return err
				}
				out := map[string]any{"private_key": privPath, "public_key": pubPath, "bits": *bits}
				return f.emit(env, out, []string{"PRIVATE KEY", "PUBLIC KEY", "BITS"}, [][]string{{privPath, pubPath, fmt.Sprint(*bits)}})
			}
		})
}

func keysSignSnippetCmd() *Command {
	return admCmd("sign-snippet", "dpcetl keys sign-snippet [--private-key-file private.pem] [--snippet snippet.txt] [--sig-out snippet.txt.sig] [--out signature.txt]",
		"sign DPC's key-verification snippet (SHA256withRSA) and print the base64 signature to paste with the public key",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("keys sign-snippet", false)
			keyFile := f.fs.String("private-key-file", "private.pem", "PEM private key")
			snippet := f.fs.String("snippet", "", "file whose bytes to sign (default: DPC's snippet text, exactly)")
			sigOut := f.fs.String("sig-out", "", "also write the raw signature here (what openssl dgst -sign writes)")
			out := f.fs.String("out", "", "also write the base64 signature here")
			writeSnippet := f.fs.String("write-snippet", "", "write DPC's snippet text to this file (for checking with openssl)")
			return f, func(_ context.Context, env *Env, f *admFlags, args []string) error {
				if err := admNeedArgs(args, 0, "no arguments"); err != nil {
					return err
				}
				k, err := auth.LoadPrivateKeyFile(*keyFile)
				if err != nil {
					return admFileErr("private-key-file", err)
				}
				text := []byte(dpc.Snippet)
				if *snippet != "" {
					if text, err = os.ReadFile(*snippet); err != nil {
						return admFileErr("snippet", err)
					}
				}
				if *writeSnippet != "" {
					if err := os.WriteFile(*writeSnippet, []byte(dpc.Snippet), 0o644); err != nil {
						return err
					}
				}
				sig, err := dpc.SignSnippet(k, text)
				if err != nil {
					return err
				}
				b64 := base64.StdEncoding.EncodeToString(sig)
				if *sigOut != "" {
					if err := os.WriteFile(*sigOut, sig, 0o644); err != nil {
						return err
					}
				}
				if *out != "" {
					if err := os.WriteFile(*out, []byte(b64+"\n"), 0o644); err != nil {
						return err
					}
				}
				return admPrintValue(env, f, "signature", b64)
			}
		})
}

func keysUploadCmd() *Command {
	return admCmd("upload", "dpcetl keys upload [--public-key-file public.pem] [--signature-file signature.txt | --sign-key-file private.pem] [--label L] [--org-id ID]",
		"register a public key; with --org-id, through the sandbox portal (the first key, before any credentials exist)",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("keys upload", true)
			pubFile := f.fs.String("public-key-file", "public.pem", "PEM public key to register")
			sigFile := f.fs.String("signature-file", "", "base64 snippet signature (openssl dgst -sign … | openssl base64)")
			signKey := f.fs.String("sign-key-file", "", "private half of the key being uploaded: sign the snippet with it (portal default: --private-key-file)")
			label := f.fs.String("label", "dpcetl", "label for the key (at most 25 characters)")
			orgID := f.fs.String("org-id", "", "organization id: upload through the sandbox portal instead of the API")
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				if err := admNeedArgs(args, 0, "no arguments"); err != nil {
					return err
				}
				if len(*label) > 25 {
					return &UsageError{Msg: "--label: at most 25 characters"}
				}
				pub, err := os.ReadFile(*pubFile)
				if err != nil {
					return admFileErr("public-key-file", err)
				}
				up := dpc.KeyUpload{Key: string(pub)}
				switch {
				case *sigFile != "":
					b, err := os.ReadFile(*sigFile)
					if err != nil {
						return admFileErr("signature-file", err)
					}
					up.Signature = strings.Join(strings.Fields(string(b)), "") // openssl base64 wraps lines
				case *signKey != "" || *orgID != "":
					// Through the API the credentials' key authenticates and --sign-key-file is the
					// new key; through the portal there are no credentials yet, so --private-key-file
					// (or DPCETL_PRIVATE_KEY_FILE, or ./private.pem) is the key being registered.
					kf, flagName := *signKey, "sign-key-file"
					if kf == "" {
						kf, flagName = f.keyFile, "private-key-file"
						if kf == "" {
							kf = env.Getenv("DPCETL_PRIVATE_KEY_FILE")
						}
						if kf == "" {
							kf = "private.pem"
						}
					}
					k, err := auth.LoadPrivateKeyFile(kf)
					if err != nil {
						return admFileErr(flagName, err)
					}
					sig, err := dpc.SignSnippet(k, []byte(dpc.Snippet))
					if err != nil {
						return err
					}
					up.Signature = base64.StdEncoding.EncodeToString(sig)
				default:
					return &UsageError{Msg: "give --signature-file, or --sign-key-file (the private half of the key being uploaded) to sign the snippet"}
				}
				var key dpc.Key
				if *orgID != "" {
					base, err := f.baseURL(env)
					if err != nil {
						return err
					}
					key, err = dpc.NewPortal(base, admPlainClient()).UploadKey(ctx, *orgID, *label, up)
					if err != nil {
						return err
					}
				} else {
					c, _, err := f.client(env)
					if err != nil {
						return err
					}
					if key, err = c.UploadKey(ctx, *label, up); err != nil {
						return err
					}
				}
				return admEmitKeys(env, f, []dpc.Key{key}, true)
			}
		})
}

func admEmitKeys(env *Env, f *admFlags, keys []dpc.Key, one bool) error {
	if f.json() {
		if one {
			return admJSON(env.Stdout, keys[0])
		}
		return admJSON(env.Stdout, admNonNil(keys))
	}
	rows := make([][]string, len(keys))
	for i, k := range keys {
		rows[i] = []string{k.ID, k.Label, k.CreatedAt}
	}
	return admTable(env.Stdout, []string{"KEY ID", "LABEL", "CREATED"}, rows)
}

func keysListCmd() *Command {
	return admClientCmd("list", "dpcetl keys list", "list the organization's public keys", "keys list", 0, "no arguments",
		func(ctx context.Context, env *Env, f *admFlags, c *dpc.Client, _ []string) error {
			keys, err := c.Keys(ctx)
			if err != nil {
				return err
			}
			return admEmitKeys(env, f, keys, false)
		})
}

func keysGetCmd() *Command {
	return admClientCmd("get", "dpcetl keys get KEY_ID", "show one public key (with its PEM in --output json)", "keys get", 1, "one KEY_ID",
		func(ctx context.Context, env *Env, f *admFlags, c *dpc.Client, args []string) error {
			k, err := c.Key(ctx, args[0])
			if err != nil {
				return err
			}
			return admEmitKeys(env, f, []dpc.Key{k}, true)
		})
}

func keysDeleteCmd() *Command {
	return admClientCmd("delete", "dpcetl keys delete KEY_ID", "remove a public key", "keys delete", 1, "one KEY_ID",
		func(ctx context.Context, env *Env, f *admFlags, c *dpc.Client, args []string) error {
			if err := c.DeleteKey(ctx, args[0]); err != nil {
				return err
			}
			return f.emit(env, map[string]string{"deleted": args[0]}, []string{"DELETED KEY"}, [][]string{{args[0]}})
		})
}

// ---- client tokens ----

func tokensCreateCmd() *Command {
	return admCmd("create", "dpcetl tokens create [--label L] [--expiration 2027-01-01T00:00:00Z|90d] [--out client-token.txt] [--org-id ID]",
		"create a client token and write it to a mode-0600 file (never to the screen); with --org-id, through the sandbox portal",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("tokens create", true)
			label := f.fs.String("label", "", "label for the token")
			expiration := f.fs.String("expiration", "", "when it expires: ISO date-time, date, or a duration from now (e.g. 90d)")
			out := f.fs.String("out", "client-token.txt", "file to write the token to (mode 0600)")
			force := f.fs.Bool("force", false, "replace an existing --out file")
			orgID := f.fs.String("org-id", "", "organization id: create through the sandbox portal (the first token)")
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				if err := admNeedArgs(args, 0, "no arguments"); err != nil {
					return err
				}
				var exp time.Time
				if *expiration != "" {
					var err error
					if exp, err = admParseTime(*expiration, env.Now()); err != nil {
						return &UsageError{Msg: "--expiration: " + err.Error()}
					}
				}
				if !*force {
					if _, err := os.Stat(*out); err == nil {
						return &UsageError{Msg: fmt.Sprintf("%s exists; remove it, choose another --out or pass --force", *out)}
					}
				}
				var tok dpc.Token
				var err error
				if *orgID != "" {
					base, err := f.baseURL(env)
					if err != nil {
						return err
					}
					tok, err = dpc.NewPortal(base, admPlainClient()).CreateToken(ctx, *orgID, *label, exp)
					if err != nil {
						return err
					}
				} else {
					c, _, err := f.client(env)
					if err != nil {
						return err
					}
					if tok, err = c.CreateToken(ctx, *label, exp); err != nil {
						return err
					}
				}
				if tok.Token == "" {
					return fmt.Errorf("DPC created token %s but did not return its value", tok.ID)
				}
				env.Redactor.Add(tok.Token)
				if err = admWriteSecretFile(*out, []byte(tok.Token+"\n"), 0o600, *force); err != nil {
					return err
				}
				tok.Token = ""
				return admEmitTokens(env, f, []dpc.Token{tok}, true, *out)
			}
		})
}

func admEmitTokens(env *Env, f *admFlags, toks []dpc.Token, one bool, file string) error {
	if f.json() {
		if one {
			v := map[string]any{"id": toks[0].ID, "label": toks[0].Label, "createdAt": toks[0].CreatedAt, "expiresAt": toks[0].ExpiresAt}
			if file != "" {
				v["file"] = file
			}
			return admJSON(env.Stdout, v)
		}
		return admJSON(env.Stdout, admNonNil(toks))
	}
	header := []string{"TOKEN ID", "LABEL", "CREATED", "EXPIRES"}
	if file != "" {
		header = append(header, "WRITTEN TO")
	}
	rows := make([][]string, len(toks))
	for i, t := range toks {
		rows[i] = []string{t.ID, t.Label, t.CreatedAt, t.ExpiresAt}
		if file != "" {
			rows[i] = append(rows[i], file)
		}
	}
	return admTable(env.Stdout, header, rows)
}

func tokensListCmd() *Command {
	return admClientCmd("list", "dpcetl tokens list", "list client tokens (ids, labels, expiry; never the secrets)", "tokens list", 0, "no arguments",
		func(ctx context.Context, env *Env, f *admFlags, c *dpc.Client, _ []string) error {
			toks, err := c.Tokens(ctx)
			if err != nil {
				return err
			}
			for i := range toks {
				toks[i].Token = ""
			}
			return admEmitTokens(env, f, toks, false, "")
		})
}

func tokensDeleteCmd() *Command {
	return admClientCmd("delete", "dpcetl tokens delete TOKEN_ID", "revoke a client token", "tokens delete", 1, "one TOKEN_ID",
		func(ctx context.Context, env *Env, f *admFlags, c *dpc.Client, args []string) error {
			if err := c.DeleteToken(ctx, args[0]); err != nil {
				return err
			}
			return f.emit(env, map[string]string{"deleted": args[0]}, []string{"DELETED TOKEN"}, [][]string{{args[0]}})
		})
}

// ---- JWT and access tokens ----

func jwtCmd() *Command {
	return admCmd("jwt", "dpcetl jwt", "print a signed client-assertion JWT (what DPC's JWT tool makes; valid 5 minutes)",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("jwt", true)
			return f, func(_ context.Context, env *Env, f *admFlags, args []string) error {
				if err := admNeedArgs(args, 0, "no arguments"); err != nil {
					return err
				}
				creds, err := f.credentials(env)
				if err != nil {
					return err
				}
				jwt, err := auth.NewAssertion(creds, env.Now())
				if err != nil {
					return err
				}
				return admPrintValue(env, f, "jwt", jwt)
			}
		})
}

func tokenValidateCmd() *Command {
	return admCmd("validate", "dpcetl token validate [--jwt-file F | -]",
		"check a client-assertion JWT's claims with DPC (/Token/validate); default: a fresh one from your credentials",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("token validate", true)
			jwtFile := f.fs.String("jwt-file", "", "file holding the JWT to check (- for standard input)")
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				if err := admNeedArgs(args, 0, "no arguments"); err != nil {
					return err
				}
				var jwt string
				var base string
				switch *jwtFile {
				case "":
					creds, err := f.credentials(env)
					if err != nil {
						return err
					}
					if jwt, err = auth.NewAssertion(creds, env.Now()); err != nil {
						return err
					}
					base = creds.BaseURL
				default:
					var b []byte
					var err error
					if *jwtFile == "-" {
						b, err = readAllLimited(env.Stdin)
					} else {
						b, err = os.ReadFile(*jwtFile)
					}
					if err != nil {
						return admFileErr("jwt-file", err)
					}
					jwt = strings.TrimSpace(string(b))
					if base, err = f.baseURL(env); err != nil {
						return err
					}
				}
				env.Redactor.Add(jwt)
				if err := dpc.New(base, admPlainClient()).ValidateToken(ctx, jwt); err != nil {
					return err
				}
				return f.emit(env, map[string]bool{"valid": true}, []string{"VALID"}, [][]string{{"yes"}})
			}
		})
}

func tokenGetCmd() *Command {
	return admCmd("get", "dpcetl token get",
		"print an access token (lives 5 minutes) for scripts: the one command that prints a secret, on purpose",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("token get", true)
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				if err := admNeedArgs(args, 0, "no arguments"); err != nil {
					return err
				}
				_, ts, err := f.client(env)
				if err != nil {
					return err
				}
				tok, err := ts.Token(ctx)
				if err != nil {
					return err
				}
				env.Redactor.Add(tok) // stdout gets it; stderr and logs never do
				if f.json() {
					return admJSON(env.Stdout, map[string]any{"access_token": tok, "token_type": "bearer"})
				}
				_, err = fmt.Fprintln(env.Stdout, tok)
				return err
			}
		})
}

// ---- organization ----

func orgShowCmd() *Command {
	return admClientCmd("show", "dpcetl org show", "show the organization (its id goes into attestations)", "org show", 0, "no arguments",
		func(ctx context.Context, env *Env, f *admFlags, c *dpc.Client, _ []string) error {
			o, err := c.Organization(ctx)
			if err != nil {
				return err
			}
			return f.emit(env, o, []string{"ORGANIZATION ID", "NAME", "NPI"}, [][]string{{o.ID, o.Name, o.NPI()}})
		})
}

func orgCreateCmd() *Command {
	return admCmd("create", "dpcetl org create --name NAME [--npi NPI]",
		"create an organization in the sandbox portal (the real DPC does this when CMS approves your account)",
		func() (*admFlags, func(context.Context, *Env, *admFlags, []string) error) {
			f := admNewFlags("org create", true)
			name := f.fs.String("name", "", "organization name")
			npi := f.fs.String("npi", "", "organization NPI")
			return f, func(ctx context.Context, env *Env, f *admFlags, args []string) error {
				if err := admNeedArgs(args, 0, "no arguments"); err != nil {
					return err
				}
				if *name == "" {
					return &UsageError{Msg: "--name is required"}
				}
				if *npi != "" {
					if err := dpc.ValidateNPI(*npi); err != nil {
						return admUsage(fmt.Errorf("--npi: %w", err))
					}
				}
				base, err := f.baseURL(env)
				if err != nil {
					return err
				}
				o, err := dpc.NewPortal(base, admPlainClient()).CreateOrganization(ctx, *name, *npi)
				if err != nil {
					return err
				}
				return f.emit(env, o, []string{"ORGANIZATION ID", "NAME", "NPI"}, [][]string{{o.ID, o.Name, o.NPI}})
			}
		})
}

// admPrintValue prints one value: as {"key": value} with --output json, else alone on a line,
// so scripts can capture it with $(…).
func admPrintValue(env *Env, f *admFlags, key, value string) error {
	if f.json() {
		return admJSON(env.Stdout, map[string]string{key: value})
	}
	_, err := fmt.Fprintln(env.Stdout, value)
	return err
}
