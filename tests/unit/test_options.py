"""Options declared once: each command's defaults, isolation between commands, scenario files, durations."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from bench.declare import Option, declared_options
from bench.errors import UsageError
from bench.run.options import CAPACITY_ENV, COMPARE_CAPACITY_S, CompareOptions
from bench.scenario import render
from bench.topology import TopologyOptions
from bench.units import format_duration, parse_duration
from lbbench.docs import wanted
from lbbench.main import CLI, COMMANDS, main, parse_command
from lbbench.options import compare_options

# What a command needs besides its defaults to parse at all (its required arguments).
REQUIRED = {
    "sweep": ["rps", "--values", "100,200"],
    "report": ["some-run"],
    "history append": [".", "--to", "h.csv"],
    "history otava": ["README.md", "--out", "no-such-dir"],
    "baseline save": ["some-run", "--name", "x"],
    "image": ["build"],
}


def argv(command: str, *flags: str) -> list[str]:
    return [*command.split(), *REQUIRED.get(command, []), *flags]


def resolved(command: str, *flags: str) -> argparse.Namespace:
    return parse_command(argv(command, *flags))[1]


@pytest.fixture(autouse=True)
def no_capacity_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CAPACITY_ENV, raising=False)


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
def test_every_command_parsed_with_no_flags_gets_the_defaults_its_declarations_state(command: str) -> None:
    args = resolved(command)
    own = CLI.commands[command].defaults
    for declaration in CLI.taken_by(command):
        if declaration.required or declaration.name == "config":
            continue
        expected = declaration.default_for(own)
        assert getattr(args, declaration.dest) == expected, f"{command} {declaration.flag}"


# The documented defaults (README, docs/commands.md, --help), pinned by value.
PINNED: list[tuple[str, str, Any]] = [
    ("compare", "players", 1_000_000),
    ("compare", "seed", 42),
    ("compare", "duration", 60.0),
    ("compare", "rps", 500.0),
    ("compare", "users", None),  # derived: 20, or enough to hold a stall in a fault run
    ("compare", "strategies", ["naive", "cached"]),
    ("compare", "refresh_interval", 60.0),
    ("compare", "read_write_ratio", 1000),
    ("compare", "hot_write_share", 0.5),
    ("compare", "top_n", 100),
    ("compare", "sample_every", 100),
    ("compare", "read_extra_cpu_us", 0),
    ("compare", "timeout_ms", 1000.0),
    ("compare", "tls", False),
    ("compare", "tls_insecure", False),
    ("compare", "tls_cert", None),
    ("compare", "tls_key", None),
    ("compare", "tls_ca_cert", None),  # derived: the system's CAs; with --tls, the run's own
    ("compare", "remote_workers_wait", 60.0),
    ("compare", "capacity_s", None),  # derived: 15 s on owned servers, none on the user's
    ("compare", "key_prefix", "leaderboard"),
    ("compare", "naive_on_shard_error", "fail"),
    ("compare", "cached_fallback", "none"),
    ("compare", "refresher_on_shard_error", "keep"),
    ("sweep", "duration", 30.0),
    ("sweep", "capacity_s", 0.0),
    ("sweep", "strategies", None),  # derived from the swept parameter
    ("sweep", "players", 1_000_000),
    ("sweep", "repeats", 1),
    ("netcheck", "players", 50_000),
    ("netcheck", "duration", 20.0),
    ("netcheck", "rps", 200.0),
    ("netcheck", "users", 5),
    ("netcheck", "sample_every", 5),
    ("netcheck", "profiles", ("same-zone", "cross-zone")),
    ("seed", "players", 1_000_000),
    ("up", "players", 1_000_000),
    ("up", "refresh_interval", 60.0),
    ("top", "players", 1_000_000),
    ("top", "strategy", "naive"),
    ("top", "n", 100),
    ("refresh", "strategy", "cached"),
    ("capacity", "budget", 60.0),
    ("capacity", "top_n", 100),
    ("capacity", "players", 1_000_000),
    ("compare", "fail_if_invalid", False),
    ("gate", "unstable", "exit-3"),
    ("gate", "write", True),
    ("gate", "github", False),
    ("gate", "branch", None),  # derived: the newest row's branch of --history
    ("ab", "rounds", 8),
    ("ab", "order_seed", 0),
    ("ab", "invalid_reruns", 1),
]


@pytest.mark.parametrize(("command", "dest", "value"), PINNED)
def test_documented_defaults(command: str, dest: str, value: Any) -> None:
    assert getattr(resolved(command), dest) == value


def test_the_derived_defaults_work_out_as_documented() -> None:
    local = CompareOptions()
    assert (local.user_count, local.local_workers, local.capacity_probe_s) == (20, 1, COMPARE_CAPACITY_S)
    assert COMPARE_CAPACITY_S == 15.0
    external = CompareOptions(topology=TopologyOptions(shard_urls=("redis://a:1",), cache_url="redis://b:1"))
    assert external.capacity_probe_s == 0.0, "no probe on servers the harness does not own unless asked"
    assert dataclasses.replace(external, capacity_s=5.0).capacity_probe_s == 5.0
    assert CompareOptions(remote_workers=2).local_workers == 0
    assert CompareOptions(faults=("shard-stall",), rps=1000.0).user_count == 1200


def test_one_commands_defaults_never_reach_another() -> None:
    parser = CLI.build("lbbench", "")
    netcheck = CLI.resolve(parser.parse_args(["netcheck", "--players", "7"]))[1]
    assert (netcheck.players, netcheck.duration) == (7, 20.0)
    for command in ("compare", "sweep", "seed", "up", "top", "capacity"):
        assert CLI.resolve(parser.parse_args(argv(command)))[1].players == 1_000_000, command
    assert CLI.resolve(parser.parse_args(["compare"]))[1].duration == 60.0
    assert CLI.resolve(parser.parse_args(["top"]))[1].strategy == "naive"
    assert CLI.resolve(parser.parse_args(["netcheck"]))[1].players == 50_000


def test_each_command_takes_each_flag_once_and_states_only_its_own_defaults() -> None:
    for command in COMMANDS:
        names = [o.name for o in CLI.taken_by(command.name)]
        assert len(names) == len(set(names)), command.name
        assert set(command.defaults) <= set(names), command.name


FULL = [
    "--players",
    "1234",
    "--seed",
    "9",
    "--duration",
    "1m30s",
    "--rps",
    "0",
    "--users",
    "7",
    "--strategies",
    "cached,naive,blob",
    "--refresh-interval",
    "500ms",
    "--read-write-ratio",
    "0",
    "--hot-write-share",
    "0.25",
    "--top-n",
    "50",
    "--sample-every",
    "3",
    "--timeout-ms",
    "2s",
    "--capacity-s",
    "4.5",
    "--shards",
    "3",
    "--key-prefix",
    "lb2",
    "--fault",
    "shard-stall",
    "--fault",
    "cache-down:at=1s,for=2s",
    "--naive-on-shard-error",
    "partial",
    "--cached-fallback",
    "naive",
    "--keep-data",
]


def test_a_scenario_file_round_trip_gives_the_same_options(tmp_path: Path) -> None:
    original = compare_options(resolved("compare", *FULL))
    assert (original.duration_s, original.refresh_interval_s, original.topology.timeout_ms) == (
        90.0,
        0.5,
        2000.0,
    )
    assert (original.rps, original.read_write_ratio) == (None, None)
    path = tmp_path / "scenario.toml"
    path.write_text(render("compare", original.scenario_values()))
    again = compare_options(resolved("compare", "--config", str(path)))
    assert again == original
    assert again.as_json() == original.as_json()


def test_a_default_run_round_trips_with_its_derived_values_left_to_work_out(tmp_path: Path) -> None:
    original = compare_options(resolved("compare"))
    text = render("compare", original.scenario_values())
    assert "# users: not set (20; with --fault" in text
    assert "players = 1000000" in text
    assert 'duration = "60s"' in text
    assert "out" not in {line.split(" ")[0] for line in text.splitlines()}
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    assert compare_options(resolved("compare", "--config", str(path))) == original


def test_precedence_default_then_file_then_environment_then_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "run.toml"
    path.write_text('players = 5000\nduration = "2m"\ncapacity-s = 3\n')
    args = resolved("compare", "--config", str(path))
    assert (args.players, args.duration, args.capacity_s, args.rps) == (5000, 120.0, 3.0, 500.0)
    monkeypatch.setenv(CAPACITY_ENV, "0")
    assert resolved("compare", "--config", str(path)).capacity_s == 0.0
    args = resolved("compare", "--config", str(path), "--players", "10", "--capacity-s", "1s")
    assert (args.players, args.duration, args.capacity_s) == (10, 120.0, 1.0)
    # A repeatable flag on the command line replaces the file's list.
    path.write_text('fault = ["shard-stall", "shard-kill"]\n')
    assert resolved("compare", "--config", str(path)).fault == ("shard-stall", "shard-kill")
    assert resolved("compare", "--config", str(path), "--fault", "slow-shard").fault == ("slow-shard",)


def test_relative_paths_in_a_scenario_file_are_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "ci").mkdir()
    path = tmp_path / "ci" / "run.toml"
    path.write_text('out = "../runs/one"\n')
    assert resolved("compare", "--config", str(path)).out == tmp_path / "ci" / ".." / "runs" / "one"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("player = 5\n", "run.toml: unknown key 'player' (did you mean 'players'?)"),
        ("refresh_interval = 5\n", "unknown key 'refresh_interval': options go by their flag names"),
        ("budget = 5\n", "run.toml: budget is not an option of `lbbench compare` (it is for capacity)"),
        ("players = 0\n", "run.toml: players must be at least 1, got 0"),
        ('players = "many"\n', "run.toml: players: not an integer: 'many'"),
        ("players = true\n", "run.toml: players must be an integer, got True"),
        ('duration = "5 parsecs"\n', "run.toml: duration: not a time: '5 parsecs'"),
        ('provider = "cloud"\n', "run.toml: provider must be one of"),
        ("[settings]\nplayers = 5\n", "run.toml: unknown key 'settings'"),
        ("[players]\nn = 5\n", "run.toml: players must be a value, not a table"),
        ('strategies = ["naive", "bogus"]\n', "unknown strategy 'bogus'"),
        ('shard-url = ["redis://u:***@h:1"]\n', "has *** for a password"),
        ("players = \n", "run.toml is not valid TOML"),
    ],
)
def test_a_bad_scenario_file_is_one_line_naming_the_file_and_the_key(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "run.toml"
    path.write_text(content)
    with pytest.raises(UsageError) as caught:
        resolved("compare", "--config", str(path))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_sweep_runs_again_from_its_scenario_file_positional_argument_included(tmp_path: Path) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text('param = "refresh-interval"\nvalues = ["500ms", "1s"]\nduration = "10s"\n')
    _, args = parse_command(["sweep", "--config", str(path)])
    assert (args.param, args.values, args.duration) == ("refresh-interval", ("500ms", "1s"), 10.0)
    assert parse_command(["sweep", "rps", "--config", str(path)])[1].param == "rps"
    with pytest.raises(UsageError, match=r"^`lbbench sweep` needs PARAM$"):
        parse_command(["sweep", "--values", "1,2"])
    with pytest.raises(UsageError, match=r"^`lbbench sweep` needs --values$"):
        parse_command(["sweep", "rps"])


def test_gate_reads_its_own_table_and_the_others_skip_it(tmp_path: Path) -> None:
    path = tmp_path / "ci.toml"
    path.write_text('players = 50_000\n\n[gates]\nbaseline = "base.json"\ncheck = ["a.b == 1"]\n')
    assert resolved("compare", "--config", str(path)).players == 50_000
    gate = resolved("gate", "--config", str(path))
    assert (gate.baseline, gate.check) == (tmp_path / "base.json", ("a.b == 1",))
    path.write_text('[gates]\nchecks = ["a.b == 1"]\n')
    with pytest.raises(UsageError, match=r"ci.toml \[gates\]: unknown key 'checks' \(did you mean 'check'"):
        resolved("gate", "--config", str(path))


def test_scenario_files_never_hold_a_password() -> None:
    options = CompareOptions(
        topology=TopologyOptions(shard_urls=("redis://u:hunter2@h:1",), cache_url="redis://:hunter2@c:2")
    )
    text = render("compare", options.scenario_values())
    assert "hunter2" not in text
    assert 'shard-url = ["redis://u:***@h:1"]' in text
    assert "hunter2" not in str(options.as_json())


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        ("90", "s", 90.0),
        ("90s", "s", 90.0),
        ("1m30s", "s", 90.0),
        ("1h2m3.5s", "s", 3723.5),
        ("500ms", "s", 0.5),
        ("1_000", "s", 1000.0),
        (" 2 m ", "s", 120.0),
        ("250", "ms", 250.0),
        ("2s", "ms", 2000.0),
        ("1.5m", "ms", 90_000.0),
    ],
)
def test_durations_take_units_and_a_bare_number_keeps_its_unit(text: str, unit: str, value: float) -> None:
    assert parse_duration(text, unit) == value


@pytest.mark.parametrize("text", ["", "s", "5x", "1s1m", "1s1s", "-5s", "1m 30", "5 parsecs"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a time"):
        parse_duration(text)


def test_a_written_duration_reads_back_exactly() -> None:
    for value in (60.0, 0.5, 0.001, 1e-7, 123456.789):
        assert parse_duration(format_duration(value)) == value
    assert format_duration(60.0) == "60s"
    assert format_duration(250.0, "ms") == "250ms"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--players", "0"], "--players must be at least 1, got 0"),
        (["--players", "ten"], "--players: not an integer: 'ten'"),
        (["--duration", "0"], "--duration must be at least 1s, got 0s"),
        (["--duration", "soon"], "--duration: not a time: 'soon'"),
        (["--timeout-ms", "0"], "--timeout-ms must be positive, got 0ms"),
        (["--hot-write-share", "1.5"], "--hot-write-share must be between 0 and 1, got 1.5"),
        (["--provider", "cloud"], "--provider must be one of cluster, docker, external, external-cluster,"),
        (["--strategies", "naive,bogus"], "--strategies: unknown strategy 'bogus'"),
        (["--out", "/etc/hostname"], "--out names a file, not a directory: /etc/hostname"),
    ],
)
def test_a_bad_flag_value_is_one_line(flags: list[str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolved("compare", *flags)
    assert str(caught.value).startswith(message)


def test_an_out_that_is_a_file_is_refused_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "a-file"
    existing.write_text("mine\n")
    for command in ("compare", "sweep", "netcheck", "capacity"):
        assert main(argv(command, "--out", str(existing))) == 2
        err = capsys.readouterr().err
        assert err == f"lbbench: error: --out names a file, not a directory: {existing}\n"
    assert existing.read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_meta_options_hold_every_declared_field_by_its_name() -> None:
    options = compare_options(resolved("compare", "--fault", "shard-stall", "--rps", "100"))
    data = options.as_json()
    names = {f.name for f in dataclasses.fields(CompareOptions) if f.name != "topology"}
    names |= {f.name for f in dataclasses.fields(TopologyOptions) if f.name != "bind"}
    assert set(data) == names
    assert (data["users"], data["workers"], data["capacity_s"], data["shards"], data["provider"]) == (
        120,
        1,
        15.0,
        10,
        "local",
    )
    assert data["faults"][0]["kind"] == "stall"


def test_the_generated_docs_are_what_the_code_gives() -> None:
    for path, content in wanted().items():
        assert path.read_text() == content, f"{path} is stale: run `make docs`"


def test_every_declaration_documents_itself() -> None:
    everything: list[Option] = [*CLI.options, *declared_options(CompareOptions)]
    for declaration in everything:
        assert declaration.help, declaration.name
        assert declaration.commands, declaration.name
        assert declaration.kind.describe(), declaration.name
