// Command go-x509-check parses and verifies certificates with Go's crypto/x509, the parser every
// go-spiffe workload and SPIRE peer uses. Tests build it when a Go toolchain is on PATH.
//
// Usage: go-x509-check ROOTS.pem CHAIN.pem (leaf first, then intermediates)
// Prints one JSON object: the leaf's URI SANs, or the parse or verification error.
package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
)

type result struct {
	URIs  []string `json:"uris,omitempty"`
	Error string   `json:"error,omitempty"`
}

func parseFile(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return certs, nil
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, cert)
	}
}

func run() result {
	roots, err := parseFile(os.Args[1])
	if err != nil {
		return result{Error: err.Error()}
	}
	chain, err := parseFile(os.Args[2])
	if err != nil {
		return result{Error: err.Error()}
	}
	opts := x509.VerifyOptions{
		Roots:         x509.NewCertPool(),
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	for _, root := range roots {
		opts.Roots.AddCert(root)
	}
	for _, intermediate := range chain[1:] {
		opts.Intermediates.AddCert(intermediate)
	}
	if _, err := chain[0].Verify(opts); err != nil {
		return result{Error: err.Error()}
	}
	var uris []string
	for _, uri := range chain[0].URIs {
		uris = append(uris, uri.String())
	}
	return result{URIs: uris}
}

func main() {
	if len(os.Args) != 3 {
		os.Stderr.WriteString("usage: go-x509-check ROOTS.pem CHAIN.pem\n")
		os.Exit(2)
	}
	_ = json.NewEncoder(os.Stdout).Encode(run())
}
