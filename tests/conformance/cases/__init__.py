"""The cases of the conformance suite, one module per area. A case is a function (lab, name)
registered with @case; its docstring says what it checks and cites the RFC section, which every
failure message repeats."""

from dataclasses import dataclass


@dataclass
class Case:
    name: str
    area: str
    rfc: str
    function: object
    xfail: str | None


ALL_CASES = []


def case(area, rfc, xfail=None):
    """Registers a case of `area` checking `rfc`. `xfail` marks a known stack bug: the case must
    fail (it reports XFAIL with the reason) and a pass is reported as a failure (XPASS), so the
    mark goes once the stack is fixed."""

    def register(function):
        ALL_CASES.append(Case(function.__name__, area, rfc, function, xfail))
        return function

    return register


from . import acceptability, options, rst_syn_ack, sack, timestamps  # noqa: E402,F401

AREAS = sorted({c.area for c in ALL_CASES})
