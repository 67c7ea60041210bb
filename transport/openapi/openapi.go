package openapi

import (
	"embed"
	"io/fs"
)

// The document, 2-space indented JSON.
//
//go:embed openapi.json
var files embed.FS

// Name is the document's file name in FS.
const Name = "openapi.json"

// FS holds the document as Name.
func FS() fs.FS { return files }

// Document is the document's bytes.
func Document() []byte {
	b, err := files.ReadFile(Name)
	if err != nil {
		panic(err) // the embedded file is always there
	}
	return b
}
