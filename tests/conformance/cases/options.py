"""Option negotiation in the handshake, both ways.

- RFC 9293 3.7.1: MSS in every SYN; without the peer's MSS option the stack sends at most 536
  bytes per segment, and never more than the peer's MSS.
- RFC 7323 2.2: window scale only in a SYN, and in a SYN-ACK only when the SYN offered it; a SYN's
  window field is never scaled; scaling applies once both sides offered it.
- RFC 7323 3.2: timestamps offered in a SYN (TSecr 0), in a SYN-ACK only when the SYN offered
  them; once both did, every segment carries them.
- RFC 2018 2: SACK-permitted in a SYN, in a SYN-ACK only when the SYN offered it; SACK blocks only
  when both did.

The active cases run `tapstack nc` connecting to the peer (the stack's SYN); the passive ones the
listening `tapstack nc -l` (the stack's SYN-ACK).
"""

from harness import SynOptions, check, active, passive, seq_add

from . import case

EVERYTHING = SynOptions(mss=1460, wscale=7, sack_permitted=True, timestamps=True)


def _check_full_offer(segment, what, tsecr):
    """MSS 1460 (an MTU of 1500, RFC 9293 3.7.1), a window scale in 1..14 (RFC 7323 2.2),
    SACK-permitted (RFC 2018 2), timestamps with TSecr `tsecr` (RFC 7323 3.2), and the window
    field unscaled (RFC 7323 2.2): 65,535 for a 256 KiB buffer."""
    check(segment.mss == 1460, "RFC 9293 3.7.1", f"{what}'s MSS is {segment.mss}, want 1460: "
                                                 f"{segment}")
    check(segment.wscale is not None and 0 < segment.wscale <= 14, "RFC 7323 2.2",
          f"{what} has no window scale in 1..14: {segment}")
    check(segment.sack_permitted, "RFC 2018 2", f"{what} has no SACK-permitted: {segment}")
    check(segment.timestamps is not None and segment.timestamps[1] == tsecr, "RFC 7323 3.2",
          f"{what} has no timestamps with TSecr {tsecr}: {segment}")
    check(segment.window == 65535, "RFC 7323 2.2",
          f"{what}'s window field is {segment.window}, want 65535 unscaled: {segment}")


@case("options", "RFC 9293 3.7.1, RFC 7323 2.2, 3.2, RFC 2018 2")
def active_syn_offers_every_option(lab, name):
    """The stack's SYN offers MSS 1460 (an MTU of 1500), a window scale, SACK-permitted and
    timestamps with a non-zero TSval and TSecr 0 (RFC 7323 3.2); its window field is unscaled
    (RFC 7323 2.2), at most 65,535."""
    with active(lab, name, syn=EVERYTHING) as conn:
        _check_full_offer(conn.stack_syn, "SYN", tsecr=0)
        check(conn.stack_syn.timestamps[0] != 0, "RFC 7323 3.2",
              f"SYN's TSval is 0: {conn.stack_syn}")


@case("options", "RFC 7323 2.2, 3.2, 3.3, RFC 2018 2")
def active_everything_agreed(lab, name):
    """A SYN-ACK offering everything: the stack's ACK echoes the SYN-ACK's TSval (RFC 7323 3.2,
    4.3) and its window field is scaled by its shift (RFC 7323 2.2); out-of-order data then gets
    a SACK block (RFC 2018 2, 4)."""
    with active(lab, name, syn=EVERYTHING) as conn:
        ack = conn.last_from_stack
        check(ack.timestamps is not None and ack.timestamps[1] == conn.tsval, "RFC 7323 3.2",
              f"the ACK of the SYN-ACK does not echo its TSval {conn.tsval}: {ack}")
        check(ack.window << conn.stack_wscale == 262144,
              "RFC 7323 2.2", f"the ACK's window {ack.window} << {conn.stack_wscale} is not the "
                              f"256 KiB buffer: {ack}")
        conn.send_data(b"later", seq=seq_add(conn.snd_nxt, 100), advance=False)
        ooo = conn.expect("RFC 2018 4", "an ACK of out-of-order data")
        check(len(ooo.sack_blocks) == 1, "RFC 2018 2", f"SACK agreed but no block: {ooo}")


@case("options", "RFC 7323 2.2, 3.2, RFC 2018 2")
def active_nothing_agreed(lab, name):
    """A SYN-ACK with MSS alone: no timestamps in the stack's ACK or later segments
    (RFC 7323 3.2), no SACK blocks for out-of-order data (RFC 2018 2), window unscaled
    (RFC 7323 2.2: the field is 65,535, not the buffer shifted)."""
    with active(lab, name, syn=SynOptions(mss=1460)) as conn:
        ack = conn.last_from_stack
        check(ack.timestamps is None, "RFC 7323 3.2",
              f"timestamps in the ACK of a SYN-ACK without them: {ack}")
        check(ack.window == 65535, "RFC 7323 2.2",
              f"unscaled window field is {ack.window}, want 65535: {ack}")
        conn.send_data(b"later", seq=seq_add(conn.snd_nxt, 100), advance=False)
        ooo = conn.expect("RFC 2018 2", "an ACK of out-of-order data")
        check(not ooo.sack_blocks and ooo.timestamps is None, "RFC 2018 2",
              f"SACK blocks or timestamps without agreement: {ooo}")


@case("options", "RFC 7323 2.2, 3.2, RFC 2018 2")
def passive_echoes_everything_offered(lab, name):
    """A SYN offering everything gets a SYN-ACK with MSS, window scale, SACK-permitted and
    timestamps whose TSecr is the SYN's TSval (RFC 7323 3.2); the SYN-ACK's window is unscaled
    (RFC 7323 2.2)."""
    with passive(lab, name, syn=EVERYTHING) as conn:
        _check_full_offer(conn.stack_syn, "SYN-ACK", tsecr=conn.syn_tsval)


def _passive_offer(lab, name, offer, rfc, want_wscale, want_sack, want_ts):
    with passive(lab, name, syn=offer) as conn:
        synack = conn.stack_syn
        check((synack.wscale is not None) == want_wscale, rfc,
              f"window scale {'missing from' if want_wscale else 'in'} the SYN-ACK: {synack}")
        check(synack.sack_permitted == want_sack, rfc,
              f"SACK-permitted {'missing from' if want_sack else 'in'} the SYN-ACK: {synack}")
        check((synack.timestamps is not None) == want_ts, rfc,
              f"timestamps {'missing from' if want_ts else 'in'} the SYN-ACK: {synack}")
        check(synack.mss == 1460, "RFC 9293 3.7.1", f"SYN-ACK MSS {synack.mss}: {synack}")


@case("options", "RFC 7323 2.2, 3.2, RFC 2018 2")
def passive_echoes_nothing_not_offered(lab, name):
    """A SYN with MSS alone gets a SYN-ACK with MSS alone: no window scale (RFC 7323 2.2), no
    timestamps (RFC 7323 3.2), no SACK-permitted (RFC 2018 2)."""
    _passive_offer(lab, name, SynOptions(mss=1460), "RFC 7323 2.2, 3.2, RFC 2018 2",
                   want_wscale=False, want_sack=False, want_ts=False)


@case("options", "RFC 2018 2")
def passive_sack_permitted_alone(lab, name):
    """RFC 2018 2: SACK-permitted alone in the SYN is echoed alone."""
    _passive_offer(lab, name, SynOptions(sack_permitted=True), "RFC 2018 2",
                   want_wscale=False, want_sack=True, want_ts=False)


@case("options", "RFC 7323 3.2")
def passive_timestamps_alone(lab, name):
    """RFC 7323 3.2: timestamps alone in the SYN are echoed alone."""
    _passive_offer(lab, name, SynOptions(timestamps=True), "RFC 7323 3.2",
                   want_wscale=False, want_sack=False, want_ts=True)


@case("options", "RFC 7323 2.2")
def passive_window_scale_alone(lab, name):
    """RFC 7323 2.2: a window scale alone in the SYN is answered with one."""
    _passive_offer(lab, name, SynOptions(wscale=2), "RFC 7323 2.2",
                   want_wscale=True, want_sack=False, want_ts=False)


SWITCHED_OFF = ["--no-sack", "--no-timestamps"]


@case("options", "RFC 2018 2, RFC 7323 3.2")
def switched_off_not_offered(lab, name):
    """With SACK and timestamps switched off (nc --no-sack --no-timestamps) the stack's SYN offers
    MSS and window scale only (RFC 2018 2, RFC 7323 3.2), and its ACK of a SYN-ACK offering
    everything carries no timestamps."""
    with active(lab, name, syn=EVERYTHING, stack_args=SWITCHED_OFF) as conn:
        syn = conn.stack_syn
        check(not syn.sack_permitted and syn.timestamps is None, "RFC 2018 2, RFC 7323 3.2",
              f"SACK-permitted or timestamps offered although switched off: {syn}")
        check(syn.mss == 1460 and syn.wscale is not None, "RFC 7323 2.2",
              f"MSS and window scale still belong in the SYN: {syn}")
        ack = conn.last_from_stack
        check(ack.timestamps is None, "RFC 7323 3.2", f"timestamps in the ACK: {ack}")


@case("options", "RFC 2018 2, RFC 7323 3.2")
def switched_off_not_echoed(lab, name):
    """With SACK and timestamps switched off a SYN offering everything gets a SYN-ACK with MSS and
    window scale only, and out-of-order data later gets no SACK block (RFC 2018 2) and no
    timestamps (RFC 7323 3.2)."""
    with passive(lab, name, syn=EVERYTHING, stack_args=SWITCHED_OFF) as conn:
        synack = conn.stack_syn
        check(not synack.sack_permitted and synack.timestamps is None,
              "RFC 2018 2, RFC 7323 3.2",
              f"SACK-permitted or timestamps echoed although switched off: {synack}")
        check(synack.wscale is not None, "RFC 7323 2.2", f"window scale not echoed: {synack}")
        conn.send_data(b"later", seq=seq_add(conn.snd_nxt, 100), advance=False)
        ooo = conn.expect("RFC 2018 2", "an ACK of out-of-order data")
        check(not ooo.sack_blocks and ooo.timestamps is None, "RFC 2018 2, RFC 7323 3.2",
              f"SACK blocks or timestamps without agreement: {ooo}")


def _stack_segment_sizes(conn, total):
    """Has nc send `total` bytes and returns the lengths of the stack's data segments, each
    acknowledged at once so the congestion window never holds them back."""
    conn.stack.write(b"m" * total)
    sizes = []
    while sum(sizes) < total:
        segment = conn.expect("RFC 9293 3.7.1", f"the stack's data ({sum(sizes)} of {total})")
        if not segment.payload:
            continue
        sizes.append(len(segment.payload))
        conn.rcv_nxt = seq_add(segment.seq, len(segment.payload))
        conn.send(flags="A")
    return sizes


@case("options", "RFC 9293 3.7.1")
def peer_mss_bounds_segments(lab, name):
    """RFC 9293 3.7.1: the stack never sends a segment larger than the peer's MSS (536 here,
    with 8192 bytes of window): 2000 bytes go as 536, 536, 536, 392."""
    rfc = "RFC 9293 3.7.1"
    with passive(lab, name, syn=SynOptions(mss=536)) as conn:
        sizes = _stack_segment_sizes(conn, 2000)
        check(sizes == [536, 536, 536, 392], rfc, f"segment sizes {sizes} for a peer MSS of 536")


@case("options", "RFC 9293 3.7.1")
def missing_mss_means_536(lab, name):
    """RFC 9293 3.7.1: without an MSS option the stack assumes 536 bytes."""
    rfc = "RFC 9293 3.7.1"
    with passive(lab, name, syn=SynOptions(mss=None)) as conn:
        sizes = _stack_segment_sizes(conn, 1200)
        check(max(sizes) == 536, rfc, f"segment sizes {sizes} for a SYN without MSS")


@case("options", "RFC 9293 3.7.1, RFC 7323 3.2")
def timestamps_count_against_mss(lab, name):
    """RFC 9293 3.7.1 (and RFC 6691): the MSS bounds data and options together, so with
    timestamps (12 bytes) agreed and a peer MSS of 536 a full segment carries 524 bytes, each with
    the timestamps option (RFC 7323 3.2)."""
    rfc = "RFC 9293 3.7.1"
    with passive(lab, name, syn=SynOptions(mss=536, timestamps=True)) as conn:
        conn.stack.write(b"m" * 1000)
        first = conn.expect(rfc, "the stack's first data segment")
        check(len(first.payload) == 524, rfc,
              f"a full segment carries {len(first.payload)} bytes with timestamps, want 524")
        check(first.timestamps is not None, "RFC 7323 3.2",
              f"data segment without timestamps after agreement: {first}")
