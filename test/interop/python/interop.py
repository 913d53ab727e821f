"""Interop client for steeple-agent built on py-spiffe, unchanged.

Each subcommand runs one scenario against the Workload API at SPIFFE_ENDPOINT_SOCKET and prints
one JSON line; the exit code is 0 when the scenario held. Driven by test/interop/run.ts.
"""
import json
import queue
import sys
import time

import grpc
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store
from spiffe import JwtSvid, WorkloadApiClient, X509Source
from spiffe.workloadapi.workload_api_client import RetryPolicy


def emit(**fields):
    print(json.dumps(fields), flush=True)


def fail(message):
    emit(ok=False, error=message)
    sys.exit(1)


def verify_chain(svid, bundle_set):
    """Checks the SVID chain against the bundle of its own trust domain with cryptography's verifier."""
    bundle = bundle_set.get_bundle_for_trust_domain(svid.spiffe_id.trust_domain)
    if bundle is None:
        raise ValueError(f'no bundle for {svid.spiffe_id.trust_domain}')
    store = Store(list(bundle.x509_authorities))
    verifier = PolicyBuilder().store(store).build_client_verifier()
    verified = verifier.verify(svid.leaf, svid.cert_chain[1:])
    uris = [san.value for san in verified.subjects if isinstance(san, x509.UniformResourceIdentifier)]
    if uris != [str(svid.spiffe_id)]:
        raise ValueError(f'verified URI SANs {uris} are not {svid.spiffe_id}')


def x509_scenario(client, _args):
    context = client.fetch_x509_context(timeout=30)
    svid = context.default_svid
    verify_chain(svid, context.x509_bundle_set)
    emit(ok=True, id=str(svid.spiffe_id), hint=svid.hint if hasattr(svid, 'hint') else '',
         chain=len(svid.cert_chain), ids=[str(s.spiffe_id) for s in context.x509_svids])


def jwt_scenario(client, args):
    audience = args[0] if args else 'interop'
    svid = client.fetch_jwt_svid(audience={audience}, timeout=30)
    bundles = client.fetch_jwt_bundles(timeout=30)
    bundle = bundles.get_bundle_for_trust_domain(svid.spiffe_id.trust_domain)
    local = JwtSvid.parse_and_validate(svid.token, bundle, {audience})
    remote = client.validate_jwt_svid(svid.token, audience, timeout=30)
    try:
        client.validate_jwt_svid(svid.token, audience + '-other', timeout=30)
        fail('ValidateJWTSVID accepted a wrong audience')
    except Exception as err:  # py-spiffe wraps the gRPC error; INVALID_ARGUMENT is in its text
        if 'INVALID_ARGUMENT' not in str(err) and 'audience' not in str(err):
            fail(f'ValidateJWTSVID with a wrong audience failed oddly: {err}')
    emit(ok=True, id=str(svid.spiffe_id), local=str(local.spiffe_id), agent=str(remote.spiffe_id))


def watch_scenario(_client, args):
    wanted = int(args[0]) if args else 2
    source = X509Source(timeout_in_seconds=30)
    serials = set()
    deadline = time.time() + 60
    try:
        while len(serials) < wanted and time.time() < deadline:
            context = source.get_x509_context()
            svid = context.default_svid
            verify_chain(svid, context.x509_bundle_set)
            serials.add(svid.leaf.serial_number)
            time.sleep(0.2)
    finally:
        source.close()
    if len(serials) < wanted:
        fail(f'saw {len(serials)} distinct SVIDs, wanted {wanted}')
    emit(ok=True, distinct_svids=len(serials))


def stream(client):
    events = queue.Queue()
    policy = RetryPolicy(base_backoff_in_seconds=0.1, max_backoff=1)
    handler = client.stream_x509_contexts(lambda c: events.put(('update', c)), lambda e: events.put(('error', e)),
                                          retry_connect=True, retry_policy=policy)
    return events, handler


def denied_scenario(client, _args):
    events, handler = stream(client)
    denied = 0
    deadline = time.time() + 60
    try:
        while time.time() < deadline:
            kind, value = events.get(timeout=max(0.1, deadline - time.time()))
            if kind == 'error':
                if 'PERMISSION_DENIED' in str(value):
                    denied += 1
                    if denied == 1:
                        emit(event='denied')
            else:
                # py-spiffe retries PERMISSION_DENIED internally; the harness counts the refusals in the agent log.
                emit(ok=True, denied=denied, id=str(value.default_svid.spiffe_id))
                return
    finally:
        handler.cancel()
    fail(f'no SVID within 60 s (denied {denied} times)')


def restart_scenario(client, args):
    """Prints every update and error of one long watch until the timeout (seconds, default 60)."""
    events, handler = stream(client)
    deadline = time.time() + (float(args[0]) if args else 60)
    try:
        while time.time() < deadline:
            try:
                kind, value = events.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                break
            if kind == 'error':
                emit(event='error', error=str(value))
            else:
                emit(event='update', id=str(value.default_svid.spiffe_id), serial=str(value.default_svid.leaf.serial_number))
    finally:
        handler.cancel()
    emit(ok=True)


SCENARIOS = {'x509': x509_scenario, 'jwt': jwt_scenario, 'watch': watch_scenario,
             'denied': denied_scenario, 'restart': restart_scenario}

if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] not in SCENARIOS:
        fail(f'usage: interop.py <{"|".join(SCENARIOS)}> [args]')
    try:
        client = WorkloadApiClient()
        SCENARIOS[sys.argv[1]](client, sys.argv[2:])
    except grpc.RpcError as err:
        fail(f'{err.code()}: {err.details()}')
    except Exception as err:  # the scenario failed: say how
        fail(f'{type(err).__name__}: {err}')
    sys.exit(0)
