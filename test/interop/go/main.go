// Interop client for steeple-agent built on go-spiffe v2, unchanged. Each subcommand runs one
// scenario against the Workload API at SPIFFE_ENDPOINT_SOCKET and prints one JSON line; the exit
// code is 0 when the scenario held. Driven by test/interop/run.ts.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: interop <x509|jwt|watch|mtls|denied|restart> [flags]")
	}
	cmd, args := os.Args[1], os.Args[2:]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	audience := fs.String("audience", "interop", "JWT audience")
	timeout := fs.Duration("timeout", 60*time.Second, "how long the scenario may take")
	rotations := fs.Int("rotations", 2, "distinct SVIDs to see (watch)")
	duration := fs.Duration("duration", 20*time.Second, "how long to keep talking (mtls)")
	serverHint := fs.String("server-hint", "mtls-server", "hint of the server's SVID (mtls)")
	clientHint := fs.String("client-hint", "mtls-client", "hint of the client's SVID (mtls)")
	_ = fs.Parse(args)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var err error
	switch cmd {
	case "x509":
		err = fetchX509(ctx)
	case "jwt":
		err = fetchJWT(ctx, *audience)
	case "watch":
		err = watch(ctx, *rotations)
	case "mtls":
		err = mtls(ctx, *duration, *serverHint, *clientHint)
	case "denied":
		err = denied(ctx)
	case "restart":
		err = restart(ctx)
	default:
		err = fmt.Errorf("unknown scenario %q", cmd)
	}
	if err != nil {
		fail(err.Error())
	}
}

func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func fail(msg string) {
	emit(map[string]any{"ok": false, "error": msg})
	os.Exit(1)
}

// Scenario 1: FetchX509Context; go-spiffe's own chain validation accepts the default SVID.
func fetchX509(ctx context.Context) error {
	x509ctx, err := workloadapi.FetchX509Context(ctx)
	if err != nil {
		return err
	}
	svid := x509ctx.DefaultSVID()
	if _, _, err := x509svid.Verify(svid.Certificates, x509ctx.Bundles); err != nil {
		return fmt.Errorf("x509svid.Verify: %w", err)
	}
	tds := []string{}
	for _, b := range x509ctx.Bundles.Bundles() {
		tds = append(tds, b.TrustDomain().String())
	}
	ids := []string{}
	for _, s := range x509ctx.SVIDs {
		ids = append(ids, s.ID.String())
	}
	emit(map[string]any{"ok": true, "id": svid.ID.String(), "hint": svid.Hint, "chain": len(svid.Certificates), "ids": ids, "bundles": tds})
	return nil
}

// Scenario 2: a JWT-SVID validated with go-spiffe's JWT bundles and by the agent's ValidateJWTSVID.
func fetchJWT(ctx context.Context, audience string) error {
	client, err := workloadapi.New(ctx)
	if err != nil {
		return err
	}
	defer client.Close()
	svid, err := client.FetchJWTSVID(ctx, jwtsvid.Params{Audience: audience})
	if err != nil {
		return err
	}
	bundles, err := client.FetchJWTBundles(ctx)
	if err != nil {
		return err
	}
	local, err := jwtsvid.ParseAndValidate(svid.Marshal(), bundles, []string{audience})
	if err != nil {
		return fmt.Errorf("jwtsvid.ParseAndValidate: %w", err)
	}
	remote, err := client.ValidateJWTSVID(ctx, svid.Marshal(), audience)
	if err != nil {
		return fmt.Errorf("ValidateJWTSVID: %w", err)
	}
	if _, err := client.ValidateJWTSVID(ctx, svid.Marshal(), audience+"-other"); status.Code(err) != codes.InvalidArgument {
		return fmt.Errorf("ValidateJWTSVID with a wrong audience: want InvalidArgument, got %v", err)
	}
	emit(map[string]any{"ok": true, "id": svid.ID.String(), "local": local.ID.String(), "agent": remote.ID.String(), "token": svid.Marshal()})
	return nil
}

// Scenario 3: an X509Source sees rotations; every new SVID verifies against the source's bundles.
func watch(ctx context.Context, rotations int) error {
	source, err := workloadapi.NewX509Source(ctx)
	if err != nil {
		return err
	}
	defer source.Close()
	serials := map[string]bool{}
	for len(serials) < rotations {
		svid, err := source.GetX509SVID()
		if err != nil {
			return err
		}
		if _, _, err := x509svid.Verify(svid.Certificates, source); err != nil {
			return fmt.Errorf("x509svid.Verify after rotation: %w", err)
		}
		serials[svid.Certificates[0].SerialNumber.String()] = true
		if len(serials) >= rotations {
			break
		}
		select {
		case <-source.Updated():
		case <-ctx.Done():
			return fmt.Errorf("saw %d distinct SVIDs, wanted %d: %w", len(serials), rotations, ctx.Err())
		}
	}
	emit(map[string]any{"ok": true, "distinct_svids": len(serials)})
	return nil
}

func pickHint(hint string) workloadapi.X509SourceOption {
	return workloadapi.WithDefaultX509SVIDPicker(func(svids []*x509svid.SVID) *x509svid.SVID {
		for _, s := range svids {
			if s.Hint == hint {
				return s
			}
		}
		return svids[0]
	})
}

// Scenario 4: mTLS between two X509Sources (tlsconfig.AuthorizeID on both sides), across rotations.
func mtls(ctx context.Context, duration time.Duration, serverHint, clientHint string) error {
	serverSource, err := workloadapi.NewX509Source(ctx, pickHint(serverHint))
	if err != nil {
		return err
	}
	defer serverSource.Close()
	clientSource, err := workloadapi.NewX509Source(ctx, pickHint(clientHint))
	if err != nil {
		return err
	}
	defer clientSource.Close()
	serverSVID, _ := serverSource.GetX509SVID()
	clientSVID, _ := clientSource.GetX509SVID()
	if serverSVID.ID == clientSVID.ID {
		return errors.New("server and client got the same SPIFFE ID: hints not honoured")
	}
	listener, err := tls.Listen("tcp", "127.0.0.1:0", tlsconfig.MTLSServerConfig(serverSource, serverSource, tlsconfig.AuthorizeID(clientSVID.ID)))
	if err != nil {
		return err
	}
	defer listener.Close()
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				tlsConn := conn.(*tls.Conn)
				if err := tlsConn.Handshake(); err != nil {
					return
				}
				peer := tlsConn.ConnectionState().PeerCertificates[0]
				fmt.Fprintf(conn, "%s\n", peer.SerialNumber.String())
			}()
		}
	}()
	clientConfig := tlsconfig.MTLSClientConfig(clientSource, clientSource, tlsconfig.AuthorizeID(serverSVID.ID))
	deadline := time.Now().Add(duration)
	exchanges, serverSerials, clientSerials := 0, map[string]bool{}, map[string]bool{}
	for time.Now().Before(deadline) {
		conn, err := tls.Dial("tcp", listener.Addr().String(), clientConfig)
		if err != nil {
			return fmt.Errorf("exchange %d: %w", exchanges+1, err)
		}
		line, err := io.ReadAll(conn)
		conn.Close()
		if err != nil || len(line) == 0 {
			return fmt.Errorf("exchange %d: no answer: %v", exchanges+1, err)
		}
		serverSerials[conn.ConnectionState().PeerCertificates[0].SerialNumber.String()] = true
		clientSerials[string(line[:len(line)-1])] = true
		exchanges++
		time.Sleep(500 * time.Millisecond)
	}
	if len(serverSerials) < 2 || len(clientSerials) < 2 {
		return fmt.Errorf("no rotation seen in %s: %d server and %d client SVIDs", duration, len(serverSerials), len(clientSerials))
	}
	emit(map[string]any{"ok": true, "exchanges": exchanges, "server_svids": len(serverSerials), "client_svids": len(clientSerials)})
	return nil
}

// contextWatcher records what a WatchX509Context sees.
type contextWatcher struct {
	updates chan *workloadapi.X509Context
	errs    chan error
}

func (w contextWatcher) OnX509ContextUpdate(c *workloadapi.X509Context) { w.updates <- c }
func (w contextWatcher) OnX509ContextWatchError(err error)              { w.errs <- err }

func startWatch(ctx context.Context) (contextWatcher, <-chan error) {
	w := contextWatcher{updates: make(chan *workloadapi.X509Context, 64), errs: make(chan error, 64)}
	done := make(chan error, 1)
	go func() {
		client, err := workloadapi.New(ctx)
		if err != nil {
			done <- err
			return
		}
		defer client.Close()
		done <- client.WatchX509Context(ctx, w)
	}()
	return w, done
}

// Scenario 5a: an unregistered caller sees PERMISSION_DENIED and keeps retrying; it gets its SVID
// once an entry for it appears (the harness creates one after "denied" is printed).
func denied(ctx context.Context) error {
	w, done := startWatch(ctx)
	deniedSeen := 0
	for {
		select {
		case err := <-w.errs:
			if status.Code(err) == codes.PermissionDenied {
				deniedSeen++
				if deniedSeen == 1 {
					emit(map[string]any{"event": "denied"})
				}
			}
		case c := <-w.updates:
			if deniedSeen == 0 {
				return errors.New("got an SVID without being refused first")
			}
			emit(map[string]any{"ok": true, "denied": deniedSeen, "id": c.DefaultSVID().ID.String()})
			return nil
		case err := <-done:
			return fmt.Errorf("watch ended: %v (denied %d times)", err, deniedSeen)
		}
	}
}

// Scenario 5b: prints every update and error of one long watch, until the timeout; the harness
// restarts the agent meanwhile and checks that updates come again afterwards (they can only come
// from a new connection to the new agent process).
func restart(ctx context.Context) error {
	w, done := startWatch(ctx)
	for {
		select {
		case err := <-w.errs:
			emit(map[string]any{"event": "error", "error": err.Error()})
		case c := <-w.updates:
			emit(map[string]any{"event": "update", "id": c.DefaultSVID().ID.String(), "serial": c.DefaultSVID().Certificates[0].SerialNumber.String()})
		case <-ctx.Done():
			emit(map[string]any{"ok": true})
			return nil
		case err := <-done:
			return fmt.Errorf("watch ended: %v", err)
		}
	}
}
