"""Options declared once (:mod:`bench.declare.option`), with the kinds of values they take
(:mod:`bench.declare.kinds`)."""

from bench.declare.kinds import (
    Choice,
    Csv,
    Duration,
    Flag,
    Integer,
    Kind,
    Number,
    PathArg,
    Text,
    ZeroIsNone,
)
from bench.declare.option import (
    RUNS,
    SEEDING,
    Derived,
    Option,
    declared,
    declared_options,
    flag_of,
    from_values,
    option,
    problems,
    sentence,
)

__all__ = [
    "RUNS",
    "SEEDING",
    "Choice",
    "Csv",
    "Derived",
    "Duration",
    "Flag",
    "Integer",
    "Kind",
    "Number",
    "Option",
    "PathArg",
    "Text",
    "ZeroIsNone",
    "declared",
    "declared_options",
    "flag_of",
    "from_values",
    "option",
    "problems",
    "sentence",
]
