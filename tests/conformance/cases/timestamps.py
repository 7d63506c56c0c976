"""Timestamps (RFC 7323) once both SYNs carried the option.

- 3.2: every segment but a RST carries the option; a non-RST segment without it is dropped
  silently.
- 4.3: which TSval the stack echoes: TS.Recent is taken only from a segment that starts at or
  before Last.ACK.sent, so a delayed ACK covering two segments echoes the first one's, and the
  segment that fills a hole is the one echoed after it, not the out-of-order data before it.
- 5.3 (PAWS): a segment whose TSval is older than TS.Recent is dropped and answered with an ACK;
  an equal TSval is not old; a RST is exempt.

The peer's clock ticks once per segment it sends (harness), so "older" is a TSval the peer sent
before.
"""

import contextlib

from harness import SynOptions, check, passive, seq_add, seq_sub

from . import case


@contextlib.contextmanager
def _ts_connection(lab, name, sack=False):
    with passive(lab, name, syn=SynOptions(timestamps=True, sack_permitted=sack)) as conn:
        check(conn.timestamps, "RFC 7323 3.2", f"timestamps not agreed: {conn.stack_syn}")
        yield conn


@case("timestamps", "RFC 7323 3.2, 4.3")
def ack_echoes_tsval(lab, name):
    """RFC 7323 3.2, 4.3: the ACK of data carries the timestamps option, TSecr the data's TSval,
    and the stack's own data carries it too, echoing the peer's latest TSval."""
    rfc = "RFC 7323 3.2"
    with _ts_connection(lab, name) as conn:
        conn.send_data(b"ping")
        sent = conn.tsval
        ack = conn.expect(rfc, "the ACK of 4 bytes")
        check(ack.ack == conn.snd_nxt and ack.timestamps is not None, rfc,
              f"want ACK {conn.snd_nxt} with timestamps: {ack}")
        check(ack.timestamps[1] == sent, "RFC 7323 4.3",
              f"TSecr {ack.timestamps[1]}, want the data's TSval {sent}: {ack}")
        conn.stack.write(b"pong")
        data = conn.expect(rfc, "the stack's data")
        check(data.payload == b"pong" and data.timestamps is not None
              and data.timestamps[1] == sent, rfc,
              f"the stack's data must carry timestamps echoing {sent}: {data}")


@case("timestamps", "RFC 7323 4.3")
def delayed_ack_echoes_earliest(lab, name):
    """RFC 7323 4.3 (case A): two in-order segments acknowledged by one ACK: TSecr is the first
    segment's TSval (TS.Recent moves only for a segment starting at or before Last.ACK.sent), so
    the peer's RTT measurement includes the delay."""
    rfc = "RFC 7323 4.3"
    with _ts_connection(lab, name) as conn:
        # The two segments go back to back; if the stack's 40 ms delayed-ACK timer fired between
        # them (a very busy machine) the ACK covers one segment only, and the pair is sent again.
        for _ in range(3):
            conn.send_data(b"first")
            first = conn.tsval
            conn.send_data(b"second")
            second = conn.tsval
            ack = conn.expect(rfc, "the ACK of two segments")
            if ack.ack != conn.snd_nxt:
                conn.next_segment(0.1)  # the second one's own ACK, if it comes
                continue
            check(ack.timestamps is not None and ack.timestamps[1] == first, rfc,
                  f"an ACK of two segments (TSval {first}, {second}) echoes "
                  f"{ack.timestamps and ack.timestamps[1]}, want the first one's {first}: {ack}")
            return
        check(False, rfc, "the stack acknowledged each segment alone three times in a row")


@case("timestamps", "RFC 7323 4.3")
def gap_filler_is_echoed(lab, name):
    """RFC 7323 4.3 (case C): out-of-order data is answered echoing the last in-order segment's
    TSval, not its own; the segment that fills the hole (newer TSval) is the one echoed next."""
    rfc = "RFC 7323 4.3"
    with _ts_connection(lab, name, sack=True) as conn:
        conn.send_data(b"x")
        in_order = conn.tsval
        conn.expect(rfc, "the ACK of one byte in order")
        base = conn.snd_nxt
        conn.send_data(b"b" * 100, seq=seq_add(base, 100), advance=False)
        out_of_order = conn.tsval
        ack = conn.expect(rfc, "the ACK of out-of-order data")
        check(ack.timestamps[1] == in_order, rfc,
              f"the ACK of out-of-order data (TSval {out_of_order}) echoes {ack.timestamps[1]}, "
              f"want the last in-order segment's {in_order}: {ack}")
        conn.send_data(b"a" * 100)
        filler = conn.tsval
        ack = conn.expect(rfc, "the ACK of the filled hole")
        check(ack.ack == seq_add(base, 200), rfc, f"hole not filled: {ack}")
        check(ack.timestamps[1] == filler, rfc,
              f"the ACK after the hole was filled echoes {ack.timestamps[1]}, want the filler's "
              f"TSval {filler}: {ack}")


@case("timestamps", "RFC 7323 5.3")
def paws_drops_old_data(lab, name):
    """RFC 7323 5.3 R1: data in the window whose TSval is older than TS.Recent is an old
    duplicate: dropped (not delivered, RCV.NXT unchanged), answered with an ACK, counted as
    drop_tcp_paws."""
    rfc = "RFC 7323 5.3"
    with _ts_connection(lab, name) as conn:
        conn.send_data(b"new")
        recent = conn.tsval
        conn.expect(rfc, "the ACK of 3 bytes")
        rcv_nxt = conn.snd_nxt
        conn.send_data(b"old", tsval=seq_sub(recent, 1000), advance=False)
        ack = conn.expect_ack(rfc, "data with a TSval 1000 older than TS.Recent", ack=rcv_nxt)
        check(ack.timestamps is not None and ack.timestamps[1] == recent, rfc,
              f"the answer must echo TS.Recent {recent}, not the old TSval: {ack}")
        conn.finish(rfc, delivered=b"new", drop_tcp_paws=1)


@case("timestamps", "RFC 7323 5.3")
def paws_drops_old_ack(lab, name):
    """RFC 7323 5.3 R1: a zero-length segment with an old TSval is dropped and answered with an
    ACK too."""
    rfc = "RFC 7323 5.3"
    with _ts_connection(lab, name) as conn:
        conn.send(flags="A", tsval=seq_sub(conn.tsval, 1000))
        conn.expect_ack(rfc, "an ACK with a TSval 1000 older than TS.Recent")
        conn.finish(rfc, drop_tcp_paws=1)


@case("timestamps", "RFC 7323 5.3")
def paws_equal_tsval_accepted(lab, name):
    """RFC 7323 5.3 R1: only a TSval less than TS.Recent is old: data with the same TSval as the
    last segment is taken and acknowledged."""
    rfc = "RFC 7323 5.3"
    with _ts_connection(lab, name) as conn:
        conn.send_data(b"one")
        same = conn.tsval
        conn.expect(rfc, "the ACK of 3 bytes")
        conn.send_data(b"two", tsval=same)
        ack = conn.expect(rfc, "the ACK of data with TSval equal to TS.Recent")
        check(ack.ack == conn.snd_nxt, rfc, f"data with an equal TSval was not taken: {ack}")


@case("timestamps", "RFC 7323 5.3")
def paws_exempts_rst(lab, name):
    """RFC 7323 5.3 R1 applies only if the RST bit is not set: a RST at RCV.NXT with an old
    TSval resets the connection (nc exits with ECONNRESET, 104)."""
    rfc = "RFC 7323 5.3"
    with _ts_connection(lab, name) as conn:
        conn.send(flags="R", ack=0, tsval=seq_sub(conn.tsval, 1000))
        status = conn.stack.wait_exit(3.0)
        check(status == 104, rfc, f"a RST with an old TSval did not reset (nc exit status "
                                  f"{status}, want 104)")


@case("timestamps", "RFC 7323 3.2")
def rst_without_timestamps_accepted(lab, name):
    """RFC 7323 3.2: only a non-RST segment without the option is dropped: a RST at RCV.NXT
    without timestamps resets the connection (nc exits with ECONNRESET, 104)."""
    rfc = "RFC 7323 3.2"
    with _ts_connection(lab, name) as conn:
        conn.send(flags="R", ack=0, timestamps=False)
        status = conn.stack.wait_exit(3.0)
        check(status == 104, rfc, f"a RST without timestamps did not reset (nc exit status "
                                  f"{status}, want 104)")


@case("timestamps", "RFC 7323 3.2")
def segment_without_timestamps_dropped(lab, name):
    """RFC 7323 3.2: once agreed, a non-RST segment without the option is dropped silently: data
    without it gets no ACK, is not delivered and is counted as drop_tcp_no_timestamp."""
    rfc = "RFC 7323 3.2"
    with _ts_connection(lab, name) as conn:
        conn.send_data(b"bare", timestamps=False, advance=False)
        conn.expect_silence(rfc, "data without timestamps", duration=0.3)
        conn.finish(rfc, delivered=b"", drop_tcp_no_timestamp=1)
