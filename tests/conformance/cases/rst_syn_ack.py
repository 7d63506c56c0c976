"""RFC 5961: RST, SYN and ACK validation in a synchronized state, against blind injection.

- 3.2: a RST whose SEQ is exactly RCV.NXT resets the connection; one elsewhere in the window gets
  a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and changes nothing; one outside the window
  is dropped silently.
- 4.2: a SYN in a synchronized state, whatever its sequence number, gets a challenge ACK, never a
  reset.
- 5.2: an ACK is acceptable only in [SND.UNA - MAX.SND.WND, SND.NXT]; otherwise the segment is
  dropped, data and all, and answered with an ACK.
- 7: challenge ACKs are rate limited (the stack allows one per 200 ms per connection).

Window scaling is agreed in the RST cases so that RCV.WND is the stack's buffer, the same
whichever way it is counted (see the acceptability cases). The ACK cases keep the peer's window at
8192 unscaled, so MAX.SND.WND is 8192.
"""

import time

from harness import SynOptions, check, passive, seq_add, seq_sub

from . import case

SCALED = SynOptions(wscale=7)


def _expect_alive(conn, rfc):
    """The connection survived: nc still runs and data at RCV.NXT is acknowledged."""
    check(conn.stack.running(), rfc, f"the connection is gone (nc exited "
                                     f"{conn.stack.proc.poll()}): {conn.stack.stderr()}")
    conn.send_data(b"still here")
    ack = conn.expect(rfc, "an ACK of data sent after the challenge")
    check(ack.ack == conn.snd_nxt, rfc, f"data after the challenge not acknowledged: {ack}")


@case("rst_syn_ack", "RFC 5961 3.2")
def rst_exact_seq_resets(lab, name):
    """RFC 5961 3.2 (RFC 9293 3.10.7.4, second): a RST with SEQ = RCV.NXT resets the connection:
    nc ends with ECONNRESET (104), and the RST is not answered."""
    rfc = "RFC 5961 3.2"
    with passive(lab, name, syn=SCALED) as conn:
        conn.send(flags="R", ack=0)
        status = conn.stack.wait_exit(3.0)
        check(status == 104, rfc, f"a RST at RCV.NXT did not reset the connection (nc exit "
                                  f"status {status}, want 104 ECONNRESET)")
        conn.expect_silence(rfc, "a RST at RCV.NXT")


@case("rst_syn_ack", "RFC 5961 3.2")
def rst_in_window_challenge_ack(lab, name):
    """RFC 5961 3.2: a RST at RCV.NXT+1 (in the window, not exact) gets a challenge ACK
    <SEQ=SND.NXT><ACK=RCV.NXT> and the connection goes on."""
    rfc = "RFC 5961 3.2"
    with passive(lab, name, syn=SCALED) as conn:
        conn.send(flags="R", seq=seq_add(conn.snd_nxt, 1), ack=0)
        conn.expect_ack(rfc, "a RST at RCV.NXT+1")
        _expect_alive(conn, rfc)
        conn.finish(rfc, tcp_challenge_acks=1)


@case("rst_syn_ack", "RFC 5961 3.2")
def rst_at_last_window_byte_challenge_ack(lab, name):
    """RFC 5961 3.2: a RST at RCV.NXT+RCV.WND-1, the last sequence number in the window, gets a
    challenge ACK and does not reset."""
    rfc = "RFC 5961 3.2"
    with passive(lab, name, syn=SCALED) as conn:
        conn.send_data(b"x")  # an ACK from the stack, to read RCV.WND from
        conn.expect(rfc, "the ACK of one byte")
        conn.send(flags="R", seq=seq_add(conn.snd_nxt, conn.rcv_wnd() - 1), ack=0)
        conn.expect_ack(rfc, f"a RST at RCV.NXT+RCV.WND-1 (RCV.WND {conn.rcv_wnd()})")
        _expect_alive(conn, rfc)


@case("rst_syn_ack", "RFC 5961 3.2")
def rst_out_of_window_ignored(lab, name):
    """RFC 5961 3.2: a RST at RCV.NXT+RCV.WND or at RCV.NXT-1 (outside the window) is dropped
    silently: no answer, the connection goes on."""
    rfc = "RFC 5961 3.2"
    with passive(lab, name, syn=SCALED) as conn:
        conn.send_data(b"x")
        conn.expect(rfc, "the ACK of one byte")
        window = conn.rcv_wnd()
        conn.send(flags="R", seq=seq_add(conn.snd_nxt, window), ack=0)
        conn.expect_silence(rfc, f"a RST at RCV.NXT+RCV.WND (RCV.WND {window})")
        conn.send(flags="R", seq=seq_sub(conn.snd_nxt, 1), ack=0)
        conn.expect_silence(rfc, "a RST at RCV.NXT-1")
        _expect_alive(conn, rfc)


@case("rst_syn_ack", "RFC 5961 7")
def challenge_acks_rate_limited(lab, name):
    """RFC 5961 7: challenge ACKs are rate limited (here one per 200 ms per connection): a second
    in-window RST right after the first gets no ACK, one after the interval gets one again."""
    rfc = "RFC 5961 7"
    with passive(lab, name, syn=SCALED) as conn:
        offset = 1
        for _ in range(3):
            conn.send(flags="R", seq=seq_add(conn.snd_nxt, offset), ack=0)
            conn.expect_ack(rfc, "a RST at RCV.NXT+1 after a quiet interval")
            answered = time.monotonic()
            conn.send(flags="R", seq=seq_add(conn.snd_nxt, offset + 1), ack=0)
            late = time.monotonic() - answered > 0.1
            second = conn.next_segment(0.1)
            # The interval itself is what is tested: wait it out before the next RST.
            time.sleep(max(0.0, answered + 0.25 - time.monotonic()))
            offset += 2
            if second is None:
                break
            # Sent late on a busy machine, the second RST may have met an expired interval:
            # that round proves nothing and is tried again.
            check(late, rfc, f"a second RST within the rate limit's 200 ms was answered: "
                             f"{second}")
        else:
            check(False, rfc, "three rounds in a row too slow to test the 200 ms interval")
        conn.send(flags="R", seq=seq_add(conn.snd_nxt, offset), ack=0)
        conn.expect_ack(rfc, "a RST after the 200 ms interval")
        counters = conn.finish(rfc)
        check(counters.get("tcp_rate_limited_acks", 0) >= 1, rfc,
              f"tcp_rate_limited_acks is {counters.get('tcp_rate_limited_acks')}, want 1")


@case("rst_syn_ack", "RFC 5961 4.2")
def syn_in_window_challenge_ack(lab, name):
    """RFC 5961 4.2: a SYN at RCV.NXT in ESTABLISHED gets a challenge ACK, not a reset; the
    connection goes on."""
    rfc = "RFC 5961 4.2"
    with passive(lab, name, syn=SCALED) as conn:
        conn.send(flags="S", ack=0, advance=False)
        conn.expect_ack(rfc, "a SYN at RCV.NXT in ESTABLISHED")
        _expect_alive(conn, rfc)


@case("rst_syn_ack", "RFC 5961 4.2")
def syn_out_of_window_challenge_ack(lab, name):
    """RFC 5961 4.2: a SYN is answered with a challenge ACK whatever its sequence number; here
    the peer's original SYN again (below the window), in ESTABLISHED."""
    rfc = "RFC 5961 4.2"
    with passive(lab, name, syn=SCALED) as conn:
        conn.send(flags="S", seq=conn.peer_iss, ack=0, advance=False)
        conn.expect_ack(rfc, "the peer's SYN repeated in ESTABLISHED")
        _expect_alive(conn, rfc)


@case("rst_syn_ack", "RFC 5961 4.2")
def syn_ack_in_established_challenge_ack(lab, name):
    """RFC 5961 4.2: a SYN-ACK in the window of an established connection gets a challenge ACK
    and changes nothing."""
    rfc = "RFC 5961 4.2"
    with passive(lab, name, syn=SCALED) as conn:
        conn.send(flags="SA", seq=seq_add(conn.snd_nxt, 100), advance=False)
        conn.expect_ack(rfc, "a SYN-ACK at RCV.NXT+100 in ESTABLISHED")
        _expect_alive(conn, rfc)


@case("rst_syn_ack", "RFC 5961 5.2")
def ack_beyond_snd_nxt_dropped(lab, name):
    """RFC 5961 5.2: a segment whose ACK is beyond SND.NXT is dropped, data included (RCV.NXT does
    not move, nothing is delivered), and answered with an ACK."""
    rfc = "RFC 5961 5.2"
    with passive(lab, name) as conn:
        rcv_nxt = conn.snd_nxt
        conn.send_data(b"forged", ack=seq_add(conn.rcv_nxt, 1), advance=False)
        conn.expect_ack(rfc, "data with ACK = SND.NXT+1", ack=rcv_nxt)
        conn.finish(rfc, delivered=b"", drop_tcp_bad_ack=1)


@case("rst_syn_ack", "RFC 5961 5.2")
def ack_too_old_dropped(lab, name):
    """RFC 5961 5.2: an ACK below SND.UNA - MAX.SND.WND (MAX.SND.WND 8192, the peer's only
    window) is dropped with its data and answered with an ACK."""
    rfc = "RFC 5961 5.2"
    with passive(lab, name) as conn:
        rcv_nxt = conn.snd_nxt
        snd_una = conn.rcv_nxt
        conn.send_data(b"forged", ack=seq_sub(snd_una, conn.window + 1), advance=False)
        conn.expect_ack(rfc, "data with ACK = SND.UNA - MAX.SND.WND - 1", ack=rcv_nxt)
        conn.finish(rfc, delivered=b"", drop_tcp_bad_ack=1)


@case("rst_syn_ack", "RFC 5961 5.2")
def ack_oldest_acceptable_taken(lab, name):
    """RFC 5961 5.2: an ACK of exactly SND.UNA - MAX.SND.WND is still acceptable (a duplicate):
    the segment's data is taken and acknowledged."""
    rfc = "RFC 5961 5.2"
    with passive(lab, name) as conn:
        conn.send_data(b"oldest", ack=seq_sub(conn.rcv_nxt, conn.window))
        ack = conn.expect(rfc, "an ACK of data whose ACK is SND.UNA - MAX.SND.WND")
        check(ack.ack == conn.snd_nxt, rfc,
              f"data with ACK = SND.UNA - MAX.SND.WND was not taken (want ACK {conn.snd_nxt}): "
              f"{ack}")
        conn.finish(rfc, delivered=b"oldest")


@case("rst_syn_ack", "RFC 5961 5.2")
def ack_of_stack_data_beyond_snd_nxt(lab, name):
    """RFC 5961 5.2 with data in flight: the stack sends 5 bytes; an ACK one past them (beyond
    SND.NXT) is answered with an ACK <SEQ=SND.NXT>; the exact ACK after it is taken
    silently."""
    rfc = "RFC 5961 5.2"
    with passive(lab, name) as conn:
        conn.stack.write(b"hello")
        data = conn.expect(rfc, "the stack's 5 bytes")
        check(data.payload == b"hello" and data.seq == conn.rcv_nxt, rfc,
              f"want 5 bytes at SND.UNA: {data}")
        conn.send(flags="A", ack=seq_add(conn.rcv_nxt, 6))
        conn.expect_ack(rfc, "an ACK of SND.NXT+1", seq=seq_add(conn.rcv_nxt, 5))
        conn.rcv_nxt = seq_add(conn.rcv_nxt, 5)
        conn.send(flags="A")
        conn.expect_silence(rfc, "the exact ACK of the stack's data")
