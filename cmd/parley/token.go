package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
)

// mintToken is `parley token`: it prints a shopper identity token (PROTOCOL §1).
// Like serve, each flag not given is read from PARLEY_<NAME> (PARLEY_SUB,
// PARLEY_TTL, …), and the secret also from PARLEY_IDENTITY_SECRET, or from
// the data directory of a server that generated it (--data).
func mintToken(args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("token", flag.ContinueOnError)
	flags.SetOutput(stderr)
	secret := flags.String("secret", "", "the store's identity secret (or PARLEY_SECRET, PARLEY_IDENTITY_SECRET)")
	data := flags.String("data", "", "read the secret a server generated and keeps in this data directory")
	sub := flags.String("sub", "", "profile id: the store's id of the customer (required)")
	name := flags.String("name", "", "display name")
	email := flags.String("email", "", "e-mail address")
	ttl := flags.Duration("ttl", time.Hour, "lifetime")
	if err := parseWithEnv(flags, args, osEnv); err != nil {
		return err
	}
	if *secret == "" {
		*secret = osEnv("PARLEY_IDENTITY_SECRET")
	}
	if *secret == "" && *data != "" {
		kept, err := readSecretFile(*data, secretFile)
		if errors.Is(err, fs.ErrNotExist) || err == nil && kept == "" {
			return fmt.Errorf("no identity secret is kept in %s: the server there was given one (--identity-secret); pass it with --secret", *data)
		}
		if err != nil {
			return err
		}
		*secret = kept
	}
	var missing []string
	if *secret == "" {
		missing = append(missing, "--secret (or --data DIR, or PARLEY_IDENTITY_SECRET)")
	}
	if *sub == "" {
		missing = append(missing, "--sub")
	}
	if len(missing) > 0 {
		for _, m := range missing {
			fmt.Fprintf(stderr, "parley token: %s is required\n", m)
		}
		return errUsage
	}
	tok, err := identity.Mint([]byte(*secret), engine.Visitor{ProfileID: *sub, Name: *name, Email: *email}, *ttl, time.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
