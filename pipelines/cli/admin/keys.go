package admin

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
)

func keysCommand(env *cmdkit.Env) *cobra.Command {
	return cmdkit.Group("keys", "manage the RSA key pair and the public keys registered with DPC",
		keysGenerate(env), keysSignSnippet(env), keysUpload(env),
		listCmd(env, "list the organization's public keys", (*dpc.Client).Keys, (*cmd).emitKeys),
		getCmd(env, "get KEY_ID", "show one public key (with its PEM in --output json)", (*dpc.Client).Key, (*cmd).emitKeys),
		deleteCmd(env, "delete KEY_ID", "remove a public key", "KEY", (*dpc.Client).DeleteKey),
	)
}

func (a *cmd) emitKeys(keys []dpc.Key, one bool) error {
	return emit(a, keys, one, []string{"KEY ID", "LABEL", "CREATED"}, func(k dpc.Key) []string { return []string{k.ID, k.Label, k.CreatedAt} })
}

func keysGenerate(env *cmdkit.Env) *cobra.Command {
	c := &cobra.Command{Use: "generate", Short: "write a new RSA key pair: private.pem (mode 0600) and public.pem",
		Example: "  dpcetl keys generate --dir ~/.dpc", Args: cmdkit.NoArgs}
	a := newCmd(env, c, false)
	bits := c.Flags().Int("bits", dpc.DefaultKeyBits, "RSA key size (DPC requires 4096)")
	dir := c.Flags().String("dir", ".", "directory for private.pem and public.pem")
	force := c.Flags().Bool("force", false, "replace existing files")
	c.RunE = func(*cobra.Command, []string) error {
		if *bits < 2048 && *bits != 1024 { // 1024 only for local test sandboxes
			return cmdkit.Usagef("--bits %d: use 4096 (DPC's minimum) or at least 2048", *bits)
		}
		privPath, pubPath := filepath.Join(*dir, "private.pem"), filepath.Join(*dir, "public.pem")
		if !*force {
			for _, p := range []string{privPath, pubPath} {
				if _, err := os.Stat(p); err == nil {
					return cmdkit.Usagef("%s exists; remove it or pass --force", p)
				}
			}
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
		if err := writeSecretFile(privPath, priv, 0o600, *force); err != nil {
			return err
		}
		if err := writeSecretFile(pubPath, pub, 0o644, *force); err != nil {
			return err
		}
		out := map[string]any{"private_key": privPath, "public_key": pubPath, "bits": *bits}
		return a.out.Emit(env.Stdout, out, []string{"PRIVATE KEY", "PUBLIC KEY", "BITS"}, [][]string{{privPath, pubPath, fmt.Sprint(*bits)}})
	}
	return c
}

func keysSignSnippet(env *cmdkit.Env) *cobra.Command {
	c := &cobra.Command{Use: "sign-snippet",
		Short:   "sign DPC's key-verification snippet (SHA256withRSA) and print the base64 signature to paste with the public key",
		Example: "  dpcetl keys sign-snippet --private-key-file private.pem --out signature.txt", Args: cmdkit.NoArgs}
	a := newCmd(env, c, false)
	keyFile := c.Flags().String("private-key-file", "private.pem", "PEM private key")
	snippet := c.Flags().String("snippet", "", "file whose bytes to sign (default: DPC's snippet text, exactly)")
	sigOut := c.Flags().String("sig-out", "", "also write the raw signature here (what openssl dgst -sign writes)")
	out := c.Flags().String("out", "", "also write the base64 signature here")
	writeSnippet := c.Flags().String("write-snippet", "", "write DPC's snippet text to this file (for checking with openssl)")
	c.RunE = func(*cobra.Command, []string) error {
		k, err := auth.LoadPrivateKeyFile(*keyFile)
		if err != nil {
			return fileErr("private-key-file", err)
		}
		text := []byte(dpc.Snippet)
		if *snippet != "" {
			if text, err = os.ReadFile(*snippet); err != nil {
				return fileErr("snippet", err)
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
		return a.out.Value(env.Stdout, "signature", b64)
	}
	return c
}

func keysUpload(env *cmdkit.Env) *cobra.Command {
	c := &cobra.Command{Use: "upload",
		Short: "register a public key; with --org-id, through the sandbox portal (the first key, before any credentials exist)",
		Example: "  dpcetl keys upload --org-id ORG --public-key-file public.pem --private-key-file private.pem\n" +
			"  dpcetl keys upload --public-key-file new.pem --sign-key-file new-private.pem --label rotated",
		Args: cmdkit.NoArgs}
	a := newCmd(env, c, true)
	pubFile := c.Flags().String("public-key-file", "public.pem", "PEM public key to register")
	sigFile := c.Flags().String("signature-file", "", "base64 snippet signature (openssl dgst -sign … | openssl base64)")
	signKey := c.Flags().String("sign-key-file", "", "private half of the key being uploaded: sign the snippet with it (portal default: --private-key-file)")
	label := c.Flags().String("label", "dpcetl", "label for the key (at most 25 characters)")
	orgID := c.Flags().String("org-id", "", "organization id: upload through the sandbox portal instead of the API")
	c.RunE = func(cc *cobra.Command, _ []string) error {
		ctx := cc.Context()
		if len(*label) > 25 {
			return cmdkit.Usagef("--label: at most 25 characters")
		}
		pub, err := os.ReadFile(*pubFile)
		if err != nil {
			return fileErr("public-key-file", err)
		}
		up := dpc.KeyUpload{Key: string(pub)}
		switch {
		case *sigFile != "":
			b, err := os.ReadFile(*sigFile)
			if err != nil {
				return fileErr("signature-file", err)
			}
			up.Signature = strings.Join(strings.Fields(string(b)), "") // openssl base64 wraps lines
		case *signKey != "" || *orgID != "":
			// Through the API the credentials' key authenticates and --sign-key-file is the new
			// key; through the portal there are no credentials yet, so --private-key-file (or
			// DPCETL_PRIVATE_KEY_FILE, or ./private.pem) is the key being registered.
			kf, flagName := *signKey, "sign-key-file"
			if kf == "" {
				cfg, err := a.conn.Load(env, configNoAPI())
				if err != nil {
					return err
				}
				kf, flagName = cfg.Credentials.PrivateKeyFile, "private-key-file"
				if kf == "" {
					kf = "private.pem"
				}
			}
			k, err := auth.LoadPrivateKeyFile(kf)
			if err != nil {
				return fileErr(flagName, err)
			}
			sig, err := dpc.SignSnippet(k, []byte(dpc.Snippet))
			if err != nil {
				return err
			}
			up.Signature = base64.StdEncoding.EncodeToString(sig)
		default:
			return cmdkit.Usagef("give --signature-file, or --sign-key-file (the private half of the key being uploaded) to sign the snippet")
		}
		key, err := viaPortal(a, *orgID, func(p *dpc.Portal) (dpc.Key, error) { return p.UploadKey(ctx, *orgID, *label, up) },
			func(c *dpc.Client) (dpc.Key, error) { return c.UploadKey(ctx, *label, up) })
		if err != nil {
			return err
		}
		return a.emitKeys([]dpc.Key{key}, true)
	}
	return c
}
