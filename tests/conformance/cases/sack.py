"""SACK blocks in the stack's ACKs (RFC 2018) and D-SACK (RFC 2883).

- RFC 2018 4: out-of-order data is acknowledged at once (RFC 5681 4.2 too); the first block is the
  contiguous range holding the segment that triggered the ACK, the others repeat the most recently
  reported ranges; as many blocks as fit (4 alone, 3 beside timestamps, RFC 2018 3); once the hole
  is filled the ACK carries no block.
- RFC 2883 4: a segment repeating data already received is reported in a first, D-SACK block:
  below the cumulative ACK (4.1.1), or inside a range held out of order, followed by that range
  (4.1.2).

Sequence numbers in the messages are absolute; the cases speak of offsets from RCV.NXT.
"""

import contextlib

from harness import SynOptions, check, passive, seq_add

from . import case


@contextlib.contextmanager
def _sack_connection(lab, name, timestamps=False):
    with passive(lab, name, syn=SynOptions(sack_permitted=True, timestamps=timestamps)) as conn:
        check(conn.sack, "RFC 2018 2", f"SACK not agreed: {conn.stack_syn}")
        yield conn


def _send_range(conn, base, begin, end, rfc, what):
    """Sends bytes [base+begin, base+end) and returns the stack's immediate ACK of them."""
    conn.send_data(b"s" * (end - begin), seq=seq_add(base, begin), advance=False)
    return conn.expect(rfc, f"an immediate ACK of {what}")


def _blocks(base, *ranges):
    return [(seq_add(base, b), seq_add(base, e)) for b, e in ranges]


def _expect_blocks(conn, rfc, sent, want, why):
    """Sends each range of `sent` ([begin, end) offsets from RCV.NXT) in order, each answered at
    once, and checks that the last answer carries exactly the blocks `want`."""
    base = conn.snd_nxt
    for begin, end in sent:
        ack = _send_range(conn, base, begin, end, rfc, f"RCV.NXT+{begin}..{end}")
    check(ack.ack == base, rfc, f"ACK {ack.ack}, want RCV.NXT {base}: {ack}")
    blocks = _blocks(base, *want)
    check(ack.sack_blocks == blocks, rfc, f"want blocks {blocks} ({why}): {ack}")


@case("sack", "RFC 2018 4")
def out_of_order_data_gets_exact_block(lab, name):
    """RFC 2018 4 (and RFC 5681 4.2): 100 bytes at RCV.NXT+100 are acknowledged at once with
    ACK = RCV.NXT and the one block [RCV.NXT+100, RCV.NXT+200)."""
    with _sack_connection(lab, name) as conn:
        _expect_blocks(conn, "RFC 2018 4", [(100, 200)], [(100, 200)], "the exact block")


@case("sack", "RFC 2018 4")
def blocks_most_recent_first(lab, name):
    """RFC 2018 4: with three ranges held, the first block holds the segment just received and
    the others follow most recently reported first; a segment that grows the middle range puts
    that range first."""
    with _sack_connection(lab, name) as conn:
        held = [(100, 200), (300, 400), (500, 600)]
        _expect_blocks(conn, "RFC 2018 4", held, [(500, 600), (300, 400), (100, 200)],
                       "newest first")
        _expect_blocks(conn, "RFC 2018 4", [(400, 450)], [(300, 450), (500, 600), (100, 200)],
                       "the grown range first, then the most recent")


@case("sack", "RFC 2018 3, 4")
def at_most_four_blocks(lab, name):
    """RFC 2018 3, 4: five ranges held, no timestamps: the ACK carries the four most recent
    (40 bytes of options hold 4 blocks)."""
    with _sack_connection(lab, name) as conn:
        held = [(100, 200), (300, 400), (500, 600), (700, 800), (900, 1000)]
        _expect_blocks(conn, "RFC 2018 3", held, [(900, 1000), (700, 800), (500, 600),
                                                  (300, 400)], "the 4 most recent")


@case("sack", "RFC 2018 3, RFC 7323 3.2")
def three_blocks_beside_timestamps(lab, name):
    """RFC 2018 3: with timestamps agreed (10 bytes of the 40), an ACK has room for 3 blocks:
    four ranges held give the three most recent, beside the timestamps option."""
    with _sack_connection(lab, name, timestamps=True) as conn:
        held = [(100, 200), (300, 400), (500, 600), (700, 800)]
        _expect_blocks(conn, "RFC 2018 3", held, [(700, 800), (500, 600), (300, 400)],
                       "the 3 most recent beside timestamps")
        check(conn.last_from_stack.timestamps is not None, "RFC 7323 3.2",
              f"no timestamps beside the blocks: {conn.last_from_stack}")


@case("sack", "RFC 2018 4")
def no_block_once_hole_filled(lab, name):
    """RFC 2018 4 (and RFC 5681 4.2): filling the hole is acknowledged at once up to the end of
    the held range, without a SACK option; the application reads the 200 bytes in order."""
    rfc = "RFC 2018 4"
    with _sack_connection(lab, name) as conn:
        base = conn.snd_nxt
        _send_range(conn, base, 100, 200, rfc, "RCV.NXT+100..200")
        conn.send_data(b"f" * 100)
        ack = conn.expect(rfc, "an immediate ACK of the filled hole")
        check(ack.ack == seq_add(base, 200) and not ack.sack_blocks, rfc,
              f"want ACK {seq_add(base, 200)} without blocks: {ack}")
        conn.finish(rfc, delivered=b"f" * 100 + b"s" * 100)


@case("sack", "RFC 2883 4.1.1")
def dsack_below_cumulative_ack(lab, name):
    """RFC 2883 4.1.1: 10 bytes already acknowledged arrive again: an immediate ACK whose only
    block is the D-SACK block for them, below ACK."""
    rfc = "RFC 2883 4.1.1"
    with _sack_connection(lab, name) as conn:
        base = conn.snd_nxt
        conn.send_data(b"0123456789")
        conn.expect(rfc, "the ACK of 10 bytes")
        conn.send_data(b"0123456789", seq=base, advance=False)
        ack = conn.expect(rfc, "an ACK of the repeated 10 bytes")
        check(ack.ack == seq_add(base, 10), rfc, f"ACK moved: {ack}")
        check(ack.sack_blocks == _blocks(base, (0, 10)), rfc,
              f"want the D-SACK block {_blocks(base, (0, 10))}: {ack}")


@case("sack", "RFC 2883 4.1.2")
def dsack_inside_out_of_order_range(lab, name):
    """RFC 2883 4.1.2: part of a range held out of order arrives again: the first block is the
    D-SACK block for the repeated bytes, the second the range that holds them."""
    with _sack_connection(lab, name) as conn:
        _expect_blocks(conn, "RFC 2883 4.1.2", [(100, 200), (120, 150)], [(120, 150), (100, 200)],
                       "the D-SACK block, then the range holding it")


@case("sack", "RFC 2883 4")
def dsack_reported_once(lab, name):
    """RFC 2883 4: a D-SACK block reports one duplicate once: the ACK of the next new data
    carries only the ordinary block."""
    with _sack_connection(lab, name) as conn:
        _expect_blocks(conn, "RFC 2883 4", [(100, 200), (120, 150), (200, 250)], [(100, 250)],
                       "no D-SACK block again")

