package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
)

// mintToken is `parley token`: it prints a shopper identity token (PROTOCOL §1).
// Like serve, each flag not given is read from PARLEY_<NAME> (PARLEY_SUB,
// PARLEY_TTL, …), and the secret also from PARLEY_IDENTITY_SECRET.
func mintToken(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	secret := fs.String("secret", "", "the store's identity secret (or PARLEY_SECRET, PARLEY_IDENTITY_SECRET)")
	sub := fs.String("sub", "", "profile id")
	name := fs.String("name", "", "display name")
	email := fs.String("email", "", "e-mail address")
	ttl := fs.Duration("ttl", time.Hour, "lifetime")
	if err := parseWithEnv(fs, args, osEnv); err != nil {
		return err
	}
	if *secret == "" {
		*secret = osEnv("PARLEY_IDENTITY_SECRET")
	}
	if *secret == "" || *sub == "" {
		fmt.Fprintln(stderr, "parley token: --secret and --sub are required")
		return errUsage
	}
	tok, err := identity.Mint([]byte(*secret), engine.Visitor{ProfileID: *sub, Name: *name, Email: *email}, *ttl, time.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
