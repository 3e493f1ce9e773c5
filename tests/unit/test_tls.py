"""TLS without a server: URLs, connection arguments, the load config, redis-benchmark's flags, the CA."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from cryptography import x509
from redis.exceptions import NoPermissionError

from bench.errors import UsageError
from bench.probes.rbench import command_argv
from bench.topology import Topology, TopologyOptions, get_provider
from bench.topology.base import endpoints
from bench.topology.endpoint import Endpoint, check_url
from bench.topology.tlsca import make_certificates
from bench.wire.counting import ByteCounter, CountingSocket
from bench.wire.policy import ConnectionPolicy
from bench.wire.tls import TlsFiles
from lbbench import main as lbbench_main

TLS = TlsFiles(ca_cert="/etc/ca.pem", cert="/etc/me.pem", key="/etc/me.key")


def test_rediss_urls_are_accepted_and_carry_the_tls_files() -> None:
    assert check_url("rediss://user:pw@cache.example:6380/0") == "rediss://user:pw@cache.example:6380/0"
    endpoint = Endpoint("cache", "cache", "rediss://u:pw@h:6380", ConnectionPolicy(500, TLS))
    assert endpoint.tls
    kwargs = endpoint.connection_kwargs()
    assert "connection_class" not in kwargs  # ours counts bytes: bench.wire.counting
    assert (kwargs["ssl_ca_certs"], kwargs["ssl_certfile"], kwargs["ssl_keyfile"]) == (
        "/etc/ca.pem",
        "/etc/me.pem",
        "/etc/me.key",
    )
    assert (kwargs["ssl_cert_reqs"], kwargs["ssl_check_hostname"]) == ("required", True)
    assert (kwargs["username"], kwargs["password"]) == ("u", "pw")


def test_plain_urls_get_no_tls_arguments_and_insecure_checks_nothing() -> None:
    plain = Endpoint("shard-0", "shard", "redis://h:6379", ConnectionPolicy(500, TLS))
    assert not plain.tls
    assert not [key for key in plain.connection_kwargs() if key.startswith("ssl")]
    insecure = TlsFiles(insecure=True).redis_kwargs()
    assert (insecure["ssl_cert_reqs"], insecure["ssl_check_hostname"]) == ("none", False)


def test_workers_get_the_tls_file_paths_in_the_load_config() -> None:
    shards, cache = endpoints(["rediss://h:1"], "rediss://h:2", ConnectionPolicy(750, TLS))
    config = Topology("external", shards, cache, owns_data=False).to_load_config()
    assert config["tls"] == TLS.to_json()
    again = Topology.from_load_config(config)
    assert again.cache.policy == ConnectionPolicy(750, TLS)


def test_the_options_name_the_files_and_redis_benchmark_gets_the_same() -> None:
    options = TopologyOptions(tls_ca_cert=Path("/etc/ca.pem"), tls_insecure=True)
    assert options.policy.tls == TlsFiles(ca_cert="/etc/ca.pem", insecure=True)
    assert TLS.benchmark_args() == [
        "--tls",
        "--cacert",
        "/etc/ca.pem",
        "--cert",
        "/etc/me.pem",
        "--key",
        "/etc/me.key",
    ]
    endpoint = Endpoint("cache", "cache", "rediss://h:6380", ConnectionPolicy(500, TlsFiles(insecure=True)))
    argv = command_argv(("redis-benchmark",), endpoint, 1, 10, ["PING"])
    assert argv[argv.index("--csv") + 1 :] == ["--tls", "--insecure", "PING"]


def test_the_runs_ca_signs_a_certificate_python_accepts_for_127_0_0_1(tmp_path: Path) -> None:
    files = make_certificates(tmp_path)
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert files.key.stat().st_mode & 0o077 == 0  # the key is the owner's only
    # The CA file is what a client loads to check the servers; ssl refuses it if it is not a CA.
    context = ssl.create_default_context(cafile=str(files.ca_cert))
    assert len(context.get_ca_certs()) == 1


def test_tls_servers_are_the_spawning_providers_only() -> None:
    options = TopologyOptions(shard_urls=("redis://h:1",), cache_url="redis://h:2", tls=True)
    with pytest.raises(UsageError, match="--tls applies to --provider docker/local, not external"):
        get_provider(options)


@pytest.mark.usefixtures("keep_signal_handlers")  # main() installs the CLI's signal handlers
def test_a_refused_command_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Refused:
        def run(self, args: object) -> int:
            raise NoPermissionError("this user has no permissions to run the 'restore' command")

    monkeypatch.setattr(lbbench_main, "parse_command", lambda argv: (Refused(), None))
    assert lbbench_main.main(["seed"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "lbbench: error: a server refused a command: this user has no permissions to run the 'restore'"
        " command (the ACL each command needs: docs/tls.md)"
    ]


def test_a_read_into_the_whole_buffer_is_asked_for_without_a_zero_length() -> None:
    # gevent's TLS socket reads nothing for nbytes=0 (a plain socket reads the whole buffer): the
    # counting wrapper must not pass redis-py's default 0 on.
    class Recorder:
        def __init__(self) -> None:
            self.calls: list[tuple[object, ...]] = []

        def recv_into(self, buffer: bytearray, *args: object) -> int:
            self.calls.append(args)
            return 3

    raw, counter = Recorder(), ByteCounter()
    sock = CountingSocket(raw, counter)  # type: ignore[arg-type]  # a stand-in for a socket
    assert sock.recv_into(bytearray(8)) == 3
    assert sock.recv_into(bytearray(8), 5) == 3
    assert raw.calls == [(), (5, 0)]
    assert counter.bytes_received == 6
