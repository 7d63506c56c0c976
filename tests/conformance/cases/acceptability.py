"""Segment acceptability at every edge of the receive window (RFC 9293 3.10.7.4).

The test's table:

    length  RCV.WND  test
    0       0        SEG.SEQ = RCV.NXT
    0       >0       RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
    >0      0        not acceptable
    >0      >0       RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
                     or RCV.NXT =< SEG.SEQ+SEG.LEN-1 < RCV.NXT+RCV.WND

An unacceptable segment (not a RST) is answered with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and
dropped; an acceptable zero-length segment that acknowledges nothing new gets no answer. SACK is
agreed in these connections so that acceptance of out-of-order data is visible: the immediate ACK
of RFC 5681 4.2 then carries a SACK block for exactly the bytes kept (RFC 2018 4), while an
unacceptable segment's ACK carries none. Every case runs twice, without window scaling (RCV.WND is
the 16-bit window field) and with it (the field shifted by the stack's scale, RFC 7323 2.2), with
RCV.WND taken from the stack's own last ACK, as a peer knows it.

The zero-window cases run `tapstack nc --no-read`, whose application never reads: the peer fills
the 256 KiB receive buffer until the stack advertises a window of 0. Then only a zero-length
segment at exactly RCV.NXT is acceptable, and of the others only an exact RST (the "special
allowance" for ACKs and RSTs).
"""

import contextlib

from harness import SynOptions, check, passive, seq_add, seq_sub

from . import case

RFC = "RFC 9293 3.10.7.4"
FIRST_DATA = b"0123456789"


@contextlib.contextmanager
def _established(lab, name, wscale):
    """A connection with SACK agreed (and window scaling if `wscale`), after 10 bytes in order
    so that RCV.NXT is past the SYN and the stack's ACK of them shows RCV.WND."""
    syn = SynOptions(sack_permitted=True, wscale=7 if wscale else None)
    with passive(lab, name, syn=syn) as conn:
        check(conn.sack, "RFC 2018 2", f"SACK not agreed: SYN-ACK {conn.stack_syn}")
        if wscale:
            check(conn.stack_wscale is not None, "RFC 7323 2.2",
                  f"window scaling not agreed: SYN-ACK {conn.stack_syn}")
        conn.send_data(FIRST_DATA)
        ack = conn.expect(RFC, "the ACK of the first 10 bytes")
        check(ack.ack == conn.snd_nxt, RFC, f"the first 10 bytes are not acknowledged: {ack}")
        yield conn


def _expect_taken_silently(conn, seq, where, what):
    """A zero-length segment at `seq` that must be acceptable: no answer (it acknowledges
    nothing new), and not counted unacceptable."""
    conn.send(flags="A", seq=seq)
    conn.expect_silence(where, what)
    conn.finish(where, drop_tcp_unacceptable=0)


def _edge_cases(wscale):
    suffix = "_wscale" if wscale else ""
    scaled = "with window scaling" if wscale else "without window scaling"

    def edge_case(rfc):
        """Registers the case under its name plus the variant's suffix."""
        def register(function):
            function.__name__ += suffix
            return case("acceptability", rfc)(function)

        return register

    @edge_case(RFC)
    def zero_length_below_rcv_nxt(lab, name):
        """RFC 9293 3.10.7.4: a zero-length segment at RCV.NXT-1 is not acceptable and gets an
        ACK <SEQ=SND.NXT><ACK=RCV.NXT>."""
        with _established(lab, name, wscale) as conn:
            rcv_nxt = conn.snd_nxt
            conn.send(flags="A", seq=seq_sub(rcv_nxt, 1))
            conn.expect_ack(f"{RFC} ({scaled})", "a zero-length segment at RCV.NXT-1",
                            ack=rcv_nxt)

    @edge_case(RFC)
    def zero_length_at_rcv_nxt(lab, name):
        """RFC 9293 3.10.7.4: a zero-length segment at RCV.NXT is acceptable; acknowledging
        nothing new it gets no answer."""
        with _established(lab, name, wscale) as conn:
            _expect_taken_silently(conn, conn.snd_nxt, f"{RFC} ({scaled})",
                                   "a zero-length segment at RCV.NXT")

    @edge_case(RFC)
    def zero_length_at_last_window_byte(lab, name):
        """RFC 9293 3.10.7.4: a zero-length segment at RCV.NXT+RCV.WND-1 is acceptable: no
        answer, not counted unacceptable."""
        with _established(lab, name, wscale) as conn:
            edge = seq_add(conn.snd_nxt, conn.rcv_wnd())
            _expect_taken_silently(conn, seq_sub(edge, 1), f"{RFC} ({scaled})",
                                   "a zero-length segment at RCV.NXT+RCV.WND-1")

    @edge_case(RFC)
    def zero_length_at_right_edge(lab, name):
        """RFC 9293 3.10.7.4: a zero-length segment at RCV.NXT+RCV.WND is not acceptable and
        gets an ACK <SEQ=SND.NXT><ACK=RCV.NXT>."""
        with _established(lab, name, wscale) as conn:
            rcv_nxt = conn.snd_nxt
            window = conn.rcv_wnd()
            conn.send(flags="A", seq=seq_add(rcv_nxt, window))
            conn.expect_ack(f"{RFC} ({scaled}, RCV.WND {window})",
                            "a zero-length segment at RCV.NXT+RCV.WND", ack=rcv_nxt)

    @edge_case(f"{RFC}, RFC 2883 4")
    def data_straddling_rcv_nxt(lab, name):
        """RFC 9293 3.10.7.4: data starting at RCV.NXT-1 whose last byte is at RCV.NXT is
        acceptable; the new byte is kept (ACK = RCV.NXT+1, delivered to the application) and,
        SACK agreed, the repeated byte is reported in a D-SACK block (RFC 2883 4)."""
        with _established(lab, name, wscale) as conn:
            rcv_nxt = conn.snd_nxt
            conn.send_data(b"9A", seq=seq_sub(rcv_nxt, 1), advance=False)
            conn.snd_nxt = seq_add(rcv_nxt, 1)
            ack = conn.expect(RFC, "an ACK of the byte at RCV.NXT")
            check(ack.ack == seq_add(rcv_nxt, 1), f"{RFC} ({scaled})",
                  f"the byte at RCV.NXT was not taken (ACK {ack.ack}, want "
                  f"{seq_add(rcv_nxt, 1)}): {ack}")
            check(ack.sack_blocks[:1] == [(seq_sub(rcv_nxt, 1), rcv_nxt)], "RFC 2883 4",
                  f"the repeated byte at RCV.NXT-1 is not reported as D-SACK "
                  f"{seq_sub(rcv_nxt, 1)}-{rcv_nxt}: {ack}")
            conn.finish(f"{RFC} ({scaled})", delivered=FIRST_DATA + b"A")

    @edge_case(RFC)
    def data_at_rcv_nxt(lab, name):
        """RFC 9293 3.10.7.4: data at RCV.NXT is acceptable: acknowledged (RCV.NXT advances)
        and delivered in order."""
        with _established(lab, name, wscale) as conn:
            conn.send_data(b"hello")
            ack = conn.expect(RFC, "an ACK of data at RCV.NXT")
            check(ack.ack == conn.snd_nxt and not ack.sack_blocks, f"{RFC} ({scaled})",
                  f"data at RCV.NXT not acknowledged in order (want ACK {conn.snd_nxt}): {ack}")
            conn.finish(f"{RFC} ({scaled})", delivered=FIRST_DATA + b"hello")

    @edge_case(f"{RFC}, RFC 2018 4")
    def data_at_last_window_byte(lab, name):
        """RFC 9293 3.10.7.4: one byte at RCV.NXT+RCV.WND-1 is acceptable and kept out of order:
        the immediate ACK (RFC 5681 4.2) has ACK = RCV.NXT and the SACK block for that byte
        (RFC 2018 4)."""
        with _established(lab, name, wscale) as conn:
            rcv_nxt = conn.snd_nxt
            window = conn.rcv_wnd()
            last = seq_add(rcv_nxt, window - 1)
            conn.send_data(b"Z", seq=last)
            ack = conn.expect_ack(f"{RFC} ({scaled}, RCV.WND {window})",
                                  "one byte at RCV.NXT+RCV.WND-1", ack=rcv_nxt)
            check(ack.sack_blocks == [(last, seq_add(last, 1))], f"{RFC} ({scaled})",
                  f"the byte at RCV.NXT+RCV.WND-1 was not kept (want SACK {last}-"
                  f"{seq_add(last, 1)}): {ack}")

    @edge_case(RFC)
    def data_at_right_edge(lab, name):
        """RFC 9293 3.10.7.4: one byte at RCV.NXT+RCV.WND is not acceptable: an ACK
        <SEQ=SND.NXT><ACK=RCV.NXT> without a SACK block (the byte is not kept), and the segment
        is counted unacceptable."""
        with _established(lab, name, wscale) as conn:
            rcv_nxt = conn.snd_nxt
            window = conn.rcv_wnd()
            where = f"{RFC} ({scaled}, RCV.WND {window})"
            conn.send_data(b"Z", seq=seq_add(rcv_nxt, window))
            ack = conn.expect_ack(where, "one byte at RCV.NXT+RCV.WND", ack=rcv_nxt)
            check(not ack.sack_blocks, where,
                  f"a byte beyond the window was kept (SACKed): {ack}")
            conn.finish(where, drop_tcp_unacceptable=1)

    @edge_case(f"{RFC}, RFC 2018 4")
    def data_straddling_right_edge(lab, name):
        """RFC 9293 3.10.7.4: two bytes at RCV.NXT+RCV.WND-1 are acceptable (the first lies in
        the window); only the byte inside the window is kept: SACK block of exactly one byte."""
        with _established(lab, name, wscale) as conn:
            rcv_nxt = conn.snd_nxt
            window = conn.rcv_wnd()
            last = seq_add(rcv_nxt, window - 1)
            where = f"{RFC} ({scaled}, RCV.WND {window})"
            conn.send_data(b"YZ", seq=last)
            ack = conn.expect_ack(where, "two bytes at RCV.NXT+RCV.WND-1", ack=rcv_nxt)
            check(ack.sack_blocks == [(last, seq_add(last, 1))], where,
                  f"want SACK {last}-{seq_add(last, 1)} (the byte in the window only): {ack}")

    @contextlib.contextmanager
    def _zero_window(lab, name):
        syn = SynOptions(sack_permitted=True, wscale=7 if wscale else None)
        with passive(lab, name, syn=syn, stack_args=["--no-read"]) as conn:
            conn.fill_window(RFC)
            yield conn

    @edge_case(RFC)
    def zero_window_zero_length_at_rcv_nxt(lab, name):
        """RFC 9293 3.10.7.4: with RCV.WND = 0 a zero-length segment at RCV.NXT is acceptable:
        no answer, not counted unacceptable."""
        with _zero_window(lab, name) as conn:
            _expect_taken_silently(conn, conn.snd_nxt, f"{RFC} ({scaled}, zero window)",
                                   "a zero-length segment at RCV.NXT")

    @edge_case(RFC)
    def zero_window_zero_length_beyond(lab, name):
        """RFC 9293 3.10.7.4: with RCV.WND = 0 a zero-length segment at RCV.NXT+1 is not
        acceptable: an ACK <SEQ=SND.NXT><ACK=RCV.NXT> with the window still 0."""
        with _zero_window(lab, name) as conn:
            rcv_nxt = conn.snd_nxt
            conn.send(flags="A", seq=seq_add(rcv_nxt, 1))
            ack = conn.expect_ack(f"{RFC} ({scaled}, zero window)",
                                  "a zero-length segment at RCV.NXT+1", ack=rcv_nxt)
            check(ack.window == 0, RFC, f"the window opened: {ack}")

    @edge_case(RFC)
    def zero_window_data_not_acceptable(lab, name):
        """RFC 9293 3.10.7.4: with RCV.WND = 0 no data is acceptable, not even one byte at
        RCV.NXT (a window probe): answered with an ACK of RCV.NXT, window 0, byte not kept."""
        with _zero_window(lab, name) as conn:
            rcv_nxt = conn.snd_nxt
            conn.send_data(b"p", advance=False)
            ack = conn.expect_ack(f"{RFC} ({scaled}, zero window)", "one byte at RCV.NXT",
                                  ack=rcv_nxt)
            check(ack.window == 0 and not ack.sack_blocks, RFC,
                  f"the byte was kept or the window opened: {ack}")
            conn.finish(RFC, drop_tcp_unacceptable=1)

    @edge_case(f"{RFC}, RFC 5961 3.2")
    def zero_window_exact_rst_resets(lab, name):
        """RFC 9293 3.10.7.4 (special allowance for RSTs with RCV.WND = 0) and RFC 5961 3.2: a
        RST at exactly RCV.NXT resets the connection (nc exits with ECONNRESET, 104)."""
        with _zero_window(lab, name) as conn:
            conn.send(flags="R", ack=0)
            status = conn.stack.wait_exit(3.0)
            check(status == 104, f"{RFC} ({scaled}, zero window)",
                  f"a RST at RCV.NXT did not reset (nc exit status {status}, want 104)")

    @edge_case(f"{RFC}, RFC 5961 3.2")
    def zero_window_rst_beyond_ignored(lab, name):
        """RFC 9293 3.10.7.4 and RFC 5961 3.2: with RCV.WND = 0 a RST at RCV.NXT+1 lies outside
        the window: dropped silently, the connection goes on."""
        with _zero_window(lab, name) as conn:
            conn.send(flags="R", seq=seq_add(conn.snd_nxt, 1), ack=0)
            conn.expect_silence(f"{RFC} ({scaled}, zero window)", "a RST at RCV.NXT+1")
            check(conn.stack.running(), RFC, "the connection was reset")


_edge_cases(wscale=False)
_edge_cases(wscale=True)
