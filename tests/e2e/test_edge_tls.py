"""TLS at the edge (deploy/tls/compose.tls.yml) with the certificates `make certs` makes: the
handshake (protocol, the chain verified against the local CA, HTTP/2 by ALPN), what is refused
(old protocols, ciphers outside Mozilla's intermediate list, an untrusted chain), the redirect
from plain HTTP and the HSTS header.

A second nginx, the TLS overlay's, joins the session's stack (`compose run` in its project:
its networks, its API replica) on ports of its own, so TLS costs one container and a second,
not a stack. The file's name puts it before test_stack.py, which ends with `down`.
"""

import json
import socket
import ssl
import subprocess

import httpx
import pytest
import requests

from testkit.net import free_port, wait_until
from tests.e2e.compose import REPO, Stack

pytestmark = pytest.mark.docker

TLS_OVERLAY = REPO / "deploy/tls/compose.tls.yml"
HSTS = "max-age=63072000"  # NGINX_HSTS_MAX_AGE's default: two years
# Mozilla's intermediate TLS 1.2 ciphers that an ECDSA certificate (make certs) can use.
INTERMEDIATE_ECDSA = {
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
}


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """What `make certs` makes (scripts/make-certs), in a directory of the test's own."""
    directory = tmp_path_factory.mktemp("certs")
    subprocess.run([str(REPO / "scripts/make-certs"), str(directory)], check=True, timeout=60)
    return directory


@pytest.fixture(scope="module")
def tls_edge(stack, certs):
    """nginx with TLS on, in the session stack's project, in front of its API."""
    edge = Stack(
        stack.project,
        {
            "NGINX_TLS_PORT": str(free_port()),
            "TLS_CERT_FILE": str(certs / "server.crt"),
            "TLS_KEY_FILE": str(certs / "server.key"),
        },
        overlays=[TLS_OVERLAY],
    )
    name = f"{stack.project}-nginx-tls"
    run = ["run", "-d", "--no-deps", "--service-ports", "--name", name, "nginx"]
    try:
        edge.compose(*run)
        wait_until(lambda: tls_answers(edge, certs), 30, "nginx with TLS")
        yield edge
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60)


def tls_port(edge) -> int:
    return int(edge.env["NGINX_TLS_PORT"])


def tls_answers(edge, certs) -> bool:
    try:
        with handshake(edge, client_context(certs)):
            return True
    except OSError:
        return False


def client_context(certs, **versions) -> ssl.SSLContext:
    """A client that trusts the local CA only, and checks the host name."""
    context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    for name, version in versions.items():
        setattr(context, name, version)
    return context


def handshake(edge, context: ssl.SSLContext, server_name: str = "localhost") -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", tls_port(edge)), timeout=5)
    try:
        return context.wrap_socket(raw, server_hostname=server_name)
    except BaseException:
        raw.close()
        raise


def test_handshake_is_tls13_with_http2_and_the_chain_of_the_local_ca(tls_edge, certs):
    context = client_context(certs)
    context.set_alpn_protocols(["h2", "http/1.1"])
    for name in ("localhost", "127.0.0.1"):  # both are in the certificate's subjectAltName
        with handshake(tls_edge, context, name) as connection:
            assert connection.version() == "TLSv1.3"
            assert connection.selected_alpn_protocol() == "h2"
            assert {"commonName": "localhost"} in [
                dict(entry) for entry in connection.getpeercert()["subject"]
            ]


def test_tls12_gets_a_forward_secret_aead_cipher_of_mozillas_list(tls_edge, certs):
    context = client_context(certs, maximum_version=ssl.TLSVersion.TLSv1_2)
    with handshake(tls_edge, context) as connection:
        assert connection.version() == "TLSv1.2"
        assert connection.cipher()[0] in INTERMEDIATE_ECDSA


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_old_protocols_and_weak_ciphers_are_refused_by_the_server(tls_edge, certs):
    # The client offers them (security level 0 lets this OpenSSL do so); the server's alert
    # says no, which a client unable to offer them would not get.
    for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        context = client_context(certs, minimum_version=version, maximum_version=version)
        context.set_ciphers("ALL:@SECLEVEL=0")
        with pytest.raises(ssl.SSLError) as refused:
            handshake(tls_edge, context)
        assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION", version
    context = client_context(certs, maximum_version=ssl.TLSVersion.TLSv1_2)
    context.set_ciphers("ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA")  # CBC, not AEAD
    with pytest.raises(ssl.SSLError) as refused:
        handshake(tls_edge, context)
    assert refused.value.reason == "SSLV3_ALERT_HANDSHAKE_FAILURE"


def test_a_client_that_does_not_trust_the_local_ca_refuses_the_chain(tls_edge):
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(tls_edge, ssl.create_default_context())  # the system's CAs only


def test_http2_request_gets_the_api_and_hsts(tls_edge, certs):
    url = f"https://localhost:{tls_port(tls_edge)}"
    with httpx.Client(http2=True, verify=client_context(certs), timeout=10) as client:
        answer = client.get(url + "/json")
    assert (answer.http_version, answer.status_code) == ("HTTP/2", 200)
    assert answer.json() == {"message": "Hello, World!"}
    assert answer.headers["Strict-Transport-Security"] == HSTS


def test_nginx_problem_pages_over_http2_carry_hsts(tls_edge, certs):
    # curl, not httpx: a body over the stream's flow-control window (64 KiB, as the limit)
    # makes httpx wait for a window nginx never opens, as it has answered 413 already.
    curl = ["curl", "-sS", "-i", "--http2", "--cacert", str(certs / "ca.crt")]
    url = f"https://localhost:{tls_port(tls_edge)}/api/items"
    result = subprocess.run(
        [*curl, "--data-binary", "@-", url],
        input=b"x" * 70_000,
        capture_output=True,
        timeout=30,
        check=True,
    )
    head, body = result.stdout.decode().split("\r\n\r\n", 1)
    status, *fields = head.splitlines()
    headers = dict(field.lower().split(": ", 1) for field in fields)
    assert status.split()[:2] == ["HTTP/2", "413"]  # nginx's own answer, over HTTP/2
    assert headers["content-type"] == "application/problem+json"
    assert headers["strict-transport-security"] == HSTS
    assert json.loads(body)["request_id"] == headers["x-request-id"]


def test_plain_http_is_redirected_to_https_without_hsts(tls_edge):
    for method in ("GET", "POST"):
        answer = requests.request(
            method, tls_edge.url("/api/items?limit=1"), allow_redirects=False, timeout=10
        )
        assert answer.status_code == 308  # the method and body are kept
        location = f"https://127.0.0.1:{tls_port(tls_edge)}/api/items?limit=1"
        assert answer.headers["Location"] == location
        assert "Strict-Transport-Security" not in answer.headers  # ignored over HTTP anyway
