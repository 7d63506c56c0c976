#!/usr/bin/env python3
"""tapstack's TCP conformance suite: scripted exchanges from the kernel's side of a TAP device
against the real `tapstack nc`, in the style of packetdrill. Each case sends crafted segments
(scapy) and checks exactly what the stack answers, or that it stays silent, citing the RFC section
it checks.

    conformance.py --tapstack build/release/tools/tapstack                 # every area
    conformance.py --tapstack ... --area rst_syn_ack                       # one area
    conformance.py --tapstack ... --case rst_exact_seq_resets              # cases by regex
    conformance.py --list

Exit status: 0 when every case passed (or failed as expected), 1 when one did not, 77 when the
lab cannot be built here (no root, no /dev/net/tun, no scapy), unless REQUIRE_TAP=1 is set: then
that is a failure (1), as for the project's other TAP tests.
"""

import argparse
import os
import re
import signal
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from cases import ALL_CASES, AREAS  # noqa: E402

SKIP_STATUS = 77


class Interrupted(BaseException):
    """SIGTERM, raised where the process is so that every `with` block cleans up."""


def _interrupt(signum, frame):
    raise Interrupted()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tapstack", help="the tapstack binary")
    parser.add_argument("--area", action="append", choices=sorted(AREAS),
                        help="run only this area (repeatable)")
    parser.add_argument("--case", help="run only cases whose name matches this regex")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--keep", metavar="DIR",
                        help="copy every case's pcap, events and output to DIR")
    args = parser.parse_args()

    selected = [c for c in ALL_CASES
                if (not args.area or c.area in args.area)
                and (not args.case or re.search(args.case, c.name))]
    if args.list:
        for c in selected:
            print(f"{c.area:14} {c.name:48} {c.rfc}" + (" (xfail)" if c.xfail else ""))
        return 0
    if not selected:
        print("conformance: no case matches", file=sys.stderr)
        return 1
    if not args.tapstack or not os.access(args.tapstack, os.X_OK):
        print(f"conformance: --tapstack {args.tapstack!r} is not an executable", file=sys.stderr)
        return 1

    require = os.environ.get("REQUIRE_TAP") == "1"
    # SIGTERM (ctest's timeout, a user's kill) unwinds like Ctrl-C, so the lab's cleanup runs and
    # the namespace and its stack process go.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        harness.preflight()
        label = args.area[0] if args.area and len(args.area) == 1 else "all"
        with harness.Lab(os.path.abspath(args.tapstack), label) as lab:
            return run_cases(lab, selected, args.keep)
    except (KeyboardInterrupt, Interrupted):
        print("conformance: interrupted (the namespace is removed)", file=sys.stderr)
        return 130
    except harness.Skip as skip:
        if require:
            print(f"conformance: FAILED (REQUIRE_TAP=1): {skip}", file=sys.stderr)
            return 1
        print(f"conformance: SKIPPED: {skip}")
        return SKIP_STATUS


def run_cases(lab, cases, keep):
    passed = failed = xfailed = 0
    start = time.monotonic()
    for c in cases:
        began = time.monotonic()
        error = None
        broken = False
        try:
            c.function(lab, c.name)
        except harness.CaseFailure as failure:
            error = str(failure)
        except Exception:  # a broken case or lab is a failure, never an expected one
            error = f"{c.rfc}: error in the case itself:\n{traceback.format_exc()}"
            broken = True
        took = time.monotonic() - began
        if keep:
            save_artifacts(lab, c.name, keep)
        if c.xfail and not broken:
            if error:
                xfailed += 1
                print(f"XFAIL {c.name} ({took:.2f} s): known stack bug: {c.xfail}\n"
                      f"      observed: {error}")
            else:
                failed += 1
                print(f"XPASS {c.name} ({took:.2f} s): passes although marked as a known bug "
                      f"({c.xfail}); remove the mark")
        elif error:
            failed += 1
            print(f"FAIL  {c.name} ({took:.2f} s)\n      {error}")
        else:
            passed += 1
            print(f"PASS  {c.name} ({took:.2f} s) [{c.rfc}]")
        sys.stdout.flush()
    print(f"conformance: {passed} passed, {failed} failed, {xfailed} expected failures "
          f"in {time.monotonic() - start:.1f} s")
    return 1 if failed else 0


def save_artifacts(lab, name, keep):
    import shutil

    os.makedirs(keep, exist_ok=True)
    for entry in os.listdir(lab.workdir):
        if entry.startswith(name + "."):
            shutil.copy(os.path.join(lab.workdir, entry), keep)


if __name__ == "__main__":
    sys.exit(main())
